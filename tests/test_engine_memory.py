"""Memory: what DuckDB must hold while judging is what it can spill.

The candidate lines with their in-policy amount (`lines`) are a temporary table when judging. As a
view, a findings query that reads it twice (a rule, and in an anti-join the rule superseding it)
had DuckDB materialise it in memory, which it cannot spill: the hospital profile at 3M lines ran
out of the default 512MB and completes in it as a table (bench/README.md, "Memory"). The 3M run
is a bench; this test holds the engine to the decision on a small batch."""
from __future__ import annotations

from checks import check
from checks.engine.duckdb import run as duckdb_run
from conftest import line


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
