"""Pieces several kinds share: money tolerance, limits (fixed, table lookup, steps), SQL helpers."""
from __future__ import annotations

from .. import expr as expr_mod
from ..claims.fields import COLUMNS as FIELDS

TOLERANCE = 0.005  # amounts are compared to the fen: over means over by more than half a fen


def money(sql: str) -> str:
    return f"round(CAST({sql} AS DOUBLE), 2)"


def fmt(sql: str) -> str:
    """A money value written to the fen, rounded half away from zero first (60.125 -> 60.13), so
    that every engine writes the same text."""
    return f"printf('%.2f', round(CAST({sql} AS DOUBLE), 2))"


def text(a: str, column: str) -> str:
    """A line's value as text for a message: numbers as their shortest decimal (500.0, 1e-05),
    marked DOUBLE so that another dialect writes them the same way."""
    if column in FIELDS and FIELDS[column].family == "number":
        return f"CAST(CAST({a}.{q(column)} AS DOUBLE) AS VARCHAR)"
    return f"CAST({a}.{q(column)} AS VARCHAR)"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


MATCH_BY = ["equal", "prefix", "equal_or_blank", "prefix_or_blank"]


def match_spec(m) -> tuple[str, str]:
    """A match entry (a table column, or {column, by}) as (table column, by)."""
    return (m, "equal") if isinstance(m, str) else (m["column"], m["by"])


LIMIT_SCHEMA = {
    "description": "A limit: a fixed `value` per unit, a `lookup` in a reference table (per unit, or "
                   "per line with per: line), or per-line `steps` over cnt (first unit, each further unit, maximum).",
    "type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
    "properties": {
        "value": {"type": "number", "minimum": 0},
        "lookup": {
            "type": "object", "additionalProperties": False, "required": ["table", "match", "value"],
            "properties": {
                "table": {"type": "string"},
                "match": {"type": "object", "minProperties": 1,
                          "additionalProperties": {"oneOf": [
                              {"type": "string", "description": "the table column the claim column must equal"},
                              {"type": "object", "additionalProperties": False, "required": ["column", "by"],
                               "properties": {"column": {"type": "string"}, "by": {"enum": MATCH_BY}}}]},
                          "description": "claim column -> table column; a line matches a row when all match "
                                         "(equal; or by: prefix — the claim value starts with the cell, "
                                         "prefix_or_blank — the same, an empty cell admitting any value, "
                                         "equal_or_blank); the limit is the largest value of the rows matched"},
                "value": {"type": "string", "description": "the table column holding the limit"},
                "where": {"type": "string", "description": "condition over table columns choosing rows"},
                "per": {"enum": ["unit", "line"], "default": "unit",
                        "description": "unit: the value is per unit of cnt; line: per line whatever cnt is "
                                       "(an item priced per time, where cnt 2 is a second time)"},
            },
        },
        "steps": {
            "type": "object", "additionalProperties": False, "required": ["first", "each_further"],
            "properties": {"first": {"type": "number", "minimum": 0},
                           "each_further": {"type": "number", "minimum": 0},
                           "max": {"type": "number", "minimum": 0}},
        },
    },
}


class Limit:
    """A limit spec compiled to SQL. `per_unit` limits multiply by cnt; `steps` give a line total."""

    def __init__(self, spec: dict, contract, error, path=("limit",)):
        self.spec = spec
        self.kind = next(iter(spec))
        self.per_unit = self.kind == "value" or (self.kind == "lookup" and spec["lookup"].get("per") != "line")
        if self.kind == "lookup":
            lk = spec["lookup"]
            table = contract.tables.get(lk["table"])
            if table is None:
                raise error(path + ("lookup", "table"), f"unknown table {lk['table']!r}", sorted(contract.tables))
            cols = set(table.columns)
            self.match = {c: match_spec(m) for c, m in lk["match"].items()}
            for claim_col, (table_col, _) in self.match.items():
                if claim_col not in FIELDS:
                    raise error(path + ("lookup", "match", claim_col), f"unknown claim column {claim_col!r}",
                                sorted(FIELDS))
                if table_col not in cols:
                    raise error(path + ("lookup", "match", claim_col),
                                f"table {table.name!r} has no column {table_col!r}", sorted(cols))
            if lk["value"] not in cols:
                raise error(path + ("lookup", "value"), f"table {table.name!r} has no column {lk['value']!r}",
                            sorted(cols))
            self.where = None
            if "where" in lk:
                try:
                    self.where = expr_mod.parse(lk["where"], cols)
                except expr_mod.ExprError as e:
                    raise error(path + ("lookup", "where"), str(e), e.choices) from None
            self.table = table

    def tables(self) -> list[str]:
        return [self.spec["lookup"]["table"]] if self.kind == "lookup" else []

    def columns(self) -> set[str]:
        if self.kind == "lookup":
            return set(self.spec["lookup"]["match"])
        return {"cnt"} if self.kind == "steps" else set()

    def bind(self, ctx, key: str = "limit") -> None:
        if self.kind == "lookup":
            lk = self.spec["lookup"]
            ctx.lookup(key, lk["table"], [(c, t, by) for c, (t, by) in self.match.items()], self.where,
                       value=lk["value"])

    def applies(self, ctx, a: str, key: str = "limit") -> str | None:
        """Lookup limits judge only lines the table has a row for."""
        return f"{ctx.lk[key].col(a, 'hit')} IS NOT NULL" if self.kind == "lookup" else None

    def judgeable(self, ctx, a: str, key: str = "limit") -> str | None:
        """A table row whose limit cell is empty cannot judge the line it matches."""
        return f"{ctx.lk[key].col(a, 'v')} IS NOT NULL" if self.kind == "lookup" else None

    def sql(self, ctx, a: str, key: str = "limit") -> tuple[str, str]:
        """(limit per unit, or per line for steps; citation) for line alias `a`."""
        if self.kind == "value":
            return repr(float(self.spec["value"])), "NULL"
        if self.kind == "steps":
            s = self.spec["steps"]
            total = f"({s['first']} + greatest({a}.cnt - 1, 0) * {s['each_further']})"
            if "max" in s:
                total = f"least({total}, {s['max']})"
            return total, "NULL"
        return ctx.lk[key].col(a, "v"), ctx.lk[key].col(a, "ref")

    def describe(self) -> str:
        if self.kind == "value":
            return f"{self.spec['value']} per unit"
        if self.kind == "steps":
            s = self.spec["steps"]
            cap = f", at most {s['max']}" if "max" in s else ""
            return f"{s['first']} for the first unit, +{s['each_further']} each further{cap}"
        lk = self.spec["lookup"]
        return f"per {lk.get('per', 'unit')}, from table {lk['table']}.{lk['value']}"
