"""JUnit XML: one testsuite per contract version, one testcase per rule.

A rule with findings is a failure (counts, money, the first findings); a rule that could not run
is an error; a rule with no line in scope is skipped; waived findings and lines that could not be
judged are reported in system-out. Every text is made XML-safe (checks/report/safe.py), so the
file is well-formed whatever the claims hold.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pyarrow as pa
import pyarrow.compute as pc

from .safe import xml
from .said import with_words
from .target import target

SHOW = 20


def _first_findings(report, lang: str) -> dict[tuple, list[tuple]]:
    """The first SHOW active findings of every rule, in report order (no sort over the table)."""
    t = report.active
    out: dict[tuple, list[tuple]] = {}
    if t.num_rows == 0:
        return out
    key = pc.binary_join_element_wise(*(pc.cast(t[c], pa.string()) for c in ("contract_id", "contract_version",
                                                                             "rule_id")), "\x1f")
    for k in pc.unique(key).to_pylist():
        rows = pc.indices_nonzero(pc.equal(key, k)).slice(0, SHOW)
        part = with_words(t.take(rows), report.rules, lang)
        part = part.select(["file", "row", "mdtrt_id", "feedetl_sn", "message"]).to_pylist()
        out[tuple(k.split("\x1f"))] = [(r["file"], r["row"], r["mdtrt_id"], r["feedetl_sn"], r["message"]) for r in part]
    return out


def write_junit(report, path, lang: str = "zh") -> None:
    first = _first_findings(report, lang)
    root = ET.Element("testsuites", name="claimcheck")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    suites: dict[tuple, ET.Element] = {}
    for r in report.rules:
        key = (r.contract_id, r.contract_version)
        suite = suites.get(key)
        if suite is None:
            suite = suites[key] = ET.SubElement(root, "testsuite", name=xml(f"{r.contract_id} {r.contract_version}"),
                                                tests="0", failures="0", errors="0", skipped="0")
        case = ET.SubElement(suite, "testcase", classname=xml(f"{r.contract_id}.{r.contract_version}"),
                             name=xml(f"{r.rule_id}@{r.contract_version} {r.title}"), time="0")
        counter = None
        if r.status == "fail":
            counter = "failures"
            mine = first.get((r.contract_id, r.contract_version, r.rule_id), [])
            el = ET.SubElement(case, "failure", type=r.severity,
                               message=xml(f"{r.findings} finding(s), {r.amount:.2f} yuan at stake "
                                           f"({r.source['document']} {r.source['section']})"))
            el.text = xml("\n".join(f"{f} row {row} mdtrt_id={m} feedetl_sn={s}: {msg}"
                                    for f, row, m, s, msg in mine)
                          + (f"\n… {r.findings - len(mine)} more in the full report" if r.findings > len(mine) else ""))
        elif r.status == "error":
            counter = "errors"
            ET.SubElement(case, "error", type="error", message=xml(f"could not run: {r.reason}"))
        elif r.status == "not_applicable":
            counter = "skipped"
            ET.SubElement(case, "skipped", message=xml(r.reason or "no line in scope"))
        notes = []
        if r.waived:
            notes.append(f"{r.waived} finding(s) waived")
        if r.lines_not_judged and r.status != "error":
            notes.append(r.reason or f"{r.lines_not_judged} lines not judged")
        if notes:
            ET.SubElement(case, "system-out").text = xml("\n".join(notes))
        suite.set("tests", str(int(suite.get("tests")) + 1))
        if counter:
            suite.set(counter, str(int(suite.get(counter)) + 1))
        totals["tests"] += 1
        if counter:
            totals[counter] += 1
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    with target(path, ".xml") as tmp:
        ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
