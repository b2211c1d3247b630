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
    assert p.stdout.count("FZ-W — ") == 2 and "fuzhou-nipt-subsidy 1.1.0" in p.stdout and "2.1.0" in p.stdout


def test_explain_an_unknown_rule_offers_the_closest_ids_first(run_cli):
    p = run_cli("explain", "JS-99")
    assert p.returncode == 2 and "no rule 'JS-99'; did you mean 'JS-9'? valid: JS-9, " in p.stderr
    assert "(77 in all)" in p.stderr and "Traceback" not in p.stderr


def test_list_has_a_contract_version_column(run_cli):
    rows = [r.split() for r in run_cli("contracts", "list").stdout.splitlines() if r.startswith("  ")]
    fz2 = [r[0] for r in rows if r[1] == "FZ-2"]
    assert fz2 == ["fuzhou-nipt-subsidy@1.0.0", "fuzhou-nipt-subsidy@1.1.0", "fuzhou-nipt-subsidy@2.0.0",
                   "fuzhou-nipt-subsidy@2.1.0"]  # published versions stay listed beside their revisions
    assert ["jiangsu-nipt@1.0.0", "JS-9", "not", "encoded"] == next(r for r in rows if r[1] == "JS-9")[:4]


def test_explain_ignores_case(run_cli):
    p = run_cli("explain", "js-4-nt")
    assert p.returncode == 0 and p.stdout.startswith("JS-4-NT — ") and "address    jiangsu-nipt/JS-4-NT@1.1.0" in p.stdout  # the revision


def test_explain_one_version(run_cli):
    p = run_cli("explain", "FZ-2@2.0.0")
    assert p.returncode == 0 and p.stdout.count("FZ-2 — ") == 1
    assert "fuzhou-nipt-subsidy 2.0.0 (2022-01-01 … open)" in p.stdout and "1.0.0" not in p.stdout
    p = run_cli("explain", "Fuzhou-NIPT-Subsidy/fz-2@1.0.0")
    assert p.returncode == 0 and "address    fuzhou-nipt-subsidy/FZ-2@1.0.0" in p.stdout
    p = run_cli("explain", "FZ-2@9.9.9")
    assert p.returncode == 2
    assert ("FZ-2 has no version 9.9.9: it is in fuzhou-nipt-subsidy@1.0.0, fuzhou-nipt-subsidy@1.1.0, "
            "fuzhou-nipt-subsidy@2.0.0, fuzhou-nipt-subsidy@2.1.0") in p.stderr


def test_explain_a_rule_listed_as_not_encoded(run_cli):
    p = run_cli("explain", "JS-9")
    assert p.returncode == 0
    out = p.stdout
    assert out.startswith("JS-9 — 中选产前诊断机构不得擅自外送样本") and "not encoded" in out
    assert "reason     费用行不记载样本是否外送" in out
    assert "source     苏医保发〔2024〕59号 三、1" in out and "「中选的产前诊断机构" in out
    assert "1.1.0.yaml:" in out and "kind " not in out
