"""How a contract's versions cover time: overlaps are errors, gaps are warnings.

Two versions in force on the same day over the same regions would judge a line twice, so the
loader refuses them, naming both files and the days they share. Versions over regions that do not
meet (say 3201 and 3202) may share days. A gap between consecutive versions is allowed (a policy
may lapse) but worth a warning: lines of those days are judged by no version of the contract.

A revision (`revises:`, checks/contract/retired.py) covers the period of the version it revises,
so it may overlap that version, and what that one revises in turn, but no other: the revision
retires them, and one version still judges each line.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..errors import ContractError
from .model import ContractVersion
from .retired import lineage

DAY = dt.timedelta(days=1)


def regions_meet(a: list[str], b: list[str]) -> bool:
    """Whether two region lists share any region (a region code covers the codes it begins)."""
    return any(x.startswith(y) or y.startswith(x) for x in a for y in b)


def _end(v: ContractVersion) -> dt.date:
    return v.effective_to or dt.date.max


def _span(start: dt.date, end: dt.date) -> str:
    return f"{start} … {'open' if end == dt.date.max else end}"


def check_overlaps(versions: list[ContractVersion]) -> None:
    """Raise ContractError when two versions of one contract share days over regions that meet."""
    ordered = sorted(versions, key=lambda v: (v.id, v.effective_from))
    for i, b in enumerate(ordered):
        for a in ordered[:i]:
            if a.id != b.id or not regions_meet(a.regions, b.regions) or _end(a) < b.effective_from:
                continue
            if any(x is a for x in lineage(b, versions)) or any(x is b for x in lineage(a, versions)):
                continue  # a revision and what it revises
            shared = _span(b.effective_from, min(_end(a), _end(b)))
            raise ContractError(str(b.file), f"effective dates overlap version {a.version} ({a.file}, "
                                f"{_span(a.effective_from, _end(a))}): both are in force {shared} over "
                                f"regions {', '.join(sorted(set(a.regions) | set(b.regions)))}, so a line "
                                "would be judged twice; end one version the day before the other begins")


@dataclass(frozen=True)
class Gap:
    contract: str
    before: ContractVersion
    after: ContractVersion
    start: dt.date
    end: dt.date

    def __str__(self) -> str:
        return (f"{self.contract}: no version is in force {self.start} … {self.end} ({(self.end - self.start).days + 1}"
                f" days) between {self.before.version} (ends {self.before.effective_to}, {self.before.file}) and "
                f"{self.after.version} (begins {self.after.effective_from}, {self.after.file}); "
                "lines of those days are judged by no version of this contract")


def coverage_gaps(versions: list[ContractVersion]) -> list[Gap]:
    """Days between consecutive versions (over regions that meet) that no version covers."""
    gaps = []
    ordered = sorted(versions, key=lambda v: (v.id, v.effective_from))
    for i, b in enumerate(ordered):
        before = [a for a in ordered[:i] if a.id == b.id and regions_meet(a.regions, b.regions)]
        if not before:
            continue
        last = max(before, key=_end)
        if _end(last) < dt.date.max and _end(last) + DAY < b.effective_from:
            gaps.append(Gap(b.id, last, b, _end(last) + DAY, b.effective_from - DAY))
    return gaps
