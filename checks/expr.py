"""The condition language of contracts: SQL-style boolean expressions over claim columns.

Contracts hold no Python and nothing in them is eval'd. A condition such as

    price_class IN ('一类', '基层') AND inscp_scp_amt > 0

is parsed with sqlglot when the contract loads, checked against a whitelist of node types,
functions and known column names, and rendered to DuckDB SQL with every column qualified.

Allowed: column names, text/number/boolean/NULL literals, DATE 'yyyy-mm-dd', comparison
(= <> != < <= > >=), AND / OR / NOT, IN (...), BETWEEN, IS [NOT] NULL, LIKE, + - * /, and the
functions listed in FUNCTIONS. Anything else (sub-queries, statements, unknown functions,
unknown columns) is a contract error naming the file and line.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from .errors import Choices

# name -> (min args, max args, DuckDB template); {0}, {1} are the rendered arguments.
CUSTOM_FUNCTIONS = {
    # whole years between a birth date and a date (age on that day)
    "age_years": (2, 2, "date_sub('year', CAST({0} AS DATE), CAST({1} AS DATE))"),
    # a risk written '1:N' as a number (1/N); NULL when it is not of that form
    "risk_ratio": (1, 1, "(TRY_CAST(split_part({0}, ':', 1) AS DOUBLE) / "
                         "NULLIF(TRY_CAST(split_part({0}, ':', 2) AS DOUBLE), 0))"),
}
BUILTIN_FUNCTIONS = {
    exp.Coalesce: "coalesce", exp.Abs: "abs", exp.Round: "round", exp.Lower: "lower",
    exp.Upper: "upper", exp.Length: "length", exp.StartsWith: "starts_with",
    exp.Substring: "substr", exp.Trim: "trim",
}
FUNCTIONS = sorted(list(CUSTOM_FUNCTIONS) + list(BUILTIN_FUNCTIONS.values()))

_ALLOWED = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Tuple,
    exp.And, exp.Or, exp.Not, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is,
    exp.In, exp.Between, exp.Like, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Neg,
    exp.Cast, exp.DataType, exp.Anonymous, *BUILTIN_FUNCTIONS,
)


class ExprError(ValueError):
    def __init__(self, message: str, choices=None):
        super().__init__(message)
        self.choices = choices


@dataclass(frozen=True)
class Expr:
    text: str
    columns: frozenset[str]
    _tree: exp.Expression

    def sql(self, alias: str) -> str:
        """DuckDB SQL with every column qualified by `alias`."""

        def rewrite(node):
            if isinstance(node, exp.Column):
                return exp.column(node.name, table=alias, quoted=True)
            if isinstance(node, exp.Anonymous):
                lo, hi, template = CUSTOM_FUNCTIONS[node.name.lower()]
                args = [a.transform(rewrite).sql(dialect="duckdb") for a in node.expressions]
                return sqlglot.parse_one(template.format(*args), dialect="duckdb")
            return node

        return "(" + self._tree.copy().transform(rewrite).sql(dialect="duckdb") + ")"


def parse(text: str, columns: set[str] | frozenset[str]) -> Expr:
    """Parse and check `text`; raise ExprError saying what is wrong and what would be valid."""
    if not isinstance(text, str) or not text.strip():
        raise ExprError("a condition must be non-empty text")
    try:
        tree = sqlglot.parse_one(text, dialect="duckdb")
    except sqlglot.errors.ParseError as e:
        first = e.errors[0] if e.errors else {}
        raise ExprError(f"malformed condition {text!r}: {first.get('description', e)}"
                        f" (at character {first.get('col', '?')})") from None
    used = set()
    for node in tree.walk():
        if isinstance(node, exp.Func) and not isinstance(node, _ALLOWED):
            raise ExprError(f"unknown function {node.sql_name().lower()!r} in {text!r}",
                            Choices(FUNCTIONS, node.sql_name().lower()))
        if not isinstance(node, _ALLOWED):
            raise ExprError(f"{type(node).__name__.upper()} is not allowed in a condition: {text!r};"
                            " conditions are boolean expressions over claim columns")
        if isinstance(node, exp.Column):
            if node.table:
                raise ExprError(f"qualified column {node.sql()!r} is not allowed; write the bare column name")
            if node.name not in columns:
                raise ExprError(f"unknown column {node.name!r} in condition {text!r}",
                                Choices(sorted(columns), node.name))
            used.add(node.name)
        elif isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name not in CUSTOM_FUNCTIONS:
                raise ExprError(f"unknown function {node.name!r} in {text!r}", Choices(FUNCTIONS, node.name))
            lo, hi, _ = CUSTOM_FUNCTIONS[name]
            if not lo <= len(node.expressions) <= hi:
                raise ExprError(f"{name}() takes {lo} argument(s), got {len(node.expressions)}")
        elif isinstance(node, exp.Cast):
            if not node.to.is_type(exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP,
                                   exp.DataType.Type.DOUBLE, exp.DataType.Type.VARCHAR,
                                   exp.DataType.Type.INT, exp.DataType.Type.BIGINT,
                                   exp.DataType.Type.DECIMAL):
                raise ExprError(f"cast to {node.to.sql()} is not allowed in {text!r}")
    return Expr(text, frozenset(used), tree)
