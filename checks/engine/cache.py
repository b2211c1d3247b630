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

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path

from .. import __version__

ENTRY_BYTES = 4 << 20  # an entry is a few KB; a larger file is not one of ours
SURVEY_VERSION = 2  # bump when what the survey proves changes


def folder() -> Path | None:
    env = os.environ.get("CLAIMCHECK_CACHE")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "no", "false") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no HOME and no password entry (a container's arbitrary user): no cache
            return None
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
        try:  # only a regular file of bounded size is read: never a link to /dev/zero or a pipe
            fd = os.open(self._path(key), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return {}  # absent, unreadable or a link: as if never proven
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > ENTRY_BYTES:
                return {}
            with os.fdopen(fd, "rb", closefd=False) as fh:
                data = json.loads(fh.read(ENTRY_BYTES + 1).decode("utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError, RecursionError):
            return {}  # damaged: as if never proven
        finally:
            os.close(fd)

    def put(self, key: str, data: dict) -> None:
        if not self.on:
            return
        path, tmp = self._path(key), None
        try:  # written whole under a temporary name, then renamed: never a partial entry
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, path)
            tmp = None
        except (OSError, ValueError):
            pass  # a cache that cannot be written only costs time
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
