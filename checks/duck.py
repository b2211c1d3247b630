"""Every DuckDB connection claimcheck opens, in one place.

DuckDB draws its own progress bar on standard output for a query that runs more than two seconds;
it would mix with a report written to standard output (`--json -`) and with what a program
calling the Python API prints. claimcheck has its own progress line (progress.py), so DuckDB's is
off on every connection, whoever calls.
"""
from __future__ import annotations

import duckdb


def connect(database: str = ":memory:", config: dict | None = None, **kwargs) -> duckdb.DuckDBPyConnection:
    """duckdb.connect with the progress bar off (a session setting: DuckDB refuses it in `config`)."""
    con = duckdb.connect(database, config=config or {}, **kwargs)
    con.execute("SET enable_progress_bar = false")
    return con
