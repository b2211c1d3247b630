"""The fields of a claim line that contracts may use, with the types each accepts.

Type families (what a Parquet column may be):
  code      — text or integer (integers are read as their decimal text: 310, '310')
  text      — text
  number    — integer (int8…int64, unsigned), floating point or decimal
  timestamp — timestamp (any unit, with or without zone) or date
  date      — date or timestamp
  boolean   — boolean
A column of Parquet type `null` (what pandas writes for a column of None) fits every family and
counts as absent, as does a column that is null on every line. Columns not listed here are
allowed and carried along; no rule reads them.

Derived fields (DERIVED) are computed by claimcheck from the line, in one place, and may be read
by contract conditions like any other field; a claim file cannot supply them.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    family: str
    required: bool
    zh: str
    pattern: str | None = None  # regular expression every non-null value must match


FIELDS: dict[str, Field] = {f.name: f for f in [
    # required
    Field("mdtrt_id", "code", True, "就诊ID"),
    Field("feedetl_sn", "code", True, "费用明细流水号"),
    Field("psn_no", "code", True, "人员编号"),
    Field("insutype", "code", True, "险种类型"),
    Field("med_type", "code", True, "医疗类别"),
    Field("mdtrtarea_admvs", "code", True, "就医地医保区划", r"\d{6}"),
    Field("fixmedins_code", "code", True, "定点医药机构编号"),
    Field("fixmedins_name", "text", True, "定点医药机构名称"),
    Field("fee_ocur_time", "timestamp", True, "费用发生时间"),
    Field("hilist_code", "code", True, "医保目录编码"),
    Field("hilist_name", "text", True, "医保目录名称"),
    Field("cnt", "number", True, "数量"),
    Field("pric", "number", True, "单价"),
    Field("det_item_fee_sumamt", "number", True, "明细项目费用总额"),
    # optional: a rule that needs one of these cannot judge a line where it is empty
    Field("setl_id", "code", False, "结算ID"),
    Field("insuplc_admdvs", "code", False, "参保地医保区划", r"\d{6}"),
    Field("gend", "code", False, "性别"),
    Field("brdy", "date", False, "出生日期"),
    Field("main_diag_code", "code", False, "主诊断编码"),
    Field("fetts", "code", False, "胎次"),
    Field("inscp_scp_amt", "number", False, "符合政策范围金额"),
    Field("preselfpay_amt", "number", False, "先行自付金额"),
    Field("overlmt_amt", "number", False, "超限价金额"),
    Field("fulamt_ownpay_amt", "number", False, "全自费金额"),
    Field("list_type", "code", False, "目录类别"),
    Field("chrgitm_lv", "code", False, "收费项目等级"),
    Field("refd_setl_flag", "code", False, "退费结算标志"),
    Field("price_class", "text", False, "医疗机构价格类别（三类/二类/一类/基层）"),
    Field("subsidy_amt", "number", False, "补助金额（财政补助，随费用行记载）"),
    Field("serum_risk", "text", False, "血清学筛查风险（1:N）", r"\d+(\.\d+)?:\d+(\.\d+)?"),
    Field("poverty_flag", "boolean", False, "建档立卡贫困人口标志"),
]}

REQUIRED = [f.name for f in FIELDS.values() if f.required]
OPTIONAL = [f.name for f in FIELDS.values() if not f.required]
KEYS = ("mdtrt_id", "feedetl_sn")  # a line's identity in a batch and in the ledger

# Derived by claimcheck (checks/claims/money.py); readable by conditions, never read from a file.
DERIVED: dict[str, Field] = {f.name: f for f in [
    Field("inpolicy_amt", "number", False,
          "政策范围内金额（含先行自付）：明细金额 − 全自费 − 超限价，与符合政策范围金额是否含先行自付无关"),
    Field("institution", "text", False,
          "机构（按合同的机构识别认定：编号对照表优先，其次规范名称与别名；都未匹配时为所印名称）"),
]}
# Derived after the candidate lines are kept (checks/engine/identity.py), so the scan cannot read them.
LATE = frozenset({"institution"})

# What a condition may name: the claim fields and the derived ones.
COLUMNS: dict[str, Field] = {**FIELDS, **DERIVED}

# DuckDB type every field is normalised to in the lines the rules run over.
SQL_TYPE = {"code": "VARCHAR", "text": "VARCHAR", "number": "DOUBLE",
            "timestamp": "TIMESTAMP", "date": "DATE", "boolean": "BOOLEAN"}
