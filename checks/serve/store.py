"""The service's own records: the results it answered (so a 3103 can name one by jr_id) and the
dispositions received, in one SQLite file shared by every worker (WAL, one writer at a time).

A warning kept with a reason (3103 dspo_way 1) becomes a waiver entry appended to the waivers
YAML file under an exclusive file lock, so the next answer shows the line as waived:

    - id: 3103-<jr_id>
      rule: <contract>/<rule>@<version>
      match: {mdtrt_id: …, feedetl_sn: …}
      reason: <dspo_way_rea>
      owner: <opter_name or opter from the envelope>
      expires: <today + --waiver-days>
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import sqlite3
from pathlib import Path

import yaml

TABLES = [
    """CREATE TABLE IF NOT EXISTS results (jr_id TEXT PRIMARY KEY, contract_id TEXT, contract_version TEXT,
        rule_id TEXT, mdtrt_id TEXT, feedetl_sn TEXT, psn_no TEXT, answered_at TEXT)""",
    """CREATE TABLE IF NOT EXISTS dispositions (id INTEGER PRIMARY KEY, jr_id TEXT, warn_type TEXT,
        dspo_way TEXT, dspo_way_rea TEXT, opter TEXT, opter_name TEXT, msgid TEXT, received_at TEXT,
        waiver_id TEXT)""",
]


def jr_id(contract_id: str, version: str, rule_id: str, mdtrt_id: str, feedetl_sn: str) -> str:
    """The result id the national answer carries (checks/report/nhsa_out.py computes it in SQL)."""
    return hashlib.sha1(f"{contract_id}|{version}|{rule_id}|{mdtrt_id}|{feedetl_sn}".encode()).hexdigest()[:32]


class Store:
    def __init__(self, path: str):
        self.path = path
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            for sql in TABLES:
                con.execute(sql)

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.execute("PRAGMA busy_timeout = 30000")
        return con

    def remember(self, report) -> None:
        """Every audit finding of `report`, by its jr_id."""
        t = report.table
        if not t.num_rows:
            return
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        cols = t.select(["contract_id", "contract_version", "rule_id", "mdtrt_id", "feedetl_sn", "psn_no",
                         "severity"]).to_pylist()
        rows = [(jr_id(r["contract_id"], r["contract_version"], r["rule_id"], r["mdtrt_id"], r["feedetl_sn"]),
                 r["contract_id"], r["contract_version"], r["rule_id"], r["mdtrt_id"], r["feedetl_sn"], r["psn_no"],
                 now) for r in cols if r["severity"] != "data_quality"]
        con = self._connect()
        try:
            con.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        finally:
            con.close()

    def result(self, jr: str) -> dict | None:
        con = self._connect()
        try:
            row = con.execute("SELECT contract_id, contract_version, rule_id, mdtrt_id, feedetl_sn FROM results "
                              "WHERE jr_id = ?", [jr]).fetchone()
        finally:
            con.close()
        return dict(zip(["contract_id", "contract_version", "rule_id", "mdtrt_id", "feedetl_sn"], row)) if row else None

    def dispose(self, rows: list[dict]) -> None:
        con = self._connect()
        try:
            con.executemany(
                "INSERT INTO dispositions (jr_id, warn_type, dspo_way, dspo_way_rea, opter, opter_name, msgid, "
                "received_at, waiver_id) VALUES (:jr_id, :warn_type, :dspo_way, :dspo_way_rea, :opter, :opter_name, "
                ":msgid, :received_at, :waiver_id)", rows)
        finally:
            con.close()

    def dispositions(self) -> list[dict]:
        con = self._connect()
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute("SELECT * FROM dispositions ORDER BY id")]
        finally:
            con.close()


def append_waivers(path: str, entries: list[dict], contracts) -> list[str]:
    """Append `entries` to the waivers file (created if absent) under an exclusive lock; entries
    whose id is already there are skipped. The file is validated after writing and restored if
    the result would not load. Returns the ids added."""
    from ..waivers import load_waivers

    p = Path(path)
    with open(str(p) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old = p.read_text(encoding="utf-8") if p.exists() else None
        data = yaml.safe_load(old) if old else None
        have = {w.get("id") for w in ((data or {}).get("waivers") or []) if isinstance(w, dict)}
        new = [e for e in entries if e["id"] not in have]
        if not new:
            return []
        block = yaml.safe_dump(new, allow_unicode=True, sort_keys=False, default_flow_style=False)
        block = "".join(f"  {line}\n" for line in block.splitlines())
        if old is None or not (data or {}).get("waivers"):
            text = "# waivers: accepted findings (entries 3103-… were kept by a clinician through the 3103 call)\n" \
                   "waivers:\n" + block
        else:
            text = old + ("" if old.endswith("\n") else "\n") + block
        tmp = p.with_name(p.name + f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        try:
            load_waivers(tmp, contracts)
        except Exception:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, p)
        return [e["id"] for e in new]


def waiver_entry(jr: str, found: dict, reason: str, owner: str, days: int) -> dict:
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    return {"id": f"3103-{jr}", "rule": f"{found['contract_id']}/{found['rule_id']}@{found['contract_version']}",
            "match": {"mdtrt_id": found["mdtrt_id"], "feedetl_sn": found["feedetl_sn"]},
            "reason": reason, "owner": owner, "expires": (today + dt.timedelta(days=days)).isoformat()}


def dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, default=str).encode("utf-8")
