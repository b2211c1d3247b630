"""SARIF 2.1.0: one run, a reportingDescriptor per rule, a result per finding.

Claim files are binary, so a result's physical location names the file only and its logical
location names the row and keys ("row 2960 mdtrt_id=… feedetl_sn=…"). Waived findings are
results with an accepted external suppression carrying the waiver's reason.
"""
from __future__ import annotations

import hashlib
import json
from urllib.parse import quote

from .. import __version__

LEVEL = {"violation": "error", "suspect": "warning"}


def _uri(path: str) -> str:
    return quote(path.replace("\\", "/"))


def sarif(report) -> dict:
    rules, index = [], {}
    for r in report.rules:
        key = f"{r.contract_id}/{r.contract_version}/{r.rule_id}"
        if key in index:
            continue
        index[key] = len(rules)
        s = r.source
        rules.append({
            "id": r.rule_id, "name": r.kind,
            "shortDescription": {"text": r.title},
            "fullDescription": {"text": f"{r.title_en}. {s['document']} {s['section']}: 「{s['quote']}」"},
            "help": {"text": f"{s['document']} {s['title']} {s['section']}\n{s['quote']}"},
            "defaultConfiguration": {"level": LEVEL[r.severity]},
            "properties": {"contract": r.contract_id, "contract_version": r.contract_version, "kind": r.kind,
                           "severity": r.severity, "status": r.status, "lines_checked": r.lines_checked,
                           "findings": r.findings, "amount": r.amount},
        })

    def result(f, waived: bool) -> dict:
        key = f"{f.contract_id}/{f.contract_version}/{f.rule_id}"
        out = {
            "ruleId": f.rule_id, "ruleIndex": index[key], "level": LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": _uri(f.file)}},
                "logicalLocations": [{"name": f"row {f.row}", "kind": "element",
                                      "fullyQualifiedName": f"{f.file}#row={f.row};mdtrt_id={f.mdtrt_id};"
                                                            f"feedetl_sn={f.feedetl_sn}"}],
            }],
            "partialFingerprints": {"claimLine/v1": hashlib.sha256(
                f"{key}|{f.mdtrt_id}|{f.feedetl_sn}".encode()).hexdigest()},
            "properties": {"mdtrt_id": f.mdtrt_id, "feedetl_sn": f.feedetl_sn, "psn_no": f.psn_no,
                           "fixmedins_code": f.fixmedins_code, "hilist_code": f.hilist_code,
                           "fee_ocur_time": f.fee_ocur_time, "expected": f.expected, "actual": f.actual,
                           "amount": f.amount, "citation": f.citation},
        }
        if waived:
            w = f.waiver
            out["suppressions"] = [{"kind": "external", "status": "accepted",
                                    "justification": f"{w['id']}: {w['reason']} ({w['owner']}, until {w['expires']})"}]
        return out

    results = [result(f, False) for f in report.findings] + [result(f, True) for f in report.waived]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "claimcheck", "version": __version__, "rules": rules}},
            "artifacts": [{"location": {"uri": _uri(i["file"])}, "hashes": {"sha-256": i["sha256"]}}
                          for i in report.inputs],
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }


def write_sarif(report, path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(sarif(report), fh, ensure_ascii=False, indent=1)
