"""Golden batches: every sample_claims/<contract>-<version>.parquet with its .expected.csv beside it.

The expected findings are the generator's manifest of what it planted, written independently
of the checker; the checker must report exactly those (rule_id, mdtrt_id, feedetl_sn), no more,
and no line twice. Regenerate on purpose only (the command is in the test below).
"""
from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from checks import check
from checks.sample.generator import SCENARIOS, generate

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_claims"
CATALOGUE = {"sunshine_catalogue": str(ROOT / "contracts/jiangsu-consumables/sample_catalogue.csv"),
             "art_institutions": str(ROOT / "contracts/jilin-art/sample_art_institutions.csv")}
GOLDEN = sorted(p for p in SAMPLES.glob("*.parquet") if p.with_suffix(".expected.csv").exists())


def expected(path: Path) -> set[tuple[str, str, str]]:
    with open(path.with_suffix(".expected.csv"), encoding="utf-8") as fh:
        return {(r["rule_id"], r["mdtrt_id"], r["feedetl_sn"]) for r in csv.DictReader(fh)}


def test_every_contract_version_has_a_golden_batch():
    assert {p.stem for p in GOLDEN} == {k.replace("@", "-") for k in SCENARIOS}


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_findings_are_exactly_the_planted_ones(path):
    report = check([str(path)], tables=CATALOGUE)
    got = [(f.rule_id, f.mdtrt_id, f.feedetl_sn) for f in report.findings]
    assert set(got) == expected(path)
    lines = [(m, s) for _, m, s in got]
    assert len(lines) == len(set(lines)), "a line was reported twice"


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_each_planted_rule_fails_and_has_clean_lines_in_scope(path):
    report = check([str(path)], tables=CATALOGUE)
    planted = {r for r, _, _ in expected(path)}
    failing = {r.rule_id for r in report.rules if r.status == "fail"}
    assert failing == planted
    for r in report.rules:
        if r.status == "fail" and r.kind != "exclusion":  # an exclusion is about the co-billed lines only
            assert r.lines_checked > r.findings, f"{r.rule_id} has no clean line in scope"
    assert not [r.rule_id for r in report.rules if r.status == "error"]


def test_all_samples_together_cover_every_rule_of_every_contract(root):
    report = check([str(SAMPLES)], tables=CATALOGUE)
    by_rule = {}
    for r in report.rules:
        if r.contract_id != "data-quality":  # built in; its failing lines are hand-built (test_money)
            by_rule.setdefault(r.rule_id, set()).add(r.status)
    assert all("fail" in s for s in by_rule.values()), {k for k, s in by_rule.items() if "fail" not in s}
    assert {c["contract_id"] for c in report.contracts if c["lines_in_force"] and c["contract_id"] != "data-quality"} == {
        "jiangsu-nipt", "jiangsu-consumables", "jiangxi-rmc", "fuzhou-nipt-subsidy", "jilin-art"}
    assert {f.contract_id for f in report.findings} == {
        "jiangsu-nipt", "jiangsu-consumables", "jiangxi-rmc", "fuzhou-nipt-subsidy", "jilin-art"}


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_the_generator_reproduces_the_bundled_sample(path, tmp_path):
    """claimcheck sample sample_claims/X.parquet --scenario X@V --lines 3000 --planted sample_claims/X.expected.csv"""
    scenario = next(k for k in SCENARIOS if k.replace("@", "-") == path.stem)
    out = tmp_path / "again.parquet"
    generate(out, lines=3000, planted_path=tmp_path / "again.csv", scenarios=[scenario])
    assert pq.read_table(out).equals(pq.read_table(path))
    assert (tmp_path / "again.csv").read_text() == path.with_suffix(".expected.csv").read_text()
