"""What was proven of a claim file already, keyed by its SHA-256: values not checked twice.

A file whose values passed the claim-line contract, whose line identities were unique, and whose
lines in force were counted for a contract version's (regions, dates), need not be scanned again
for those: a hospital re-checks the same batch after a contract or waiver change, a CI job
re-runs. The key is the file's content hash with claimcheck's version, the survey's version and
how the file's columns were mapped; any change to the file, the mapping or claimcheck is a new
key. Only passing results are kept (errors are always found afresh). A file's structure (which column
supplies which field, and its type) depends only on its schema and the column map, so it is kept
under a fingerprint of those: the same system's daily extract is judged by pandera once. One small JSON file per key
under $CLAIMCHECK_CACHE (default: $XDG_CACHE_HOME/claimcheck or ~/.cache/claimcheck); set it to
`off` (or pass --no-cache) to turn the cache off.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from .. import __version__

SURVEY_VERSION = 1  # bump when what the survey proves changes


def folder() -> Path | None:
    env = os.environ.get("CLAIMCHECK_CACHE")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "no", "false") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "claimcheck"


def scope_key(contract) -> str:
    return f"{','.join(contract.regions)}|{contract.effective_from}|{contract.effective_to or ''}"


class SurveyCache:
    def __init__(self, where: Path | None, space: str = "survey"):
        self.where = where / space if where else None

    @property
    def on(self) -> bool:
        return self.where is not None

    @staticmethod
    def file_key(cf) -> str:
        sources = sorted((f, s.column, s.partition) for f, s in cf.sources.items())
        text = json.dumps([__version__, SURVEY_VERSION, cf.sha256, sources, sorted(cf.partitions.items())])
        return hashlib.sha256(text.encode()).hexdigest()

    @staticmethod
    def schema_key(schema, sources: dict) -> str:
        text = json.dumps([__version__, SURVEY_VERSION, schema.to_string(show_field_metadata=False,
                                                                         show_schema_metadata=False),
                           sorted((f, s.column, s.partition) for f, s in sources.items())])
        return hashlib.sha256(text.encode()).hexdigest()

    @staticmethod
    def batch_key(batch) -> str:
        return hashlib.sha256(json.dumps(sorted(SurveyCache.file_key(cf) for cf in batch.files)).encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.where / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict:
        if not self.on:
            return {}
        try:
            with open(self._path(key), encoding="utf-8") as fh:
                data = json.load(fh)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}  # absent, unreadable or damaged: as if never proven

    def put(self, key: str, data: dict) -> None:
        if not self.on:
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time
