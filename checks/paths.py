"""How paths are shown to people: relative to the working folder when inside it."""
from __future__ import annotations

import os
from pathlib import Path


def shown(path: Path | str) -> str:
    p = Path(path)
    try:
        rel = os.path.relpath(p.resolve(), Path.cwd())
    except ValueError:  # another drive
        return str(p)
    return str(p) if rel.startswith("..") else rel


def library_path(path: Path | str) -> str:
    """A path as DuckDB and Arrow must be given it: they open UTF-8 names whatever the locale,
    while Python decodes names with the locale's encoding (GB18030 on some Chinese systems), so
    a name's bytes are decoded again as UTF-8. Raises UnicodeDecodeError for a name whose bytes
    are not UTF-8 (those libraries cannot open it at all)."""
    return os.fsencode(path).decode("utf-8")


def library_path_or_same(path: Path | str) -> str:
    """library_path, or the path as it is when its bytes are not UTF-8 (the library then names it)."""
    try:
        return library_path(path)
    except UnicodeDecodeError:
        return str(path)
