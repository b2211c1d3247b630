"""Rules no line of the batch can concern, found before anything is built for them.

A rule whose scope is its codes (and the kind reads no line beyond them) can find nothing, and
count nothing, unless some line of the batch bills one of those codes, or one of the items its
code sets name, or looks like them under a local code (`lookalike`), in its contract's regions.
Two questions decide it: the batch's distinct regions (a contract none of whose regions the batch
bills in has every rule idle, codes or not), then, over the batch's distinct items (the items
table, engine/items.py, built once for the contracts billed in: a few thousand rows for a month
of a hospital), one flag per code set.

An idle rule is planned but not run: it adds no candidate predicate, lookup, count or findings
query, and the report shows it as every rule with no line in scope
("no line of the batch falls in this rule's scope"), exactly as if it had run. A rule is kept
whenever this cannot be decided from those values (no codes, a kind selecting lines by its own
predicate), so pruning never changes a finding or a count.

Why: with every contract on, a Jiangsu hospital's batch paid for every rule of Jilin, Jiangxi and
Fuzhou in every stage, and a 50-order audit message for all 123 rules (bench/README.md,
"Rules no line concerns").
"""
from __future__ import annotations

from .context import lookalike_pred
from .items import TABLE as ITEMS


def _sets(rule) -> list[str] | None:
    """The code sets whose lines decide whether `rule` can concern the batch; None: cannot tell."""
    if not rule.codes:
        return None
    extra = rule.impl.candidate_codes()
    if extra is None:
        return None
    return sorted(set(rule.codes) | set(extra))


def billed(con, contracts, lines_select) -> set[str]:
    """The keys of the contracts some line of the batch is billed in the regions of (every rule's
    scope lies in its contract's regions). `lines_select(cols)` gives the batch's lines with those
    normalised columns (engine/plan.py)."""
    regions = [r for (r,) in con.execute(f"SELECT DISTINCT mdtrtarea_admvs FROM ({lines_select({'mdtrtarea_admvs'})}) l "
                                         "WHERE mdtrtarea_admvs IS NOT NULL").fetchall()]
    return {c.key for c in contracts if any(r.startswith(tuple(c.regions)) for r in regions)}


def without_items(con, plans, code_sets) -> set[int]:
    """The plan indices of rules none of whose code sets any item of the batch is in, or looks
    like (`lookalike`), read from the items table (engine/items.py) in one query: one flag per
    distinct code set, whatever the number of rules naming it."""
    tests: dict[str, int] = {}             # predicate over the items -> its position in the query
    needs: dict[int, list[int]] = {}       # plan index -> the tests of its code sets
    for p in plans:
        if p.index is None or p.idle:
            continue
        sets = _sets(p.rule)
        if sets is None:
            continue
        cols = code_sets.of(p.contract)
        preds = [f"s.{cols[n]}" for n in sets]
        preds += [x for x in (lookalike_pred(p.contract.code_sets[n], "s") for n in sets) if x]
        needs[p.index] = [tests.setdefault(t, len(tests)) for t in preds]
    if not tests:
        return set()
    hits = con.execute(f"SELECT {', '.join(f'coalesce(bool_or({t}), FALSE)' for t in tests)} FROM {ITEMS} s").fetchall()[0]
    return {i for i, ts in needs.items() if not any(hits[t] for t in ts)}
