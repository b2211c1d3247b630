"""The DuckDB engine: the shared plan (engine/plan.py) run on one embedded DuckDB connection.

This module owns what is DuckDB's alone: the connection and its settings (a memory limit beyond
which sorts, joins and aggregates spill to a temporary folder; threads; insertion order not kept;
China time), attaching the batch and the history ledger, and cleaning up. What the SQL is, and in
which order it runs, is the plan's.
"""
from __future__ import annotations

import shutil
import tempfile
import time

import duckdb

from ...duck import connect as quiet_connect
from ...kinds._common import lit
from ..plan import EngineResult, run_on

MEMORY_LIMIT = "512MB"  # DuckDB spills beyond this (to temp_dir): memory stays flat as batches grow
# from this many lines the candidate lines are kept compressed (engine/plan.py, _attach_work):
# compressing costs about a second a million lines, repaid once the uncompressed table would spill
COMPRESS_AT = 1_000_000


def connect(threads: int | None, memory_limit: str | None, temp_dir: str) -> duckdb.DuckDBPyConnection:
    con = quiet_connect(config={"temp_directory": temp_dir})
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET memory_limit = {lit(memory_limit or MEMORY_LIMIT)}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    return con


def run(contracts, batch, threads: int | None = None, ledger=None, record: bool = False, judge: bool = True,
        source: str = "check", memory_limit: str | None = None, temp_dir: str | None = None,
        progress=None, cache=None, home=None) -> EngineResult:
    """Judge `batch`; with a `ledger`, frequency rules also count its earlier lines, and with
    `record` the batch's counted lines are recorded in it (one transaction). With `home` (a
    checks.duck.Home) the check runs on a cursor of that database, with its settings."""
    from ...quality import quality_contract

    t0 = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix="claimcheck-", dir=temp_dir) if home is None else None
    con = connect(threads, memory_limit, tmp) if home is None else home.cursor()
    try:
        batch.attach(con)
        if ledger is not None:
            ledger.attach(con)
        every = list(contracts) + ([quality_contract(contracts)] if judge else [])
        return run_on(con, every, batch, ledger, record, judge, source, t0, progress, cache,
                      compress=home is None and batch.lines >= COMPRESS_AT, spool_dir=temp_dir,
                      keep=home.keep if home is not None else None)
    finally:
        if ledger is not None:
            ledger.detach()
        if home is None:
            con.close()
        else:
            home.release(con)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
