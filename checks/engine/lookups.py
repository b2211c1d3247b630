"""Reference-table lookups, joined once: one small table per distinct lookup.

A rule that needs a table (a price per institution and code, the list of listed institutions,
ICD-10 prefixes) declares a lookup; identical lookups of several rules are computed once.

- An equality lookup is keyed by the table's own values, normalised as the claim column is: one
  row per key with `hit`, `v` (the largest value), `ref` (the rows' source_row) and `listing`
  (the values of a column: what would have been allowed). It is built from the reference table
  alone and LEFT JOINed on the line's normalised columns (text columns are normalised once, in
  the candidate scan, as `<column>__n`).
- A lookup with a prefix match (ICD-10 Q95 admits Q95.0), or of a table whose rows carry
  `valid_from` / `valid_to` (a catalogue row valid from its listing to its withdrawal: only the rows
  valid on the line's date match), is built over the distinct values the candidate lines give
  the columns it reads (its claim columns, the date when dated, the region), keyed by them and
  joined back on them (NULL matching NULL, so a line matches the row made of its own values).
  Keyed by (_fid, _row), as it was, it paired every consumable line of a hospital's month with
  the catalogue: 415,664 lines against 103,323 distinct (code, region, institution, date).
No correlated sub-query runs per line.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..claims import normal
from ..claims.fields import COLUMNS, LATE
from ..kinds._common import lit, q


def normalised_column(column: str) -> str | None:
    """The name of the precomputed normalised form of a text column in `lines`, or None."""
    return f"{column}__n" if COLUMNS[column].family == "text" and column not in LATE else None


def claim_value(a: str, column: str) -> str:
    """A claim column as compared with a table: names without spaces and with half-width brackets,
    precomputed once per line as `<column>__n` (`institution` is normalised so by engine/identity.py)."""
    n = normalised_column(column)
    return f"{a}.{q(n)}" if n else f"{a}.{q(column)}"


def table_value(a: str, column: str, claim_column: str) -> str:
    sql = f"CAST({a}.{q(column)} AS VARCHAR)"
    return normal.name(sql) if COLUMNS[claim_column].family == "text" else normal.value(claim_column, sql)


@dataclass
class Lookup:
    index: int
    table: str                       # registered table name
    match: tuple                     # ((claim column, table column, 'equal'|'prefix'|'equal_or_blank'|'prefix_or_blank'), ...)
    where: object                    # checks.expr.Expr over table columns, or None
    value: str | None
    listing: str | None
    regions: tuple = ()              # the contract's jurisdiction: no other line is read by its rules
    dated: bool = False              # rows carry valid_from/valid_to: only rows valid on the line's date match

    @property
    def name(self) -> str:
        return f"lk{self.index}"

    @property
    def keyed(self) -> bool:
        return all(by == "equal" for _, _, by in self.match) and not self.dated

    def text_columns(self) -> set[str]:
        return {c for c, _, _ in self.match if normalised_column(c)}

    def col(self, a: str, what: str) -> str:
        return f"{a}_{self.name}.{what}"

    def line_columns(self) -> list[str]:
        """The columns of `lines` a lookup that is not keyed by the table's values reads."""
        cols = [normalised_column(c) or c for c, _, _ in self.match]
        cols += ["fee_date"] if self.dated else []
        cols += ["mdtrtarea_admvs"] if self.regions else []
        return list(dict.fromkeys(cols))

    def join(self, a: str) -> str:
        x = f"{a}_{self.name}"
        if self.keyed:
            on = " AND ".join(f"{x}.k{i} = {claim_value(a, c)}" for i, (c, _, _) in enumerate(self.match))
        else:
            on = " AND ".join(f"{x}.{q(c)} IS NOT DISTINCT FROM {a}.{q(c)}" for c in self.line_columns())
        return f" LEFT JOIN {self.name} {x} ON {on}"

    def _aggregates(self) -> str:
        value = f"max(CAST(t.{q(self.value)} AS DOUBLE))" if self.value else "NULL"
        listing = (f"string_agg(DISTINCT CAST(t.{q(self.listing)} AS VARCHAR), ', ' "
                   f"ORDER BY CAST(t.{q(self.listing)} AS VARCHAR))") if self.listing else "NULL"
        return (f"TRUE AS hit, {value} AS v, string_agg(DISTINCT t.source_row, '; ' ORDER BY t.source_row) AS ref, "
                f"{listing} AS listing")

    def keyed_sql(self) -> str:
        """A keyed lookup's rows: the reference table's alone (a long-lived process keeps them)."""
        where = f" WHERE {self.where.sql('t')}" if self.where is not None else ""
        keys = ", ".join(f"{table_value('t', tc, c)} AS k{i}" for i, (c, tc, _) in enumerate(self.match))
        groups = ", ".join(str(i + 1) for i in range(len(self.match)))
        return f"SELECT {keys}, {self._aggregates()} FROM {self.table} t{where} GROUP BY {groups}"

    def create_sql(self) -> str:
        if self.keyed:
            return f"CREATE TEMP TABLE {self.name} AS {self.keyed_sql()}"
        on = []
        for claim_col, table_col, by in self.match:
            line_v, tab_v = claim_value("l", claim_col), table_value("t", table_col, claim_col)
            if by == "prefix":
                on.append(f"starts_with({line_v}, {tab_v})")
            elif by == "prefix_or_blank":  # an empty cell admits any value
                on.append(f"(coalesce({tab_v}, '') = '' OR starts_with({line_v}, {tab_v}))")
            elif by == "equal_or_blank":  # an empty cell admits any value
                on.append(f"(coalesce({tab_v}, '') = '' OR {tab_v} = {line_v})")
            else:
                on.append(f"{tab_v} = {line_v}")
        if self.dated:  # an empty cell: valid since (or until) whenever
            on.append("(t.valid_from IS NULL OR l.fee_date >= t.valid_from) AND "
                      "(t.valid_to IS NULL OR l.fee_date <= t.valid_to)")
        where = f" AND {self.where.sql('t')}" if self.where is not None else ""
        if self.regions:  # no line outside the contract's jurisdiction is read by its rules
            where += " AND (" + " OR ".join(f"starts_with(l.mdtrtarea_admvs, {lit(p)})" for p in self.regions) + ")"
        keys = ", ".join(f"l.{q(c)}" for c in self.line_columns())
        return (f"CREATE TEMP TABLE {self.name} AS SELECT {keys}, {self._aggregates()} "
                f"FROM (SELECT DISTINCT {keys} FROM lines l) l JOIN {self.table} t ON {' AND '.join(on)}{where} "
                f"GROUP BY {keys}")


class Lookups:
    def __init__(self):
        self.all: list[Lookup] = []

    def add(self, contract, table: str, match, where, value, listing, dated: bool = False) -> Lookup:
        match = tuple(tuple(m) for m in match)
        wtext = where.text if where is not None else None
        regions = tuple(sorted(contract.regions))
        for lk in self.all:
            if (lk.table, lk.match, lk.value, lk.listing, lk.regions, lk.dated) == \
                    (table, match, value, listing, regions, dated) and \
                    (lk.where.text if lk.where is not None else None) == wtext:
                return lk
        lk = Lookup(len(self.all), table, match, where, value, listing, regions, dated)
        self.all.append(lk)
        return lk

    def text_columns(self) -> set[str]:
        return {c for lk in self.all for c in lk.text_columns()}
