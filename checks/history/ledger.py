"""An embedded DuckDB ledger of the lines that frequency-limited rules count.

The ledger is attached to the engine's own DuckDB connection as `hist`, so one lock covers the
whole check: reading the earlier lines, judging the batch, recording it. A second writer waits
(`wait` seconds) and then fails with a clear message; `read_only` (dry runs, stats) can share with
other readers but not with a writer. Recording is one transaction: a process killed part-way
leaves the ledger as it was.

Tables: `meta` (schema_version, created_at), `batches` (one row per recorded batch: seq, id,
time, files, counts), `lines` (every claim field, plus batch_seq, source_file, source_row and
content_hash). A line's identity is (mdtrt_id, feedetl_sn); a batch replaces the lines whose
identity it carries, keeping their batch_seq, so re-checking a batch never counts it twice.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import time
import uuid
from pathlib import Path

import duckdb

from .. import duck
from ..claims.fields import FIELDS, SQL_TYPE
from ..errors import ClaimcheckError
from ..paths import library_path_or_same, shown

SCHEMA_VERSION = 2
ALIAS = "hist"
LINE_COLUMNS = [f"{name} {SQL_TYPE[f.family]}" for name, f in FIELDS.items()]
HASHED = sorted(FIELDS)  # content hash: every claim field, in a fixed order


class LedgerError(ClaimcheckError):
    pass


def _create_whole(path: Path) -> None:
    """Make a new ledger's database file beside its place and link it there whole.

    DuckDB writes a new database's header some time after ATTACH creates the file; a process killed
    in between left a file of no header that every later check refused ("not a valid DuckDB
    database file"). The file is made under a temporary name, closed, and linked into place: the
    path holds a whole database or nothing. Two processes creating the same ledger: the second
    link fails and its own file is dropped; both then attach the one that won. Where the file
    system has no hard links, ATTACH creates the file in place (not whole, as before this).
    """
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.new")
    try:
        duck.connect(library_path_or_same(tmp)).close()
        with contextlib.suppress(OSError):  # FileExistsError: another process's won; no hard links:
            os.link(tmp, path)               # ATTACH creates the file where it is, as before
    except (OSError, duckdb.Error) as e:
        raise LedgerError(f"{shown(path)}: cannot create the ledger: {_first_line(e)}") from None
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


@contextlib.contextmanager
def _on_ledger(path: Path, doing: str):
    """A DuckDB error while the ledger is read or written (disk full, a truncated or damaged
    file) is the ledger's, never the claims': name the ledger and what was being done."""
    try:
        yield
    except duckdb.Error as e:
        raise LedgerError(f"{shown(path)}: cannot {doing} ({_first_line(e)})") from None


def content_hash(a: str, present=None) -> str:
    """md5 over every claim field in a fixed order; fields `a` lacks count as empty."""
    parts = " || '|' || ".join(f"coalesce(CAST({a}.{c} AS VARCHAR), '')" if present is None or c in present
                               else "''" for c in HASHED)
    return f"md5({parts})"


def _v2_tables() -> list[str]:
    return [
        f"CREATE TABLE {ALIAS}.meta (key VARCHAR, value VARCHAR)",
        f"""CREATE TABLE {ALIAS}.batches (seq INTEGER, batch_id VARCHAR, recorded_at TIMESTAMP, source VARCHAR,
                files VARCHAR, lines BIGINT, recorded BIGINT, replaced BIGINT, changed BIGINT)""",
        f"""CREATE TABLE {ALIAS}.lines ({', '.join(LINE_COLUMNS)}, fee_date DATE, batch_seq INTEGER, source_file VARCHAR,
                source_row BIGINT, content_hash VARCHAR)""",
    ]


def _migrate_1_to_2(con) -> None:
    """Schema 1 kept no content hash: add it, so changed lines can be told from unchanged ones."""
    con.execute(f"ALTER TABLE {ALIAS}.lines ADD COLUMN content_hash VARCHAR")
    con.execute(f"UPDATE {ALIAS}.lines SET content_hash = {content_hash(f'{ALIAS}.lines')}")
    con.execute(f"ALTER TABLE {ALIAS}.batches ADD COLUMN changed BIGINT DEFAULT 0")


MIGRATIONS = {1: _migrate_1_to_2}


class Ledger:
    """A ledger attached to `con` (the engine's connection) for the duration of a `with` block."""

    def __init__(self, path: Path | str, read_only: bool = False, wait: float = 30.0):
        if not isinstance(wait, (int, float)) or not math.isfinite(wait) or wait < 0:
            from ..errors import UsageError
            raise UsageError(f"--history-wait {wait}: give the seconds to wait for the ledger, 0 or more")
        self.path = Path(path)
        self.read_only = read_only
        self.wait = wait
        self.con = None
        self.schema_version = None
        self.migrated_from = None

    # -- opening -------------------------------------------------------------------------------
    def precheck(self) -> None:
        """Refuse, before any claim is read, a path that is not (and cannot become) a ledger."""
        p = self.path
        if p.exists() or p.is_symlink():
            if not p.is_file():
                raise LedgerError(f"{shown(p)}: is not a regular file, so it cannot be a ledger")
            try:
                with p.open("rb") as fh:
                    head = fh.read(16)
            except OSError as e:
                raise LedgerError(f"{shown(p)}: cannot read the ledger ({e.strerror or e})") from None
            if len(head) < 12 or head[8:12] != b"DUCK":
                raise LedgerError(f"{shown(p)}: exists and is not a claimcheck ledger (not a DuckDB database file); "
                                  "name a new file or an existing ledger")
        elif self.read_only:
            raise LedgerError(f"{shown(p)}: no ledger there (a dry run does not create one)")
        elif not p.parent.is_dir():
            raise LedgerError(f"{shown(p)}: folder {shown(p.parent)} does not exist")

    def attach(self, con) -> "Ledger":
        if self.read_only and not self.path.exists():
            raise LedgerError(f"{shown(self.path)}: no ledger there (a dry run does not create one)")
        if not self.read_only and not self.path.exists():
            _create_whole(self.path)
        mode = " (READ_ONLY)" if self.read_only else ""
        path = library_path_or_same(self.path).replace("'", "''")
        deadline = time.monotonic() + self.wait
        while True:
            try:
                con.execute(f"ATTACH '{path}' AS {ALIAS}{mode}")
                break
            except duckdb.IOException as e:
                if "lock" not in str(e).lower():
                    raise LedgerError(f"{shown(self.path)}: cannot open the ledger: {e}") from None
                if time.monotonic() >= deadline:
                    holder = str(e).split("Conflicting lock is held in", 1)[-1].split(". See")[0].strip()
                    raise LedgerError(f"{shown(self.path)}: the ledger is in use by another process ({holder}); "
                                      f"waited {self.wait:g} s (--history-wait)") from None
                time.sleep(0.2)
            except duckdb.Error as e:
                raise LedgerError(f"{shown(self.path)}: not a claimcheck ledger ({e})") from None
        self.con = con
        with _on_ledger(self.path, "read the ledger"):
            self._prepare()
        return self

    def _tables(self) -> set[str]:
        rows = self.con.sql(f"SELECT table_name FROM duckdb_tables() WHERE database_name = '{ALIAS}'").fetchall()
        return {r[0] for r in rows}

    def _prepare(self) -> None:
        tables = self._tables()
        if not tables:
            if self.read_only:
                raise LedgerError(f"{shown(self.path)}: empty ledger")
            self.con.execute("BEGIN")
            for sql in _v2_tables():
                self.con.execute(sql)
            self.con.execute(f"INSERT INTO {ALIAS}.meta VALUES ('schema_version', '{SCHEMA_VERSION}'), "
                             f"('created_at', '{dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}')")
            self.con.execute("COMMIT")
            tables = self._tables()
        if not {"meta", "batches", "lines"} <= tables:
            raise LedgerError(f"{shown(self.path)}: not a claimcheck ledger (tables: {', '.join(sorted(tables))})")
        version = int(self.con.sql(f"SELECT value FROM {ALIAS}.meta WHERE key = 'schema_version'").fetchall()[0][0])
        if version > SCHEMA_VERSION:
            raise LedgerError(f"{shown(self.path)}: ledger schema {version} is newer than this claimcheck "
                              f"understands ({SCHEMA_VERSION}); upgrade claimcheck")
        if version < SCHEMA_VERSION:
            if self.read_only:
                raise LedgerError(f"{shown(self.path)}: ledger schema {version} needs migrating to "
                                  f"{SCHEMA_VERSION}; run a check or `claimcheck history stats` without --dry-run")
            self.migrated_from = version
            self.con.execute("BEGIN")
            while version < SCHEMA_VERSION:
                MIGRATIONS[version](self.con)
                version += 1
            self.con.execute(f"UPDATE {ALIAS}.meta SET value = '{version}' WHERE key = 'schema_version'")
            self.con.execute("COMMIT")
        self.schema_version = version

    def detach(self) -> None:
        if self.con is not None:
            con, self.con = self.con, None
            with _on_ledger(self.path, "write the ledger"):
                con.execute(f"DETACH {ALIAS}")

    # -- what the engine reads -----------------------------------------------------------------
    def next_seq(self) -> int:
        return int(self.con.sql(f"SELECT coalesce(max(seq), 0) + 1 FROM {ALIAS}.batches").fetchall()[0][0])

    def earlier_lines_sql(self, columns: list[str]) -> str:
        """Ledger lines whose identity the batch does not carry, shaped like the engine's lines."""
        cols = ", ".join(f"h.{c}" for c in columns)
        return (f"SELECT {cols}, h.fee_date, h.source_file AS _file, CAST(NULL AS INTEGER) AS _fid, "
                f"h.source_row AS _row, "
                f"h.batch_seq AS _seq, FALSE AS _in_batch FROM {ALIAS}.lines h "
                f"ANTI JOIN batch_ids b ON b.mdtrt_id = h.mdtrt_id AND b.feedetl_sn = h.feedetl_sn")

    def seq_of_batch_lines_sql(self) -> str:
        return (f"SELECT h.mdtrt_id, h.feedetl_sn, h.batch_seq FROM {ALIAS}.lines h "
                f"SEMI JOIN batch_ids b ON b.mdtrt_id = h.mdtrt_id AND b.feedetl_sn = h.feedetl_sn")

    # -- recording -----------------------------------------------------------------------------
    def record(self, select_sql: str, columns: list[str], seq: int, files: list[str], source: str,
               batch_lines: int) -> dict:
        """Replace the batch's identities and insert `select_sql` (lines with _seq, _file, _row), atomically."""
        with _on_ledger(self.path, "record the batch in the ledger; it is left as it was"):
            return self._record(select_sql, columns, seq, files, source, batch_lines)

    def _record(self, select_sql, columns, seq, files, source, batch_lines) -> dict:
        con = self.con
        con.execute("BEGIN")
        try:
            con.execute(f"CREATE TEMP VIEW to_record AS {select_sql}")
            changed = con.sql(f"""
                SELECT r.mdtrt_id, r.feedetl_sn FROM to_record r JOIN {ALIAS}.lines h
                  ON h.mdtrt_id = r.mdtrt_id AND h.feedetl_sn = r.feedetl_sn
                WHERE h.content_hash <> {content_hash('r', set(columns))} ORDER BY 1, 2""").fetchall()
            replaced = con.sql(f"""SELECT count(*) FROM {ALIAS}.lines h
                SEMI JOIN batch_ids b ON b.mdtrt_id = h.mdtrt_id AND b.feedetl_sn = h.feedetl_sn""").fetchall()[0][0]
            con.execute(f"""DELETE FROM {ALIAS}.lines h WHERE EXISTS (SELECT 1 FROM batch_ids b
                            WHERE b.mdtrt_id = h.mdtrt_id AND b.feedetl_sn = h.feedetl_sn)""")
            cols = ", ".join(f"r.{c}" for c in columns)
            recorded = con.execute(f"""INSERT INTO {ALIAS}.lines BY NAME
                            SELECT {cols}, r.fee_date, r._seq AS batch_seq, r._file AS source_file,
                                   r._row AS source_row, {content_hash('r', set(columns))} AS content_hash
                            FROM to_record r""").fetchall()[0][0]
            now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)  # recorded_at is UTC
            con.execute(f"INSERT INTO {ALIAS}.batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [seq, str(uuid.uuid4()), now, source, "; ".join(files), batch_lines, recorded, replaced,
                         len(changed)])
            pause = os.environ.get("CLAIMCHECK_FAULT_PAUSE_BEFORE_COMMIT")
            if pause:  # fault injection for the crash-safety tests: hold the transaction open
                print(f"claimcheck: recording, paused before commit (pid {os.getpid()})", flush=True)
                time.sleep(float(pause))
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT has ended the transaction already
                con.execute("ROLLBACK")
            raise
        finally:
            with contextlib.suppress(duckdb.Error):
                con.execute("DROP VIEW IF EXISTS to_record")
        return {"batch_seq": seq, "recorded": recorded, "replaced": replaced, "changed": len(changed),
                "changed_lines": [{"mdtrt_id": m, "feedetl_sn": s} for m, s in changed[:20]]}

    # -- looking -------------------------------------------------------------------------------
    def stats(self) -> dict:
        con = self.con
        lines, persons, first, last = con.sql(
            f"SELECT count(*), count(DISTINCT psn_no), min(fee_date), max(fee_date) FROM {ALIAS}.lines").fetchall()[0]
        batches = con.sql(f"SELECT count(*), max(recorded_at) FROM {ALIAS}.batches").fetchall()[0]
        codes = con.sql(f"""SELECT hilist_code, count(*) n FROM {ALIAS}.lines GROUP BY 1
                            ORDER BY n DESC, 1 LIMIT 10""").fetchall()
        return {"ledger": shown(self.path), "schema_version": self.schema_version, "lines": lines,
                "persons": persons, "first_date": str(first) if first else None,
                "last_date": str(last) if last else None, "batches": batches[0],
                "last_recorded_at": str(batches[1]) if batches[1] else None,
                "size_bytes": self.path.stat().st_size, "top_codes": codes}

    def show(self, psn_no: str) -> list[tuple]:
        return self.con.execute(f"""
            SELECT CAST(fee_ocur_time AS VARCHAR), mdtrt_id, feedetl_sn, fixmedins_code, fixmedins_name,
                   hilist_code, cnt, det_item_fee_sumamt, inscp_scp_amt, fetts, refd_setl_flag, batch_seq, source_file
            FROM {ALIAS}.lines WHERE psn_no = ? ORDER BY fee_ocur_time, mdtrt_id, feedetl_sn""", [psn_no]).fetchall()
