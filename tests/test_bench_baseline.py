"""The benchmarks' baseline (bench/handwritten.py: every bundled contract's rules written by hand
as DuckDB SQL, bench/handsql/) finds exactly what claimcheck finds.

bench_profiles.py prints claimcheck's time beside the hand-written statement's on the same batch;
the ratio means something only while both find the same lines. A rule changed in a contract and
not in its hand-written query fails here."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from checks import check

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import handwritten  # noqa: E402

GOLDEN = sorted(p for p in (ROOT / "sample_claims").glob("*.parquet") if p.with_suffix(".expected.csv").exists())
TABLES = {k: str(v) for k, v in handwritten.TABLES.items()}


def test_every_bundled_contract_has_hand_written_rules():
    bundled = {p.name for p in (ROOT / "contracts").iterdir() if p.is_dir()}
    assert set(handwritten.written()) == bundled


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_the_hand_written_rules_find_the_lines_claimcheck_finds(path):
    report = check([str(path)], tables=TABLES)
    ours = Counter((f.rule_id, f.mdtrt_id, f.feedetl_sn) for f in report.findings if f.severity != "data_quality")
    hand = Counter(handwritten.run(str(path), handwritten.written(), handwritten.TABLES))
    assert ours, "the golden batch draws findings"
    assert hand == ours, {"only claimcheck": sorted(ours - hand)[:5], "only hand-written": sorted(hand - ours)[:5]}
