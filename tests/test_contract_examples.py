"""Every rule of every bundled contract passes its own examples (one test per rule), and
`claimcheck contracts test` fails when an example is wrong or missing."""
from __future__ import annotations

import pytest

from checks.contract import load_contracts
from checks.contract.examples import test_version as run_examples

from conftest import ROOT

VERSIONS = load_contracts(ROOT / "contracts", use_samples=True)
OUTCOMES = {(o.contract, o.version, o.rule_id): o for v in VERSIONS for o in run_examples(v)}


@pytest.mark.parametrize("key", sorted(OUTCOMES), ids=["/".join(k) for k in sorted(OUTCOMES)])
def test_rule_passes_its_examples(key):
    o = OUTCOMES[key]
    assert o.ok, o.problems
    assert o.examples >= 2


def test_contracts_test_command_passes(run_cli):
    p = run_cli("contracts", "test")
    assert p.returncode == 0 and "all passed" in p.stdout, p.stdout + p.stderr


def test_a_wrong_example_fails_the_run(run_cli, contracts_copy):
    path = contracts_copy / "jiangsu-nipt" / "1.0.0.yaml"
    text = path.read_text(encoding="utf-8")
    old = "- {hilist_code: 250700010-b, pric: 60.01, inscp_scp_amt: 54, preselfpay_amt: 6}"
    assert text.count(old) == 1
    path.write_text(text.replace(old, old.replace("60.01", "59.99")), encoding="utf-8")
    p = run_cli("contracts", "test", "--contracts", contracts_copy)
    assert p.returncode == 1
    assert "FAIL: jiangsu-nipt 1.0.0 JS-4 " in p.stdout and "expected fail, got pass" in p.stdout


def test_a_rule_without_a_failing_example_fails_the_run(run_cli, contracts_copy):
    path = contracts_copy / "jiangxi-rmc" / "1.0.0.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("      - {verdict: fail, note: 执行前一天, lines: [{hilist_code: QYLS00147, pric: 5578.56, "
                        "fee_ocur_time: '2025-09-29 16:00:00'}]}\n", "")
    path.write_text(text, encoding="utf-8")
    p = run_cli("contracts", "test", "--contracts", contracts_copy)
    assert p.returncode == 1 and "JX-W" in p.stdout and "no example that should fail" in p.stdout


def test_an_example_with_an_unknown_column_is_a_contract_error(run_cli, contracts_copy):
    path = contracts_copy / "jilin-art" / "1.0.0.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{med_type: \"21\"}", "{med_typ: \"21\"}"),
                    encoding="utf-8")
    p = run_cli("contracts", "test", "--contracts", contracts_copy)
    assert p.returncode == 2 and "unknown claim column 'med_typ'" in p.stderr
