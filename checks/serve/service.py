"""What a server worker holds between requests: the contracts, loaded once, and how to check with them.

Contracts (YAML parsed, validated, rule kinds built, reference tables read) are loaded at start
and on reload only; a request runs the library's check with the loaded set. Reload swaps the set
in one assignment: a request in flight keeps the set it started with. A folder that fails to load
keeps the old set, and the reason is kept for /health and the reload's answer.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ClaimcheckError
from ..nhsa.message import Message

log = logging.getLogger("claimcheck.serve")

SETTLEMENT = {"6", "8"}  # trig_scen 门诊结算, 住院结算: the lines are settled


@dataclass
class Settings:
    contracts_dir: str | None = None
    tables: dict = field(default_factory=dict)
    history: str | None = None
    waivers: str | None = None
    columns: str | None = None
    token: str | None = None
    record_settlements: bool = False
    dispositions: str | None = None
    waiver_days: int = 90
    max_body: int = 10 * 1024 * 1024
    max_depth: int = 64
    timeout: float = 30.0
    history_wait: float = 30.0
    concurrency: int = 2
    reload_stamp: str | None = None  # a file whose change tells every worker to reload (POST /admin/reload)

    def to_env(self) -> dict[str, str]:
        """The settings as CLAIMCHECK_SERVE_* variables, for workers started by uvicorn."""
        import json
        return {"CLAIMCHECK_SERVE_SETTINGS": json.dumps(self.__dict__)}

    @classmethod
    def from_env(cls) -> "Settings":
        import json
        raw = os.environ.get("CLAIMCHECK_SERVE_SETTINGS")
        return cls(**json.loads(raw)) if raw else cls()

    def dispositions_path(self) -> str | None:
        if self.dispositions:
            return self.dispositions
        if self.waivers:
            return str(Path(self.waivers).with_suffix(".dispositions.sqlite"))
        return None


class Service:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.contracts = None
        self.loaded_at = None
        self.reload_error: str | None = None
        self._lock = threading.Lock()
        # DuckDB attaches a file once per process: this worker's checks take the ledger in turn
        # (other workers wait on the file's own lock, --history-wait)
        self._ledger_lock = threading.Lock()
        self._waivers = (None, None)  # (mtime, loaded)
        self._stamp_seen = self._stamp()
        self.load()
        from ..duck import Home
        # the worker's DuckDB database, opened once: a 3101/3102 check runs on a cursor of it (the
        # engine's memory limit for each check, over the checks that may run at once). A batch sent
        # to /check gets a database of its own, as `claimcheck check` does: its memory is its own,
        # and opening it is nothing beside checking it
        self.home = Home(threads=1, memory_limit=f"{512 * max(1, settings.concurrency)}MB")

    def close(self) -> None:
        self.home.close()

    def _stamp(self) -> int | None:
        try:
            return os.stat(self.settings.reload_stamp).st_mtime_ns if self.settings.reload_stamp else None
        except OSError:
            return None

    def follow(self) -> None:
        """Reload when another worker was told to (the stamp file changed since this one looked)."""
        seen = self._stamp()
        if seen != self._stamp_seen:
            self._stamp_seen = seen
            self.reload(announce=False)

    def _load(self):
        from ..contract import load_contracts
        return load_contracts(self.settings.contracts_dir, self.settings.tables or {})

    def load(self) -> None:
        self.contracts = self._load()
        self.loaded_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

    def reload(self, announce: bool = True) -> tuple[bool, str]:
        """Load the contracts again; on failure keep the old set and say why. With `announce`,
        the other workers follow (the reload stamp is touched)."""
        with self._lock:
            try:
                contracts = self._load()
            except ClaimcheckError as e:
                self.reload_error = f"reload failed, the previous contracts stay in force: {e}"
                log.warning(self.reload_error)
                return False, self.reload_error
            self.contracts = contracts
            self.loaded_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            self.reload_error = None
            if announce and self.settings.reload_stamp:
                Path(self.settings.reload_stamp).touch()
                self._stamp_seen = self._stamp()
            msg = f"reloaded {len(contracts)} contract versions"
            log.info(msg)
            return True, msg

    def waivers(self, contracts):
        """The waivers file, read again only when it changed (3103 appends to it)."""
        path = self.settings.waivers
        if not path or not Path(path).exists():
            return None
        from ..waivers import load_waivers
        mtime = os.stat(path).st_mtime_ns
        cached_mtime, loaded = self._waivers
        if cached_mtime != mtime or loaded is None or loaded[0] is not contracts:
            loaded = (contracts, load_waivers(path, contracts))
            self._waivers = (mtime, loaded)
        return loaded[1]

    def check(self, data, record: bool = False, timings: dict | None = None, contracts=None):
        """The library's check of `data` (paths, a national Message, Arrow data) with the loaded
        contracts (or `contracts`, a set loaded before); the ledger read-only unless `record`."""
        from ..runner import check
        from ..waivers import apply_waivers

        self.follow()
        contracts = contracts if contracts is not None else self.contracts
        history = self.settings.history
        if history and not record and not Path(history).exists():
            history = None  # nothing recorded yet: nothing earlier to count (a read creates no ledger)
        t0 = time.perf_counter()
        with self._ledger_lock if history else contextlib.nullcontext():
            report = check(data, contracts=contracts, history=history,
                           dry_run=not record, history_wait=self.settings.history_wait,
                           columns=self.settings.columns, cache=False, threads=1,
                           home=self.home if isinstance(data, Message) else None)
        t1 = time.perf_counter()
        accepted = self.waivers(contracts)
        if accepted:
            apply_waivers(report, accepted)
        if timings is not None:
            timings.update(check_s=t1 - t0, waivers_s=time.perf_counter() - t1,
                           **{k: v for k, v in report.engine.items() if k.endswith("_s")})
        return report

    def ready(self) -> dict:
        """Readiness: contracts loaded, ledger readable (when one is configured)."""
        out = {"contracts": len(self.contracts or []), "loaded_at": self.loaded_at, "ledger": None,
               "reload_error": self.reload_error}
        if self.settings.history:
            p = Path(self.settings.history)
            out["ledger"] = "readable" if p.is_file() and os.access(p, os.R_OK) else (
                "not yet created" if not p.exists() else "not readable")
        return out
