"""Rules no line of the batch can concern, found before anything is built for them.

A rule whose scope is its codes (and the kind reads no line beyond them) can find nothing, and
count nothing, unless some line of the batch bills one of those codes, or one of the items its
code sets name, or looks like them under a local code (`lookalike`), in its contract's regions.
One query answers this for every rule at once, over the batch's distinct (code, name, list
type, region) values rather than its lines: a few thousand rows for a month of a hospital.

An idle rule is planned but not run: it adds no code-set column, candidate predicate, lookup,
count or findings query, and the report shows it as every rule with no line in scope
("no line of the batch falls in this rule's scope"), exactly as if it had run. A rule is kept
whenever this cannot be decided from those values (no codes, a kind selecting lines by its own
predicate), so pruning never changes a finding or a count.

Why: with every contract on, a Jiangsu hospital's batch paid for every rule of Jilin, Jiangxi and
Fuzhou in every stage, and a 50-order audit message for all 123 rules (bench/README.md,
"Rules no line concerns").
"""
from __future__ import annotations

from ..kinds._common import q
from .context import codes_pred, lookalike_pred, regions_pred


def _sets(rule) -> list[str] | None:
    """The code sets whose lines decide whether `rule` can concern the batch; None: cannot tell."""
    if not rule.codes:
        return None
    extra = rule.impl.candidate_codes()
    if extra is None:
        return None
    return sorted(set(rule.codes) | set(extra))


def _columns(contract, sets: list[str]) -> set[str]:
    cols = {"hilist_code", "mdtrtarea_admvs"}
    for n in sets:
        cs = contract.code_sets[n]
        if cs.names:
            cols.add("hilist_name")
        if cs.by_amount:
            cols |= {"hilist_name", cs.by_amount["column"]}
        if cs.lookalike:
            cols.add("hilist_name")
            if cs.lookalike.get("list_type"):
                cols.add("list_type")
    return cols


def predicate(contract, name: str, a: str) -> str:
    """A line alias `a` billing, naming or looking like an item of code set `name` of `contract`,
    in the contract's regions (the region first: DuckDB reads the rest only where it holds)."""
    cs = contract.code_sets[name]
    like = lookalike_pred(cs, a)
    return (f"CASE WHEN coalesce({regions_pred(a, contract.regions)}, FALSE) THEN "
            f"coalesce({codes_pred(contract, a, [name])}, FALSE){f' OR {like}' if like else ''} ELSE FALSE END")


def idle_rules(con, plans, batch, lines_select) -> set[int]:
    """The plan indices of rules no line of `batch` can concern. `lines_select(cols)` gives the
    batch's lines with those normalised columns (engine/plan.py). Each code set is tested once,
    whatever the number of rules naming it."""
    # every rule's scope lies in its contract's regions: a contract none of whose regions the
    # batch bills in has every rule idle, codes or not
    regions = [r for (r,) in con.execute(f"SELECT DISTINCT mdtrtarea_admvs FROM ({lines_select({'mdtrtarea_admvs'})}) l "
                                     "WHERE mdtrtarea_admvs IS NOT NULL").fetchall()]
    billed = {c.key for c in {p.contract.key: p.contract for p in plans}.values()
              if any(r.startswith(tuple(c.regions)) for r in regions)}
    idle = {p.index for p in plans if p.index is not None and p.contract.key not in billed}
    tests: dict[str, int] = {}             # predicate -> its position in the query
    needs: dict[int, list[int]] = {}       # plan index -> the tests of its code sets
    cols: set[str] = set()
    for p in plans:
        if p.index is None or p.index in idle:
            continue
        sets = _sets(p.rule)
        if sets is None:
            continue
        cols |= _columns(p.contract, sets)
        needs[p.index] = [tests.setdefault(predicate(p.contract, n, "d"), len(tests)) for n in sets]
    if not tests:
        return idle
    # an amount is read only as "more than nothing": its sign, not its value, enters the distinct rows
    amounts = sorted(cols - {"hilist_code", "hilist_name", "list_type", "mdtrtarea_admvs"})
    shown = [q(c) for c in sorted(cols) if c not in amounts]
    shown += [f"CASE WHEN {q(c)} > 0 THEN 1 WHEN {q(c)} <= 0 THEN 0 END AS {q(c)}" for c in amounts]
    hits = con.execute(f"SELECT {', '.join(f'coalesce(bool_or({t}), FALSE)' for t in tests)} "
                   f"FROM (SELECT DISTINCT {', '.join(shown)} FROM ({lines_select(cols)}) l) d").fetchall()[0]
    return idle | {i for i, ts in needs.items() if not any(hits[t] for t in ts)}
