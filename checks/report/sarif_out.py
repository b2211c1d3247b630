"""SARIF 2.1.0: one run, a reportingDescriptor per rule, a result per finding.

Claim files are binary, so a result's physical location names the file only and its logical
location names the row and keys ("row 2960 mdtrt_id=… feedetl_sn=…"). Waived findings are
results with an accepted external suppression carrying the waiver's reason. Results are written
by DuckDB from the findings table (checks/report/stream.py).
"""
from __future__ import annotations

import json
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc

from .. import __version__
from .said import finding_words
from .stream import findings_db, json_elements, per_rule
from .target import target

LEVEL = {"violation": "error", "suspect": "warning", "data_quality": "note"}


def _uri(path: str) -> str:
    return quote(path.replace("\\", "/"))


def descriptors(report) -> tuple[list[dict], dict]:
    rules, index = [], {}
    for r in report.rules:
        key = (r.contract_id, r.contract_version, r.rule_id)
        if key in index:
            continue
        index[key] = len(rules)
        s = r.source
        rules.append({
            "id": f"{r.rule_id}@{r.contract_version}", "name": r.kind,
            "shortDescription": {"text": r.title},
            "fullDescription": {"text": f"{r.title_en}. {s['document']} {s['section']}: 「{s['quote']}」"},
            "help": {"text": f"{s['document']} {s['title']} {s['section']}\n{s['quote']}"},
            "defaultConfiguration": {"level": LEVEL[r.severity]},
            "properties": {"contract": r.contract_id, "contract_version": r.contract_version, "rule_id": r.rule_id,
                           "kind": r.kind, "severity": r.severity, "status": r.status,
                           "lines_checked": r.lines_checked, "findings": r.findings, "amount": r.amount},
        })
    return rules, index


def _results_sql(waived: bool) -> str:
    level = "CASE f.severity " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in LEVEL.items()) + " END"
    key = "f.contract_id || '/' || f.contract_version || '/' || f.rule_id"
    cols = [
        "f.rule_id || '@' || f.contract_version AS \"ruleId\"", "f.rule_index AS \"ruleIndex\"", f"{level} AS level",
        "struct_pack(text := f.words) AS message",
        "[struct_pack(\"physicalLocation\" := struct_pack(\"artifactLocation\" := struct_pack(uri := f.uri)), "
        "\"logicalLocations\" := [struct_pack(name := 'row ' || f.row, kind := 'element', "
        "\"fullyQualifiedName\" := f.file || '#row=' || f.row || ';mdtrt_id=' || f.mdtrt_id || ';feedetl_sn=' "
        "|| f.feedetl_sn)])] AS locations",
        f"struct_pack(\"claimLine/v1\" := sha256({key} || '|' || f.mdtrt_id || '|' || f.feedetl_sn)) "
        "AS \"partialFingerprints\"",
        "struct_pack(mdtrt_id := f.mdtrt_id, feedetl_sn := f.feedetl_sn, psn_no := f.psn_no, "
        "fixmedins_code := f.fixmedins_code, hilist_code := f.hilist_code, fee_ocur_time := f.fee_ocur_time, "
        "expected := f.expected, actual := f.actual, amount := f.amount, citation := f.citation) AS properties",
    ]
    if waived:
        cols.append("[struct_pack(kind := 'external', status := 'accepted', justification := "
                    "(f.waiver->>'id') || ': ' || (f.waiver->>'reason') || ' (' || (f.waiver->>'owner') || "
                    "', until ' || (f.waiver->>'expires') || ')')] AS suppressions")
    return ", ".join(cols)


def write_sarif(report, path, lang: str = "zh") -> None:
    rules, index = descriptors(report)
    head = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0"}
    run_head = {
        "tool": {"driver": {"name": "claimcheck", "version": __version__, "rules": rules}},
        "artifacts": [{"location": {"uri": _uri(i["file"])}, "hashes": {"sha-256": i["sha256"]}}
                      for i in report.inputs],
        "columnKind": "unicodeCodePoints",
    }
    dump = lambda v: json.dumps(v, ensure_ascii=False, allow_nan=False).encode("utf-8")  # noqa: E731
    files = sorted({i["file"] for i in report.inputs})
    t = report.table
    rule_index = per_rule(t, index, pa.int32())
    uri = pc.take(pa.array([_uri(x) for x in files], pa.string()),
                  pc.index_in(pc.cast(t["file"], pa.string()), value_set=pa.array(files, pa.string())))
    if isinstance(uri, pa.ChunkedArray):
        uri = uri.combine_chunks() if uri.num_chunks else pa.array([], pa.string())
    with target(path, ".sarif") as tmp, open(tmp, "wb") as out, findings_db(
            t, rule_index=rule_index, uri=uri, words=finding_words(t, report.rules, lang)) as db:
        out.write(dump(head)[:-1] + b', "runs": [' + dump(run_head)[:-1] + b', "results": [')
        n = json_elements(db, out, _results_sql(False), "NOT f.waived")
        json_elements(db, out, _results_sql(True), "f.waived", first=n == 0)
        out.write(b"\n]}]}\n")
