"""The batch's items, each judged once: which code sets an item belongs to, and whether any rule
may read a line billing it, computed over the batch's distinct items rather than its lines.

An item is what the code-set predicates read of a line: its code, its name, its list type, and
(for a set known by an amount, `by_amount`) whether that amount is more than nothing. A month of
a NIPT lab has some seventy distinct items in a million lines; a hospital's some thousands. The
code-set predicates include regular expressions over the name (names as hospitals print them,
engine/context.py), which cost 0.9 s per million lines evaluated line by line (nipt-lab profile);
over the distinct items they cost milliseconds, and the lines take their columns by one hash
join on the item (NULL matching NULL, so every line finds the row made of its own values).

The ledger's earlier lines are not items of this batch: they keep the per-line predicates
(engine/plan.py, with_code_sets).
"""
from __future__ import annotations

from ..claims.fields import FIELDS
from ..kinds._common import q
from .context import CodeSets, code_set_columns

TABLE = "items"


class Items:
    def __init__(self, contracts, code_sets: CodeSets):
        self.code_sets = code_sets
        self.columns = sorted({"hilist_code"} | {x for c in contracts for x in code_set_columns(c, c.code_sets)})

    def value(self, a: str, column: str) -> str:
        """An item column of line alias `a`: an amount only by its sign."""
        v = f"{a}.{q(column)}"
        if FIELDS[column].family == "number":
            return f"CASE WHEN {v} > 0 THEN 1.0 WHEN {v} <= 0 THEN 0.0 END"
        return v

    def create_sql(self, raw: str, item_pred: str) -> str:
        """The distinct items of the lines `raw`, with a column per code set, `_item`: whether
        `item_pred` (over alias `l`: an item some rule's codes name) holds, and `_lines`: how many
        lines bill it."""
        distinct = ", ".join(f"{self.value('l', c)} AS {q(c)}" for c in self.columns)
        by = ", ".join(str(k + 1) for k in range(len(self.columns)))
        sets = self.code_sets.select("l")
        return (f"CREATE TEMP TABLE {TABLE} AS SELECT l.*{', ' + sets if sets else ''}, "
                f"coalesce({item_pred}, FALSE) AS _item "
                f"FROM (SELECT {distinct}, count(*) AS _lines FROM ({raw}) l GROUP BY {by}) l")

    def on(self, a: str, s: str = "s") -> str:
        return " AND ".join(f"{s}.{q(c)} IS NOT DISTINCT FROM {self.value(a, c)}" for c in self.columns)

    def set_columns(self, s: str = "s") -> str:
        return "".join(f", {s}.{col}" for col in self.code_sets.sets)

    def attach(self, select: str) -> str:
        """`select`'s lines with their items' code-set columns."""
        return f"SELECT x.*{self.set_columns()} FROM ({select}) x LEFT JOIN {TABLE} s ON {self.on('x')}"

    def keep(self, raw: str, others: str, regions: str, companions: str | None = None) -> str:
        """The lines of `raw` some rule may read (their item, or `others` over alias `l`), in
        `regions`, with their items' code-set columns. With `companions` (over `l` and the item's
        `s`), those lines too, `_companion` telling the lines kept for that alone."""
        kept = f"(coalesce(s._item, FALSE) OR {others})"
        flag, also = "", ""
        if companions:
            flag, also = f", NOT coalesce({kept}, FALSE) AS _companion", f" OR {companions}"
        return (f"SELECT l.*{self.set_columns()}{flag} FROM ({raw}) l LEFT JOIN {TABLE} s ON {self.on('l')} "
                f"WHERE ({kept}{also}) AND {regions}")
