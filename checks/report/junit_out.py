"""JUnit XML: one testsuite per contract version, one testcase per rule.

A rule with findings is a failure (counts, money, the first findings); a rule that could not run
is an error; a rule with no line in scope is skipped; waived findings are reported in system-out.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

SHOW = 20


def write_junit(report, path) -> None:
    root = ET.Element("testsuites", name="claimcheck")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    suites: dict[tuple, ET.Element] = {}
    for r in report.rules:
        key = (r.contract_id, r.contract_version)
        suite = suites.get(key)
        if suite is None:
            suite = suites[key] = ET.SubElement(root, "testsuite", name=f"{r.contract_id} {r.contract_version}",
                                                tests="0", failures="0", errors="0", skipped="0")
        case = ET.SubElement(suite, "testcase", classname=f"{r.contract_id}.{r.contract_version}",
                             name=f"{r.rule_id} {r.title}", time="0")
        counter = None
        if r.status == "fail":
            counter = "failures"
            mine = [f for f in report.findings if f.rule_id == r.rule_id and f.contract_version == r.contract_version
                    and f.contract_id == r.contract_id][:SHOW]
            el = ET.SubElement(case, "failure", type=r.severity,
                               message=f"{r.findings} finding(s), {r.amount:.2f} yuan at stake ({r.source['document']} "
                                       f"{r.source['section']})")
            el.text = "\n".join(f"{f.file} row {f.row} mdtrt_id={f.mdtrt_id} feedetl_sn={f.feedetl_sn}: {f.message}"
                                for f in mine) + (f"\n… {r.findings - len(mine)} more in the full report"
                                                  if r.findings > len(mine) else "")
        elif r.status == "error":
            counter = "errors"
            ET.SubElement(case, "error", type="error", message=f"could not run: {r.reason}")
        elif r.status == "not_applicable":
            counter = "skipped"
            ET.SubElement(case, "skipped", message=r.reason or "no line in scope")
        if r.waived:
            ET.SubElement(case, "system-out").text = f"{r.waived} finding(s) waived"
        for el in (suite,):
            el.set("tests", str(int(el.get("tests")) + 1))
            if counter:
                el.set(counter, str(int(el.get(counter)) + 1))
        totals["tests"] += 1
        if counter:
            totals[counter] += 1
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
