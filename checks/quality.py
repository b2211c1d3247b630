"""Built-in data-quality rules: checks of the claim data itself, run beside every contract.

They are not policy: their findings have severity `data_quality`, carry no money at stake, and
cite the national platform's field definitions. They run on the lines some contract rule reads,
in the contracts' jurisdictions.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from .contract.model import ContractVersion, Document, Rule, Source
from .kinds import KINDS

ID, VERSION = "data-quality", "1.0.0"
DOC = Document("NHSA", "国家医疗保障信息平台 定点医药机构接口规范（费用明细上传 2204 / 结算 2207）",
               "医疗保障信息平台接口规范：费用明细字段", "国家医疗保障局", None, None)


def quality_contract(contracts) -> ContractVersion:
    regions = sorted({r for c in contracts for r in c.regions}) or ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
    v = ContractVersion(
        id=ID, version=VERSION, title="费用明细数据质量（claimcheck 内置）", title_en="Claim data quality (built in)",
        regions=regions, jurisdiction="所有已加载合同的辖区", effective_from=dt.date(1900, 1, 1), effective_to=None,
        file=Path("(built in)"), documents={"NHSA": DOC}, code_sets={}, tables={}, rules=[], not_encoded=[],
        notes=["内置数据质量规则，不来自政策文件；发现不计入政策违规金额。"])
    rule = Rule(
        id="DQ-MONEY", title="费用构成不平衡：明细金额 ≠ 全自费 + 超限价 + 符合政策范围金额（含或不含先行自付）",
        title_en="A line's money parts add up under neither convention", kind="money_identity",
        severity="data_quality",
        source=Source(DOC, "费用明细字段 det_item_fee_sumamt、fulamt_ownpay_amt、overlmt_amt、preselfpay_amt、inscp_scp_amt",
                      "明细项目费用总额 = 全自费金额 + 超限价金额 + 先行自付金额 + 符合政策范围金额（部分系统的符合政策范围金额已含先行自付）"),
        params={}, notes=["政策范围内金额 inpolicy_amt 无法确定的行不由支付标准、先行自付规则判断，单独计数。"])
    rule.impl = KINDS["money_identity"](rule, v, None)
    v.rules.append(rule)
    return v
