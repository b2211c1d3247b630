"""What a kind's translation into GX expectations works with: helper columns, reference-table
rows, pandas conditions, and the shape of its result. Plain data; Great Expectations is not
imported here (gx.py turns the result into GX objects).
"""
from __future__ import annotations

import decimal
import re
from dataclasses import dataclass, field

import duckdb
from sqlglot import exp

from ..claims.fields import FIELDS
from ..claims.normal import NORMALISE
from ..kinds._common import TOLERANCE, q
from .pandas_query import Translator, column_name

FUNCTIONS = {  # condition-language function -> (helper op, argument names)
    "age_years": ("age_years", ("birth", "on")),
    "risk_ratio": ("risk_ratio", ("column",)),
}


class NotExportable(Exception):
    """The rule (or a part of it) has no faithful GX form; the message says why."""


@dataclass
class Expect:
    type: str                # GX expectation type, e.g. expect_column_values_to_be_between
    kwargs: dict
    what: str                # what this expectation checks, in words
    condition: str = ""      # pandas condition narrowing the rule's scope for this part


@dataclass
class Translation:
    expectations: list[Expect]
    applies: str = ""        # the kind's own scope narrowing (claimcheck's applies())
    fails: str | None = None  # pandas condition true exactly on the rule's findings within scope


@dataclass
class Helper:
    name: str
    op: str
    args: dict
    definition: str

    def as_dict(self) -> dict:
        return {"name": self.name, "op": self.op, "args": self.args, "definition": self.definition}


def slug(text: str) -> str:
    return re.sub(r"\W", "_", text, flags=re.ASCII)


def threshold(value) -> float:
    """`value + 0.005` as DuckDB computes it from two decimal literals: exactly, then to double."""
    return float(decimal.Decimal(repr(float(value))) + decimal.Decimal(repr(TOLERANCE)))


@dataclass
class Context:
    """One contract version's export: collects helper columns and the claim columns used."""

    contract: object
    helpers: dict[str, Helper] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.q = Translator(self)
        self._con = None

    # ---- columns and helpers ---------------------------------------------------------
    def use(self, *cols: str) -> None:
        for c in cols:
            if c in FIELDS:
                self.columns[c] = FIELDS[c].family

    def helper(self, name: str, op: str, args: dict, definition: str, reads=()) -> str:
        self.use(*reads)
        h = Helper(name, op, args, definition)
        if name in self.helpers and self.helpers[name] != h:
            raise RuntimeError(f"helper column {name} defined twice differently")
        self.helpers[name] = h
        return name

    def function(self, name: str, cols: list[str]) -> str:
        """A helper column holding a condition-language function of claim columns."""
        if name not in FUNCTIONS:
            raise NotExportable(f"function {name}() has no helper column in the export")
        op, params = FUNCTIONS[name]
        if len(cols) != len(params):
            raise NotExportable(f"{name}() takes {len(params)} argument(s)")
        return self.helper(f"cc_{name}__{'__'.join(cols)}", op, dict(zip(params, cols)),
                           f"{name}({', '.join(cols)}) as claimcheck computes it", reads=cols)

    def norm(self, col: str) -> str:
        return self.helper(f"cc_norm_{col}", "norm", {"column": col},
                           f"cc_norm({col}): trimmed, full-width brackets （） folded to (), spaces removed",
                           reads=[col])

    def fee_date(self) -> str:
        return self.helper("cc_fee_date", "date_of", {"column": "fee_ocur_time"},
                           "the calendar date of fee_ocur_time (Asia/Shanghai)", reads=["fee_ocur_time"])

    def evaluate(self, name: str, expr: str, definition: str, reads=()) -> str:
        return self.helper(name, "eval", {"expr": expr}, definition, reads=reads)

    def value_column(self, node, name: str) -> str:
        """A column holding the value of a condition-language expression (itself if a column)."""
        col = column_name(node)
        if col:
            self.use(col)
            return col
        text = self.q.value(node)
        if text in self.helpers:  # a function of columns: already a helper column
            return text
        reads = [c.name for c in node.find_all(exp.Column)]
        return self.evaluate(name, text, f"{node.sql()} (SQL arithmetic: NULL when a value is empty)", reads)

    # ---- reference tables --------------------------------------------------------------
    def sql(self, query: str) -> list[tuple]:
        if self._con is None:
            self._con = duckdb.connect()
            self._con.execute(NORMALISE)
            for t in self.contract.tables.values():
                if t.data is not None:
                    self._con.register(f"ref_{t.name}", t.data)
        return self._con.sql(query).fetchall()

    def table_sql(self, name: str) -> str:
        return q(f"ref_{name}")

    def close(self):
        if self._con is not None:
            self._con.close()
