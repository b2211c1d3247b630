"""Contract conditions as pandas `DataFrame.query` strings, with SQL's three-valued logic.

A condition over claim columns is NULL when a value it needs is empty; claimcheck judges a rule's
lines only where its `when` is TRUE (NULL: in scope, but not judgeable). pandas has no NULL:
`x != 0` is True for NaN and `~(x > 0)` is True for NaN. So each condition is translated twice:
`true(c)` selects the lines where c is TRUE, `false(c)` those where it is FALSE; the lines in
neither are the NULL ones. NOT swaps the two, AND and OR combine them as Kleene logic does.

Only columns and literals are written in pandas. Any other value (a function such as age_years
or risk_ratio, arithmetic, a cast, coalesce) is a helper column the frame gets from DuckDB, by
the engine's own SQL for that part (Context.value_column); a boolean part with no pandas form
(LIKE, …) is a helper column holding its truth value (Context.bool_column).
"""
from __future__ import annotations

from sqlglot import exp

COMPARE = {exp.EQ: "==", exp.NEQ: "!=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}
NEGATE = {"==": "!=", "!=": "==", ">": "<=", ">=": "<", "<": ">=", "<=": ">"}


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


def coalesce_bool(node):
    """(x, default) for coalesce(x, TRUE|FALSE), else None."""
    if isinstance(node, exp.Coalesce) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Boolean):
        return strip(node.this), node.expressions[0].this
    return None


class Translator:
    """Renders condition trees; `ctx` (the export's Context) names helper columns."""

    def __init__(self, ctx):
        self.ctx = ctx

    # ---- values -------------------------------------------------------------------------
    def value(self, node) -> str:
        node = strip(node)
        if is_literal(node):
            return repr(literal(node))
        return self.ctx.value_column(node)

    # ---- conditions ---------------------------------------------------------------------
    def true(self, node) -> str:
        return self._render(strip(node), True)

    def false(self, node) -> str:
        return self._render(strip(node), False)

    def _render(self, node, want: bool) -> str:  # noqa: C901 (one branch per node type)
        node = strip(node)
        if isinstance(node, exp.Not):
            return self._render(node.this, not want)
        if isinstance(node, (exp.And, exp.Or)):
            a, b = self._render(node.this, want), self._render(node.expression, want)
            joint = "&" if isinstance(node, exp.And) == want else "|"
            return f"({a} {joint} {b})"
        cb = coalesce_bool(node)
        if cb:  # coalesce(x, D): x where x is known, D where it is NULL (never NULL itself)
            x, default = cb
            return f"(~{self._render(x, not want)})" if default == want else self._render(x, want)
        if type(node) in COMPARE:
            op = COMPARE[type(node)] if want else NEGATE[COMPARE[type(node)]]
            return self._compare(node.this, op, node.expression)
        if isinstance(node, exp.Between):
            lo = self._compare(node.this, ">=" if want else "<", node.args["low"])
            hi = self._compare(node.this, "<=" if want else ">", node.args["high"])
            return f"({lo} {'&' if want else '|'} {hi})"
        if isinstance(node, exp.In) and not node.args.get("query"):
            col = self.value(node.this)
            values = [literal(v) for v in node.expressions]
            if any(v is None for v in values):
                raise Unsupported("IN lists with NULL")
            return f"({col} in {values!r})" if want else f"(({col} not in {values!r}) & ({col} == {col}))"
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
            col = self.value(node.this)
            return f"{col}.isna()" if want else f"{col}.notna()"
        if isinstance(node, exp.StartsWith) and is_literal(node.expression):
            col = self.value(node.this)
            prefix = literal(node.expression)
            return (f"{col}.str.startswith({prefix!r}, na=False)" if want
                    else f"(~{col}.str.startswith({prefix!r}, na=True))")
        if isinstance(node, exp.Boolean):
            return "(index == index)" if node.this == want else "(index != index)"
        col = self.value(node) if isinstance(node, exp.Column) else self.ctx.bool_column(node)
        return f"({col} == {want!r})"  # a boolean column, or a helper holding the part's truth value

    def _compare(self, a, op, b) -> str:
        left, right = self.value(a), self.value(b)
        if op != "!=":
            return f"({left} {op} {right})"
        known = [f"({v} == {v})" for v, n in ((left, a), (right, b)) if not is_literal(n)]
        return "(" + " & ".join([f"({left} != {right})", *known]) + ")"


def conjunction(parts: list[str]) -> str:
    """AND of pandas-query masks, each parenthesised."""
    return " & ".join(f"({p})" for p in parts if p)
