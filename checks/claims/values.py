"""Value checks of the claim-line contract: declared once as a pandera schema, run in DuckDB.

Each check is defined here once with both of its executions: a pandas function (pandera runs it
when the schema validates a pandas frame, which the tests use as the reference) and a SQL
predicate for failing values (the engine's one scan over the batch counts failures per file, with
the first rows). `value_schema()` is the pandera DataFrameSchema; `compile_checks()` walks that
same schema object, so the SQL cannot drift from the declaration.

    not null      required fields
    not blank     required code and text fields (after trimming surrounding whitespace)
    pattern       fields with a pattern (regions of six digits, risks written 1:N)
    finite        every number: NaN, infinity and sizes past 1e15 (whose sums would overflow to
                  infinity) are errors, never a verdict or an output
    readable      a value from a partition folder must read as the field's type
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import normal
from .fields import FIELDS

LARGEST = 1e15  # no count or amount of a fee line is larger; sums of a billion such lines stay finite
FINITE = "must be a finite number (not NaN or infinity) of at most 1e15 in size, so that sums stay finite"
SQL_CAST = {"number": "DOUBLE", "timestamp": "TIMESTAMP", "date": "DATE", "boolean": "BOOLEAN"}


@dataclass(frozen=True)
class ValueCheck:
    """One failing-value predicate of one field: `sql(v)` is true where a value fails."""
    field: str
    name: str          # pandera check name ("not_nullable" for nullability)
    words: str         # what the value must be, for the error message
    sql: object        # callable(value_sql) -> failing predicate


def _pandas_checks():
    import math

    import pandera.pandas as pdr

    def matches(pattern):
        rx = re.compile(pattern)
        return pdr.Check(lambda s: s.map(lambda v: bool(rx.fullmatch(v)) if isinstance(v, str) else True),
                         name="pattern", statistics={"pattern": pattern}, error=f"must match {pattern}")

    not_blank = pdr.Check(lambda s: s.map(lambda v: not isinstance(v, str) or v.strip() != ""),
                          name="not blank", error="must not be blank")
    # ignore_na=False: a NaN is a value that fails, not an empty cell (frames use Arrow dtypes)
    finite = pdr.Check(lambda v: not isinstance(v, float) or (math.isfinite(v) and abs(v) <= LARGEST),
                       element_wise=True, ignore_na=False, name="finite", error=FINITE)
    return matches, not_blank, finite


_SCHEMA = None


def value_schema():
    """The pandera schema of claim values (columns as normalised: codes and text trimmed, numbers float)."""
    global _SCHEMA
    if _SCHEMA is None:
        import pandera.pandas as pdr

        matches, not_blank, finite = _pandas_checks()
        cols = {}
        for name, f in FIELDS.items():
            checks = []
            if f.required and f.family in ("code", "text"):
                checks.append(not_blank)
            if f.pattern:
                checks.append(matches(f.pattern))
            if f.family == "number":
                checks.append(finite)
            cols[name] = pdr.Column(nullable=not f.required, checks=checks, required=False)
        _SCHEMA = pdr.DataFrameSchema(cols, strict=False, name="claim values")
    return _SCHEMA


_SQL = {
    "not_nullable": ("must not be empty (null)", lambda v, f, st: f"{v} IS NULL"),
    "not blank": ("must not be blank", lambda v, f, st: normal.blank(v)),
    "pattern": (None, lambda v, f, st: f"NOT regexp_full_match({normal.key(v)}, '{st['pattern']}')"),
    "finite": (FINITE, lambda v, f, st: f"NOT (isfinite({v}) AND abs({v}) <= 1e15)"),
}


def compile_checks(fields: set[str], partition_typed: set[str] = frozenset()) -> list[ValueCheck]:
    """The failing-value predicates of the pandera value schema, for the fields the batch supplies.

    `partition_typed`: fields supplied as text by a partition folder although not text; each gets
    a `readable` check (its text must cast to the field's type)."""
    schema = value_schema()
    out = []
    for name in sorted(fields):
        col = schema.columns[name]
        if not col.nullable:
            words, sql = _SQL["not_nullable"]
            out.append(ValueCheck(name, "not_nullable", words, lambda v, f=name, s=sql: s(v, f, {})))
        for chk in col.checks:
            words, sql = _SQL[chk.name]
            stats = dict(chk.statistics or {})
            words = words or f"must match {stats['pattern']}"
            out.append(ValueCheck(name, chk.name, words, lambda v, f=name, s=sql, st=stats: s(v, f, st)))
        if name in partition_typed:
            typ = SQL_CAST[FIELDS[name].family]
            out.append(ValueCheck(name, "readable", f"must read as {typ.lower()} (a value from a partition folder)",
                                  lambda v, t=typ: f"({v} IS NOT NULL AND TRY_CAST({v} AS {t}) IS NULL)"))
    return out
