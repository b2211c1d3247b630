"""Findings in the result shape of the national platform's audit interfaces (3101 事前 / 3102 事中).

Field mapping (ours; the interface documents name the fields, the values below are our choices):

| output field | from |
| --- | --- |
| jr_id | a stable id: sha1 of contract, version, rule and line identity (first 32 hex) |
| rule_id | contract_id/rule_id, e.g. jiangsu-nipt/JS-1-price |
| rule_name | the rule's Chinese title |
| vola_cont | the finding's message (违规内容) |
| vola_amt | money at stake (元) |
| vola_amt_stas | "1" when an amount is stated (vola_amt > 0), "0" otherwise |
| sev_deg | "1" 明确违规 (violation), "2" 可疑 (suspect) |
| vola_evid | document number, section and the quoted words |
| vola_bhvr_type | from the rule kind: 超标准收费, 超限定范围, 超时间范围, 超医疗类别, 超频次, 重复收费, 超支付标准, 先行自付比例不符, 不符合支付条件 |
| patn_id, mdtrt_id | psn_no, mdtrt_id |
| judge_result_detail_dlist | the lines: vola_item_type "1" the violating line; "2" a line involved (the earlier payment of a frequency finding) |

Data-quality findings (severity data_quality) are not audit results and are left out. The list is
written by DuckDB from the findings table (checks/report/stream.py).
"""
from __future__ import annotations


import pyarrow as pa

from .said import finding_words
from .stream import findings_db, json_elements, per_rule
from .target import target

BEHAVIOUR = {"ceiling": "超标准收费", "scope": "超限定范围", "window": "超时间范围", "care_setting": "超医疗类别",
             "frequency": "超频次", "exclusion": "重复收费", "payment_limit": "超支付标准",
             "selfpay": "先行自付比例不符", "eligibility": "不符合支付条件"}
SEVERITY = {"violation": "1", "suspect": "2"}


def _columns() -> str:
    jr = ("substr(sha1(f.contract_id || '|' || f.contract_version || '|' || f.rule_id || '|' || f.mdtrt_id "
          "|| '|' || f.feedetl_sn), 1, 32)")
    sev = "CASE f.severity " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in SEVERITY.items()) + " END"
    line1 = (f"struct_pack(jr_detl_id := {jr} || '-1', vola_item_type := '1', mdtrt_id := f.mdtrt_id, "
             "feedetl_sn := f.feedetl_sn, hilist_code := f.hilist_code, fixmedins_code := f.fixmedins_code, "
             "fee_ocur_time := f.fee_ocur_time, vola_amt := f.amount)")
    line2 = (f"struct_pack(jr_detl_id := {jr} || '-2', vola_item_type := '2', mdtrt_id := f.related->>'mdtrt_id', "
             "feedetl_sn := f.related->>'feedetl_sn', hilist_code := f.hilist_code, "
             "fixmedins_code := f.related->>'fixmedins_code', fee_ocur_time := f.related->>'fee_ocur_time', "
             "vola_amt := CAST(0 AS DOUBLE))")
    return ", ".join([
        f"{jr} AS jr_id", "f.contract_id || '/' || f.rule_id AS rule_id", "f.rule_name", "f.words AS vola_cont",
        "f.amount AS vola_amt", "CASE WHEN f.amount > 0 THEN '1' ELSE '0' END AS vola_amt_stas",
        f"{sev} AS sev_deg", "f.evid AS vola_evid", "f.behaviour AS vola_bhvr_type", "f.psn_no AS patn_id",
        "f.mdtrt_id", f"CASE WHEN f.related IS NULL THEN [{line1}] ELSE [{line1}, {line2}] END "
        "AS judge_result_detail_dlist"])


def write_nhsa(report, path, lang: str = "zh") -> None:
    rules = {(r.contract_id, r.contract_version, r.rule_id): r for r in report.rules}
    t = report.table
    extra = {
        "rule_name": per_rule(t, {k: r.title for k, r in rules.items()}, pa.string()),
        "evid": per_rule(t, {k: f"{r.source['document']} {r.source['section']}：{r.source['quote']}"
                             for k, r in rules.items()}, pa.string()),
        "words": finding_words(t, report.rules, lang),  # 违规内容 in words, never a condition
        "behaviour": per_rule(t, {k: BEHAVIOUR.get(r.kind, "数据质量") for k, r in rules.items()}, pa.string()),
    }
    with target(path, ".json") as tmp, open(tmp, "wb") as out, findings_db(t, **extra) as db:
        out.write(b'{"output": {"result": [')
        n = json_elements(db, out, _columns(), "NOT f.waived AND f.severity <> 'data_quality'")
        out.write(b"\n]}}\n" if n else b"]}}\n")
