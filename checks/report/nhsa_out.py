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
"""
from __future__ import annotations

import hashlib
import json

BEHAVIOUR = {"ceiling": "超标准收费", "scope": "超限定范围", "window": "超时间范围", "care_setting": "超医疗类别",
             "frequency": "超频次", "exclusion": "重复收费", "payment_limit": "超支付标准",
             "selfpay": "先行自付比例不符", "eligibility": "不符合支付条件"}
SEVERITY = {"violation": "1", "suspect": "2"}


def nhsa_result(report) -> dict:
    rules = {(r.contract_id, r.contract_version, r.rule_id): r for r in report.rules}
    out = []
    for f in report.findings:
        r = rules[(f.contract_id, f.contract_version, f.rule_id)]
        jr = hashlib.sha1(f"{f.contract_id}|{f.contract_version}|{f.rule_id}|{f.mdtrt_id}|{f.feedetl_sn}"
                          .encode()).hexdigest()[:32]
        lines = [{"jr_detl_id": f"{jr}-1", "vola_item_type": "1", "mdtrt_id": f.mdtrt_id, "feedetl_sn": f.feedetl_sn,
                  "hilist_code": f.hilist_code, "fixmedins_code": f.fixmedins_code, "fee_ocur_time": f.fee_ocur_time,
                  "vola_amt": f.amount}]
        if f.related:
            rel = f.related
            lines.append({"jr_detl_id": f"{jr}-2", "vola_item_type": "2", "mdtrt_id": rel.get("mdtrt_id"),
                          "feedetl_sn": rel.get("feedetl_sn"), "hilist_code": f.hilist_code,
                          "fixmedins_code": rel.get("fixmedins_code"), "fee_ocur_time": rel.get("fee_ocur_time"),
                          "vola_amt": 0})
        s = r.source
        out.append({
            "jr_id": jr, "rule_id": f"{f.contract_id}/{f.rule_id}", "rule_name": r.title, "vola_cont": f.message,
            "vola_amt": f.amount, "vola_amt_stas": "1" if f.amount > 0 else "0", "sev_deg": SEVERITY[f.severity],
            "vola_evid": f"{s['document']} {s['section']}：{s['quote']}", "vola_bhvr_type": BEHAVIOUR[r.kind],
            "patn_id": f.psn_no, "mdtrt_id": f.mdtrt_id, "judge_result_detail_dlist": lines,
        })
    return {"output": {"result": out}}


def write_nhsa(report, path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(nhsa_result(report), fh, ensure_ascii=False, indent=1)
