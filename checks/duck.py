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
    """The DuckDB database a long-lived process keeps (a server worker), in which each check opens
    a cursor (half a millisecond) instead of a database of its own (duckdb.connect: some 16 ms).

    A cursor is a connection of its own: its temporary tables, registered views and local settings
    are its alone and go when it is released, so checks running side by side do not see each
    other. The global settings are the home's, set once: threads, memory limit, temporary folder,
    time zone, and insertion order not kept (a query whose rows must leave in order says ORDER BY).
    `threads` 1: each check runs on the thread that asked for it.

    A database that has served `renew` cursors is replaced by a new one, and closed once its last
    cursor is released: a database serving cursors one after another keeps some 7 KB of each
    (measured: a worker's memory grew 8% per thousand 3101 requests; renewed every 300, it stays
    flat)."""

    def __init__(self, threads: int = 1, memory_limit: str = "512MB", time_zone: str = "Asia/Shanghai",
                 renew: int = 300):
        import tempfile
        import threading

        self.temp_dir = tempfile.mkdtemp(prefix="claimcheck-home-")
        self._settings = (int(threads), memory_limit, time_zone)
        self.renew = renew
        self._lock = threading.Lock()
        self._opened = 0
        self._db = self._open()
        self._served = 0
        self.cursors = 0  # cursors handed out in all
        self._owner: dict[int, duckdb.DuckDBPyConnection] = {}  # id(cursor) -> its database
        self._retired: list[duckdb.DuckDBPyConnection] = []     # replaced, with cursors still out
        # tables made from the contracts alone (keep()), per database: {id(db): {key: (table, refs)}}
        self._kept: dict[int, dict] = {}
        self._keep_lock = threading.Lock()

    def _open(self) -> duckdb.DuckDBPyConnection:
        import os

        self._opened += 1
        folder = os.path.join(self.temp_dir, str(self._opened))  # a database's spill files its own
        threads, memory_limit, time_zone = self._settings
        db = connect(config={"temp_directory": folder})
        db.execute(f"SET threads = {threads}")
        db.execute(f"SET memory_limit = '{memory_limit}'")
        db.execute("SET preserve_insertion_order = false")
        db.execute(f"SET TimeZone = '{time_zone}'")
        return db

    @property
    def databases_opened(self) -> int:
        return self._opened

    @property
    def databases_open(self) -> int:
        """The current database and the replaced ones some cursor still holds."""
        return 1 + len(self._retired)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own to the home's database; give it back with release()."""
        with self._lock:
            if self._served >= self.renew:
                self._retire(self._db)
                self._db, self._served = self._open(), 0
            self._served += 1
            self.cursors += 1
            con = self._db.cursor()
            self._owner[id(con)] = self._db
        con.execute("SET enable_progress_bar = false")
        return con

    def keep(self, con: duckdb.DuckDBPyConnection, name: str, select: str, refs: tuple = ()) -> None:
        """Temporary view `name` on cursor `con` over the rows of `select`, a query of the contracts'
        own tables (a lookup keyed by a reference table's values, the names a contract knows
        institutions by): made into a table of the database by the first check that asks, read by
        every check after it. `refs` are the objects the rows come from besides the SQL text (the
        registered reference tables): a reload brings new ones, and so new tables; they are held
        as long as the database, so that no other object takes their identity.
        A 3101 call of 50 NIPT orders made these nine tables every time: some 40 ms of 250."""
        key = (select, tuple(id(r) for r in refs))
        with self._keep_lock:
            db = self._owner[id(con)]
            kept = self._kept.setdefault(id(db), {})
            if key not in kept:
                table = f"claimcheck_kept_{len(kept)}"
                con.execute(f"CREATE TABLE main.{table} AS {select}")
                kept[key] = (table, refs)
            table = kept[key][0]
        con.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM main.{table}")

    def release(self, con: duckdb.DuckDBPyConnection) -> None:
        """Close a cursor of cursor(); a replaced database whose last cursor this was is closed."""
        con.close()
        with self._lock:
            db = self._owner.pop(id(con), None)
            if db is not None and db is not self._db and not any(d is db for d in self._owner.values()):
                self._retired = [d for d in self._retired if d is not db]
                self._close(db)

    def _close(self, db) -> None:
        with self._keep_lock:
            self._kept.pop(id(db), None)
        db.close()

    def _retire(self, db) -> None:
        if any(d is db for d in self._owner.values()):
            self._retired.append(db)
        else:
            self._close(db)

    def close(self) -> None:
        import shutil

        with self._lock:
            for db in [self._db, *self._retired]:
                db.close()
            self._retired, self._owner, self._kept = [], {}, {}
        shutil.rmtree(self.temp_dir, ignore_errors=True)
