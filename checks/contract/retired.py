"""Revisions: which contract versions a revision retires, and whether a `revises:` key is sound.

A published version's meaning never changes. When its rules must change for the same period (a rule
added, a rule corrected, a reference table read another way), the new text is a new version whose
top-level key `revises:` names the version it corrects (jiangsu-nipt 1.1.0 `revises: 1.0.0`):

- the revision covers at least the days and regions of what it revises, and may overlap it (and
  only it, and what that one revises in turn: checks/contract/coverage.py);
- among the versions being run, a version that another of them revises is retired: the newest
  revision in force at a line's date judges the line (`judging`);
- the revised version stays loadable, testable and diffable, and judges when it is chosen alone
  (`--contract jiangsu-nipt@1.0.0`): a version is retired only by a revision among the same run.

`revises` names an existing version of the same contract, not itself, and no chain of revisions
returns to where it began; each error names the file and the key, with the line of the key.
"""
from __future__ import annotations

import datetime as dt

from ..errors import Choices, ContractError
from .model import ContractVersion


def _key(v: ContractVersion) -> tuple[str, str]:
    return (v.id, v.version)


def lineage(v: ContractVersion, versions: list[ContractVersion]) -> list[ContractVersion]:
    """What `v` revises, what that one revises, and so on (nearest first; stops at a cycle)."""
    by_key = {_key(x): x for x in versions}
    out, seen = [], {_key(v)}
    while v.revises and (v.id, v.revises) in by_key and (v.id, v.revises) not in seen:
        v = by_key[(v.id, v.revises)]
        seen.add(_key(v))
        out.append(v)
    return out


def revision_of(versions: list[ContractVersion]) -> dict[tuple[str, str], ContractVersion]:
    """For each version that another of `versions` revises: the newest revision of it there
    (following the chain 1.0.0 <- 1.1.0 <- 1.2.0 to its end)."""
    revisers: dict[tuple[str, str], ContractVersion] = {}
    for v in versions:
        if v.revises:
            revisers[(v.id, v.revises)] = v
    out = {}
    for key, v in revisers.items():
        seen = {key}
        while _key(v) in revisers and _key(v) not in seen:
            seen.add(_key(v))
            v = revisers[_key(v)]
        out[key] = v
    return out


def retired(versions: list[ContractVersion]) -> set[tuple[str, str]]:
    """(contract, version) of every version that another of `versions` revises."""
    return set(revision_of(versions))


def judging(versions: list[ContractVersion]) -> list[ContractVersion]:
    """The versions that judge lines: `versions` less those a revision among them retires."""
    gone = retired(versions)
    return [v for v in versions if _key(v) not in gone]


def _end(v: ContractVersion) -> dt.date:
    return v.effective_to or dt.date.max


def _error(v: ContractVersion, message: str, choices=None) -> ContractError:
    line, col = v.revises_at
    return ContractError(str(v.file), message, line, col, choices)


def check_names(contract: str, revises: dict[str, str | None], error) -> None:
    """What each version of `contract` revises ({version: revises or None}) names another of its
    versions, and no chain of revisions is a cycle; `error(version, message, choices)` makes the
    ContractError (at the file and line of that version's revises: key). Run before the versions
    are loaded (checks/contract/loader.py)."""
    for version, old in revises.items():
        if old is None:
            continue
        if old == version:
            raise error(version, f"revises: {old} is this version itself; a revision names the published "
                                 "version it corrects", None)
        if old not in revises:
            mine = sorted(v for v in revises if v != version)
            raise error(version, f"revises: {old} names no version of {contract}" + ("" if mine else " (it has no other)"),
                        Choices(mine, str(old)) if mine else None)
        chain, at = [version], version
        while revises.get(at):
            nxt = revises[at]
            if nxt == version:
                raise error(version, f"revises: {old} makes a cycle of revisions ({' -> '.join(chain + [version])}); "
                                     "a revision revises an older version, never one that revises it", None)
            if nxt in chain or nxt not in revises:
                break  # a cycle not through this version: reported at a version on it
            chain.append(nxt)
            at = nxt


def check_revisions(versions: list[ContractVersion]) -> None:
    """Raise ContractError for a `revises:` that names no other version of the same contract, that
    closes a cycle, or whose revision does not cover the days and regions of what it revises."""
    by_key = {_key(v): v for v in versions}
    for cid in dict.fromkeys(v.id for v in versions):
        mine = {v.version: v for v in versions if v.id == cid}
        check_names(cid, {n: v.revises for n, v in mine.items()},
                    lambda n, message, choices: _error(mine[n], message, choices))
    for v in versions:
        if not v.revises:
            continue
        old = by_key[(v.id, v.revises)]
        missing = [r for r in old.regions if not any(r.startswith(x) for x in v.regions)]
        if v.effective_from > old.effective_from or _end(v) < _end(old) or missing:
            what = (f"regions {', '.join(missing)}" if missing else
                    f"{old.effective_from} … {old.effective_to or 'open'}")
            raise _error(v, f"revises: {v.revises} ({old.file}) is in force {old.effective_from} … "
                            f"{old.effective_to or 'open'} over regions {', '.join(old.regions)}, but this revision "
                            f"does not cover {what}: a revision judges every line of what it revises "
                            "(make a new version, without revises:, for a new period)")
