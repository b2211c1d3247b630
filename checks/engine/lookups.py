"""Reference-table lookups, joined once: one small table per distinct lookup, keyed by line.

A rule that needs a table (a price per institution and code, the list of listed institutions,
ICD-10 prefixes) declares a lookup; identical lookups of several rules are computed once. Each
is a temporary table (_fid, _row, hit, v, ref, listing) holding the candidate lines that match at
least one row: `v` the largest value, `ref` the rows' source_row, `listing` the values of a column
(what would have been allowed). Rules LEFT JOIN it on the line's position, so no correlated
sub-query runs per line.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..claims import normal
from ..claims.fields import COLUMNS, LATE
from ..kinds._common import lit, q


def claim_value(a: str, column: str) -> str:
    """A claim column as compared with a table: names without spaces and with half-width brackets
    (`institution` is normalised so by engine/identity.py, once per distinct name)."""
    if COLUMNS[column].family == "text" and column not in LATE:
        return normal.name(f"{a}.{q(column)}")
    return f"{a}.{q(column)}"


def table_value(a: str, column: str, claim_column: str) -> str:
    sql = f"CAST({a}.{q(column)} AS VARCHAR)"
    return normal.name(sql) if COLUMNS[claim_column].family == "text" else normal.value(claim_column, sql)


@dataclass
class Lookup:
    index: int
    table: str                       # registered table name
    match: tuple                     # ((claim column, table column, 'equal'|'prefix'|'equal_or_blank'), ...)
    where: object                    # checks.expr.Expr over table columns, or None
    value: str | None
    listing: str | None
    regions: tuple = ()              # the contract's jurisdiction: no other line is read by its rules

    @property
    def name(self) -> str:
        return f"lk{self.index}"

    def col(self, a: str, what: str) -> str:
        return f"{a}_{self.name}.{what}"

    def join(self, a: str) -> str:
        x = f"{a}_{self.name}"
        return f" LEFT JOIN {self.name} {x} ON {x}._fid = {a}._fid AND {x}._row = {a}._row"

    def create_sql(self) -> str:
        on = []
        for claim_col, table_col, by in self.match:
            line_v, tab_v = claim_value("l", claim_col), table_value("t", table_col, claim_col)
            if by == "prefix":
                on.append(f"starts_with({line_v}, {tab_v})")
            elif by == "equal_or_blank":  # an empty cell admits any value
                on.append(f"(coalesce({tab_v}, '') = '' OR {tab_v} = {line_v})")
            else:
                on.append(f"{tab_v} = {line_v}")
        where = f" AND {self.where.sql('t')}" if self.where is not None else ""
        if self.regions:
            where += " AND (" + " OR ".join(f"starts_with(l.mdtrtarea_admvs, {lit(p)})" for p in self.regions) + ")"
        value = f"max(CAST(t.{q(self.value)} AS DOUBLE))" if self.value else "NULL"
        listing = (f"string_agg(DISTINCT CAST(t.{q(self.listing)} AS VARCHAR), ', ' "
                   f"ORDER BY CAST(t.{q(self.listing)} AS VARCHAR))") if self.listing else "NULL"
        return (f"CREATE TEMP TABLE {self.name} AS SELECT l._fid, l._row, TRUE AS hit, {value} AS v, "
                f"string_agg(DISTINCT t.source_row, '; ' ORDER BY t.source_row) AS ref, {listing} AS listing "
                f"FROM lines l JOIN {self.table} t ON {' AND '.join(on)}{where} GROUP BY l._fid, l._row")


class Lookups:
    def __init__(self):
        self.all: list[Lookup] = []

    def add(self, contract, table: str, match, where, value, listing) -> Lookup:
        match = tuple(tuple(m) for m in match)
        wtext = where.text if where is not None else None
        regions = tuple(sorted(contract.regions))
        for lk in self.all:
            if (lk.table, lk.match, lk.value, lk.listing, lk.regions) == (table, match, value, listing, regions) and \
                    (lk.where.text if lk.where is not None else None) == wtext:
                return lk
        lk = Lookup(len(self.all), table, match, where, value, listing, regions)
        self.all.append(lk)
        return lk
