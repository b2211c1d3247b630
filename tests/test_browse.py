"""`claimcheck contracts list` and `claimcheck explain RULE_ID` make the contracts browsable."""
from __future__ import annotations


def test_list_shows_every_contract_rule_and_unencoded_item(run_cli):
    p = run_cli("contracts", "list")
    assert p.returncode == 0
    for text in ["jiangsu-nipt 1.0.0", "jiangsu-consumables 1.0.0", "jiangxi-rmc 1.0.0",
                 "fuzhou-nipt-subsidy 1.0.0", "fuzhou-nipt-subsidy 2.0.0", "jilin-art 1.0.0",
                 "JL-1-biopsy", "JS-9 ", "not encoded"]:
        assert text in p.stdout, text


def test_explain_gives_kind_parameters_dates_source_notes_examples(run_cli):
    p = run_cli("explain", "JL-PGT")
    assert p.returncode == 0
    out = p.stdout
    assert "kind       scope" in out and "icd_prefix" in out and "by: prefix" in out
    assert "2024-07-01 … open" in out
    assert "限夫妻一方为单基因病患者" in out            # the quoted words
    assert "note       以费用行主诊断" in out
    assert "example 3  fail — 仅女性不孕诊断" in out


def test_explain_a_rule_in_two_versions_shows_both(run_cli):
    p = run_cli("explain", "FZ-W")
    assert p.stdout.count("FZ-W — ") == 2 and "fuzhou-nipt-subsidy 1.0.0" in p.stdout and "2.0.0" in p.stdout


def test_explain_an_unknown_rule(run_cli):
    p = run_cli("explain", "JS-99")
    assert p.returncode == 2 and "no rule 'JS-99'" in p.stderr and "JS-4-NT" in p.stderr
