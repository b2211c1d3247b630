"""Contract conditions as pandas `DataFrame.query` strings, with SQL's three-valued logic.

A condition over claim columns is NULL when a value it needs is empty; claimcheck reads
`coalesce(cond, FALSE)` for a rule's `when` and treats a NULL `require` as not met. pandas has no
NULL: `x != 0` is True for NaN and `~(x > 0)` is True for NaN. So each condition is translated
twice: `true(c)` selects the lines where c is TRUE, `false(c)` those where it is FALSE; the lines
in neither are the NULL ones. NOT swaps the two, AND and OR combine them as Kleene logic does.

Custom functions (age_years, risk_ratio) become helper columns (see frame.py). What has no
faithful pandas form (LIKE, division, text functions, …) raises Unsupported with the reason.
"""
from __future__ import annotations

from sqlglot import exp

COMPARE = {exp.EQ: "==", exp.NEQ: "!=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}
NEGATE = {"==": "!=", "!=": "==", ">": "<=", ">=": "<", "<": ">=", "<=": ">"}
ARITH = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*"}


class Unsupported(Exception):
    """A condition with no faithful pandas-query form; the message says which part and why."""


def strip(node):
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def column_name(node) -> str | None:
    node = strip(node)
    return node.name if isinstance(node, exp.Column) else None


def literal(node):
    """The Python value of a literal node, or raise Unsupported."""
    node = strip(node)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        text = node.this
        return int(text) if text.lstrip("-").isdigit() else float(text)
    if isinstance(node, exp.Boolean):
        return node.this
    if isinstance(node, exp.Neg) and isinstance(strip(node.this), exp.Literal):
        return -literal(node.this)
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.DATE) and isinstance(node.this, exp.Literal):
        return node.this.this  # 'yyyy-mm-dd': pandas compares datetime columns with ISO text
    raise Unsupported(f"{node.sql()} is not a literal")


def is_literal(node) -> bool:
    try:
        literal(node)
        return True
    except Unsupported:
        return False


class Translator:
    """Renders condition trees; `helpers.function(name, columns)` names a helper column."""

    def __init__(self, helpers):
        self.helpers = helpers

    # ---- values -------------------------------------------------------------------------
    def value(self, node) -> str:
        node = strip(node)
        if isinstance(node, exp.Column):
            return node.name
        if is_literal(node):
            return repr(literal(node))
        if type(node) in ARITH:
            return f"({self.value(node.this)} {ARITH[type(node)]} {self.value(node.expression)})"
        if isinstance(node, exp.Neg):
            return f"(-{self.value(node.this)})"
        if isinstance(node, exp.Anonymous):
            cols = [column_name(a) for a in node.expressions]
            if None in cols:
                raise Unsupported(f"{node.sql()}: the export takes only column arguments")
            return self.helpers.function(node.name.lower(), cols)
        raise Unsupported(f"{node.sql()}: {type(node).__name__.lower()} has no pandas form in the export")

    def nullable(self, node) -> str | None:
        """A mask of non-null values of `node` (None for a literal, never null)."""
        if is_literal(node):
            return None
        v = self.value(node)
        return f"({v} == {v})"  # NaN != NaN; pandas compares missing values as unequal

    # ---- conditions ---------------------------------------------------------------------
    def true(self, node) -> str:
        return self._render(strip(node), True)

    def false(self, node) -> str:
        return self._render(strip(node), False)

    def _render(self, node, want: bool) -> str:  # noqa: C901 (one branch per node type)
        if isinstance(node, exp.Paren):
            return self._render(strip(node), want)
        if isinstance(node, exp.Not):
            return self._render(strip(node.this), not want)
        if isinstance(node, (exp.And, exp.Or)):
            a, b = self._render(strip(node.this), want), self._render(strip(node.expression), want)
            joint = "&" if isinstance(node, exp.And) == want else "|"
            return f"({a} {joint} {b})"
        if type(node) in COMPARE:
            return self._compare(node.this, COMPARE[type(node)] if want else NEGATE[COMPARE[type(node)]],
                                 node.expression)
        if isinstance(node, exp.Between):
            lo = self._compare(node.this, ">=" if want else "<", node.args["low"])
            hi = self._compare(node.this, "<=" if want else ">", node.args["high"])
            return f"({lo} {'&' if want else '|'} {hi})"
        if isinstance(node, exp.In):
            col = self._column(node.this, "IN")
            values = [literal(v) for v in node.expressions]
            if any(v is None for v in values):
                raise Unsupported("IN lists with NULL")
            return f"({col} in {values!r})" if want else f"(({col} not in {values!r}) & ({col} == {col}))"
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
            col = self._column(node.this, "IS NULL")
            return f"{col}.isna()" if want else f"{col}.notna()"
        if isinstance(node, exp.StartsWith):
            col = self._column(node.this, "starts_with")
            prefix = literal(node.expression)
            return (f"{col}.str.startswith({prefix!r}, na=False)" if want
                    else f"(~{col}.str.startswith({prefix!r}, na=True))")
        if isinstance(node, exp.Column):  # a boolean column
            return f"({node.name} == {want!r})"
        raise Unsupported(f"{node.sql()}: {type(node).__name__.lower()} has no pandas-query form in the export")

    def _column(self, node, what) -> str:
        name = column_name(node)
        if name is None:
            raise Unsupported(f"{what} over an expression ({strip(node).sql()}); the export takes a column")
        return name

    def _compare(self, a, op, b) -> str:
        left, right = self.value(a), self.value(b)
        if op != "!=":
            return f"({left} {op} {right})"
        known = [m for m in (self.nullable(a), self.nullable(b)) if m]
        return "(" + " & ".join([f"({left} != {right})", *known]) + ")"


def conjunction(parts: list[str]) -> str:
    """AND of pandas-query masks, each parenthesised."""
    return " & ".join(f"({p})" for p in parts if p)
