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


class Home:
    """One DuckDB database a long-lived process keeps (a server worker), in which each check opens
    a cursor (half a millisecond) instead of a database of its own (duckdb.connect: some 16 ms).

    A cursor is a connection of its own: its temporary tables, registered views and local settings
    are its alone and go when it closes, so checks running side by side on one home do not see each
    other. The global settings are the home's, set once here: threads, memory limit, temporary
    folder, time zone, and insertion order not kept (a query whose rows must leave in order says
    ORDER BY). `threads` 1: each check runs on the thread that asked for it."""

    def __init__(self, threads: int = 1, memory_limit: str = "512MB", time_zone: str = "Asia/Shanghai"):
        import tempfile
        import threading

        self.temp_dir = tempfile.mkdtemp(prefix="claimcheck-home-")
        self._db = connect(config={"temp_directory": self.temp_dir})
        self._db.execute(f"SET threads = {int(threads)}")
        self._db.execute(f"SET memory_limit = '{memory_limit}'")
        self._db.execute("SET preserve_insertion_order = false")
        self._db.execute(f"SET TimeZone = '{time_zone}'")
        self._lock = threading.Lock()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            con = self._db.cursor()
        con.execute("SET enable_progress_bar = false")
        return con

    def close(self) -> None:
        import shutil

        with self._lock:
            self._db.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)
