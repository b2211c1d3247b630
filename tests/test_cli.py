"""The command line as a user runs it: exit codes, outputs, messages; never a traceback."""
from __future__ import annotations

import json

import pytest

from conftest import line

SAMPLE = "sample_claims/jiangsu-nipt-1.0.0.parquet"
CAT = "sunshine_catalogue=contracts/jiangsu-consumables/sample_catalogue.csv"
ART = "art_institutions=contracts/jilin-art/sample_art_institutions.csv"

RULE_KEYS = {"rule_id", "contract_id", "contract_version", "title", "kind", "severity", "status",
             "lines_checked", "findings", "amount", "source"}
VIOLATION_KEYS = {"rule_id", "mdtrt_id", "feedetl_sn", "psn_no", "fixmedins_code", "hilist_code",
                  "fee_ocur_time", "message", "expected", "actual", "amount"}


def test_check_the_sample_reports_findings_and_exits_1(run_cli, tmp_path):
    out = tmp_path / "r.json"
    p = run_cli("check", SAMPLE, "--json", out, "--table", CAT, "--table", ART)
    assert p.returncode == 1, p.stderr
    assert "JS-1-price" in p.stdout and "findings: 23" in p.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert {"contracts", "summary", "rules", "violations"} <= set(report)
    assert all(RULE_KEYS <= set(r) for r in report["rules"])
    assert all(VIOLATION_KEYS <= set(v) for v in report["violations"])
    assert set(report["rules"][0]["source"]) == {"document", "title", "section", "quote"}
    assert report["summary"]["findings"] == len(report["violations"]) == 23
    nipt = next(c for c in report["contracts"] if c["contract_id"] == "jiangsu-nipt")
    assert report["inputs"][0]["sha256"] and nipt["lines_in_force"] > 0


@pytest.mark.parametrize("fail_on,code", [("violation", 1), ("suspect", 1), ("data_quality", 1), ("never", 0)])
def test_fail_on(run_cli, fail_on, code):
    assert run_cli("check", SAMPLE, "--fail-on", fail_on, "--table", CAT, "--table", ART).returncode == code


def test_a_rule_that_could_not_run_exits_3_not_0(run_cli):
    """The consumables contract without its catalogue judged nothing of the consumable lines:
    a CI gate must not go green on that."""
    p = run_cli("check", SAMPLE, "--fail-on", "never")
    assert p.returncode == 3, p.stdout
    assert "CS-1@1.1.0 could not run" in p.stdout and "sunshine_catalogue" in p.stdout
    assert run_cli("check", SAMPLE, "--fail-on", "never", "--allow-incomplete").returncode == 0
    assert run_cli("check", SAMPLE, "--allow-incomplete").returncode == 1


def test_a_clean_batch_exits_0(run_cli, write):
    p = run_cli("check", write([line()]))
    assert p.returncode == 0 and "findings: 0" in p.stdout


def test_bad_input_exits_2_with_a_message(run_cli, write):
    p = run_cli("check", write([{k: v for k, v in line().items() if k != "hilist_code"}]))
    assert p.returncode == 2
    assert "column hilist_code: required column is missing" in p.stderr
    assert "Traceback" not in p.stderr + p.stdout


def test_bad_contract_exits_2_naming_the_line(run_cli, contracts_copy):
    path = contracts_copy / "jiangsu-nipt" / "1.0.0.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("kind: window", "kind: windw"), encoding="utf-8")
    p = run_cli("check", SAMPLE, "--contracts", contracts_copy)
    assert p.returncode == 2 and "1.0.0.yaml:" in p.stderr and "'windw' is unknown" in p.stderr
    assert "Traceback" not in p.stderr


def test_usage_errors_exit_2(run_cli):
    assert run_cli("check").returncode == 2
    assert run_cli("check", SAMPLE, "--fail-on", "sometimes").returncode == 2


def test_kinds_and_schema_commands(run_cli, root):
    p = run_cli("kinds")
    assert p.returncode == 0 and "== payment_limit ==" in p.stdout and "What it checks" in p.stdout
    p = run_cli("contracts", "schema")
    assert json.loads(p.stdout) == json.loads((root / "contracts/contract.schema.json").read_text(encoding="utf-8"))


def test_sample_command_writes_a_checkable_batch(run_cli, tmp_path):
    out, planted = tmp_path / "s.parquet", tmp_path / "s.csv"
    p = run_cli("sample", out, "--lines", "12000", "--seed", "7", "--planted", planted)
    assert p.returncode == 0, p.stderr
    n = len(planted.read_text().splitlines()) - 1
    assert run_cli("check", out, "--table", CAT, "--table", ART).returncode == 1 and n > 40
