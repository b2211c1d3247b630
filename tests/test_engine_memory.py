"""Memory: what DuckDB must hold while judging is what it can spill.

The candidate lines with their in-policy amount (`lines`) are a temporary table when judging. As a
view, a findings query that reads it twice (a rule, and in an anti-join the rule superseding it)
had DuckDB materialise it in memory, which it cannot spill: the hospital profile at 3M lines ran
out of the default 512MB and completes in it as a table (bench/README.md, "Memory"). The 3M run
is a bench; this test holds the engine to the decision on a small batch."""
from __future__ import annotations

import pytest

from checks import check
from checks.engine.duckdb import run as duckdb_run
from conftest import ROOT, line


def test_the_lines_every_findings_query_reads_are_a_table_duckdb_can_spill(monkeypatch, write):
    statements = []
    real = duckdb_run.connect

    class Recording:
        def __init__(self, con):
            self._con = con

        def __getattr__(self, name):
            return getattr(self._con, name)

        def execute(self, sql, *args, **kwargs):
            statements.append(sql)
            return self._con.execute(sql, *args, **kwargs)

    monkeypatch.setattr(duckdb_run, "connect", lambda *a, **k: Recording(real(*a, **k)))
    report = check([str(write([line(1, price=520.0), line(2)]))])
    assert any(f.rule_id == "JS-1-price" for f in report.findings)
    made = [s.split(" AS ", 1)[0] for s in statements if s.startswith("CREATE TEMP") and " lines AS " in s]
    assert made == ["CREATE TEMP TABLE lines"], made


GOLDEN = sorted((ROOT / "sample_claims").glob("*.parquet"))


def _statements(monkeypatch) -> list[str]:
    statements = []
    real = duckdb_run.connect

    class Recording:
        def __init__(self, con):
            self._con = con

        def __getattr__(self, name):
            return getattr(self._con, name)

        def execute(self, sql, *args, **kwargs):
            statements.append(sql)
            return self._con.execute(sql, *args, **kwargs)

    monkeypatch.setattr(duckdb_run, "connect", lambda *a, **k: Recording(real(*a, **k)))
    return statements


@pytest.mark.parametrize("batch", GOLDEN, ids=lambda p: p.stem)
def test_a_large_batch_keeps_its_lines_compressed_and_finds_the_same(monkeypatch, batch, tmp_path):
    """From COMPRESS_AT lines, `lines` is written into a database file that compresses it
    (uncompressed it is some 450 bytes a line and outgrew 512MB at 3M lines of a NIPT lab); the
    findings, counts and what the ledger records are the same either way."""
    plain = check([str(batch)], cache=False, history=tmp_path / "plain.duckdb")
    statements = _statements(monkeypatch)
    monkeypatch.setattr(duckdb_run, "COMPRESS_AT", 0)
    spill = tmp_path / "spill"
    spill.mkdir()
    packed = check([str(batch)], cache=False, history=tmp_path / "packed.duckdb", temp_dir=str(spill))
    assert list(spill.iterdir()) == []   # the database file went with the spill folder
    assert any(s.startswith("ATTACH '") and s.endswith("lines.duckdb' AS claimcheck_work") for s in statements)
    assert any(s.startswith("CREATE TABLE claimcheck_work.lines AS") for s in statements)
    assert packed.table.equals(plain.table)
    stats = lambda r: [(x.rule_id, x.status, x.lines_checked, x.lines_not_judged, x.findings) for x in r.rules]  # noqa: E731
    assert stats(packed) == stats(plain)
    assert packed.history["recorded"] == plain.history["recorded"] > 0
