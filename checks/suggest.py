"""Closest names first: what an error offers when a name is unknown."""
from __future__ import annotations

import difflib


def closest(name: str, valid, n: int = 12) -> list[str]:
    """`valid` ordered by similarity to `name` (case-insensitive), then alphabetically."""
    valid = sorted({str(v) for v in valid})
    low = str(name).lower()
    scored = sorted(valid, key=lambda v: (-difflib.SequenceMatcher(None, low, v.lower()).ratio(), v))
    return scored[:n]


def did_you_mean(name: str, valid) -> str:
    best = difflib.get_close_matches(str(name).lower(), [str(v).lower() for v in valid], n=1, cutoff=0.6)
    if not best:
        return ""
    real = next(v for v in valid if str(v).lower() == best[0])
    return f"; did you mean {real!r}?"
