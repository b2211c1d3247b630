"""Golden batches: every sample_claims/<name>.parquet with <name>.expected.csv beside it.

The expected findings are the generator's manifest of what it planted, written independently
of the checker; the checker must report exactly those (rule_id, mdtrt_id, feedetl_sn), no more.
Regenerate on purpose only: claimcheck sample sample_claims/<name>.parquet --planted <name>.expected.csv
"""
from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from checks import check
from checks.sample.generator import generate

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = sorted(p for p in (ROOT / "sample_claims").glob("*.parquet") if p.with_suffix(".expected.csv").exists())


def expected(path: Path) -> set[tuple[str, str, str]]:
    with open(path.with_suffix(".expected.csv"), encoding="utf-8") as fh:
        return {(r["rule_id"], r["mdtrt_id"], r["feedetl_sn"]) for r in csv.DictReader(fh)}


def test_there_is_a_golden_batch():
    assert GOLDEN


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_findings_are_exactly_the_planted_ones(path):
    report = check([str(path)])
    got = {(f.rule_id, f.mdtrt_id, f.feedetl_sn) for f in report.findings}
    assert got == expected(path)
    assert len(report.findings) == len(got), "a finding was reported twice"


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_every_rule_fails_on_the_sample_and_passes_elsewhere(path):
    report = check([str(path)])
    planted_rules = {r for r, _, _ in expected(path)}
    for r in report.rules:
        assert (r.status == "fail") == (r.rule_id in planted_rules), r.rule_id
        assert r.lines_checked > r.findings, f"{r.rule_id} has no clean line in scope"


def test_the_generator_reproduces_the_bundled_sample(tmp_path):
    path = ROOT / "sample_claims" / "jiangsu_nipt_2025.parquet"
    out = tmp_path / "again.parquet"
    generate(out, planted_path=tmp_path / "again.csv")
    assert pq.read_table(out).equals(pq.read_table(path))
    assert (tmp_path / "again.csv").read_text() == path.with_suffix(".expected.csv").read_text()
