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
