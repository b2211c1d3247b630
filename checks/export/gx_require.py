"""An eligibility condition (`require`) as GX expectations whose failing lines are the lines
where the condition is not TRUE (false, or NULL because a value it reads is empty).

    not TRUE(A AND B) = not TRUE(A)  or  not TRUE(B)   -> the expectations of A and of B
    not TRUE(A OR B)  = not TRUE(A) and not TRUE(B)   -> A's expectations, only where B is not TRUE
                                                          (or one regex when A, B test one column)
    NOT flips which truth value is wanted (De Morgan holds in SQL's three-valued logic);
    coalesce(A, FALSE) is TRUE exactly where A is TRUE.
An atom becomes a column expectation plus, since GX's column expectations skip empty values, an
expect_column_values_to_not_be_null on the same lines. Values other than columns and literals
(functions, arithmetic) are helper columns computed by the engine's SQL; an atom with no GX form
of its own (LIKE, …) is a helper column holding its truth value, expected TRUE (or FALSE).
claimcheck judges only the lines where the condition is TRUE or FALSE (gx.py puts that in the
row condition), so on the lines GX sees, "not TRUE" is "FALSE": the rule's findings.
"""
from __future__ import annotations

import re

from sqlglot import exp

from .gx_context import Context, Expect, NotExportable
from .pandas_query import COMPARE, NEGATE, Unsupported, coalesce_bool, column_name, is_literal, literal, strip

FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}


def require_expectations(tree, ctx: Context) -> list[Expect]:
    out: list[Expect] = []
    try:
        _need(strip(tree), True, "", ctx, out)
    except Unsupported as e:
        raise NotExportable(f"condition {tree.sql()}: {e}") from None
    seen, unique = set(), []
    for e in out:
        key = (e.type, repr(sorted(e.kwargs.items())), e.condition)
        if key not in seen:
            seen.add(key)
            unique.append(e)
    return unique


def _need(node, want: bool, cond: str, ctx, out):  # noqa: C901 (one branch per node type)
    """Append expectations failing on the lines (within `cond`) where `node` is not `want`."""
    node = strip(node)
    if isinstance(node, exp.Not):
        return _need(node.this, not want, cond, ctx, out)
    cb = coalesce_bool(node)
    if cb and cb[1] != want:  # coalesce(x, FALSE) is TRUE where x is; coalesce(x, TRUE) FALSE where x is
        return _need(cb[0], want, cond, ctx, out)
    if isinstance(node, (exp.And, exp.Or)):
        left, right = strip(node.this), strip(node.expression)
        if isinstance(node, exp.And) == want:  # every side must hold
            _need(left, want, cond, ctx, out)
            _need(right, want, cond, ctx, out)
            return
        regex = _one_column_regex(node) if want else None
        if regex:
            col, pattern, words = regex
            ctx.use(col)
            out.append(Expect("expect_column_values_to_match_regex", {"column": col, "regex": pattern}, words, cond))
            out.append(_given(col, cond))
            return
        other = ctx.q.true(right) if want else ctx.q.false(right)  # either side may hold
        return _need(left, want, _and(cond, f"~({other})"), ctx, out)
    if isinstance(node, exp.Between):
        lo, hi = node.args["low"], node.args["high"]
        both = exp.and_(exp.GTE(this=node.this.copy(), expression=lo.copy()),
                        exp.LTE(this=node.this.copy(), expression=hi.copy()))
        return _need(both, want, cond, ctx, out)
    if type(node) in COMPARE:
        op = COMPARE[type(node)] if want else NEGATE[COMPARE[type(node)]]
        return _compare(node.this, op, node.expression, cond, ctx, out)
    if isinstance(node, exp.In) and not node.args.get("query"):
        col = ctx.value_column(node.this)
        values = [literal(v) for v in node.expressions]
        kind = "expect_column_values_to_be_in_set" if want else "expect_column_values_to_not_be_in_set"
        out.append(Expect(kind, {"column": col, "value_set": values},
                          f"{col} {'' if want else 'not '}in {values}", cond))
        out.append(_given(col, cond))
        return
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        col = ctx.value_column(node.this)
        kind = "expect_column_values_to_be_null" if want else "expect_column_values_to_not_be_null"
        out.append(Expect(kind, {"column": col}, f"{col} is {'' if want else 'not '}empty", cond))
        return
    if isinstance(node, exp.StartsWith) and is_literal(node.expression):
        col, prefix = ctx.value_column(node.this), literal(node.expression)
        kind = "expect_column_values_to_match_regex" if want else "expect_column_values_to_not_match_regex"
        out.append(Expect(kind, {"column": col, "regex": "^" + re.escape(prefix)},
                          f"{col} {'starts' if want else 'does not start'} with {prefix}", cond))
        out.append(_given(col, cond))
        return
    # a boolean column, or a helper column holding the truth value of a part with no GX form
    col = ctx.value_column(node) if isinstance(node, exp.Column) else ctx.bool_column(node)
    out.append(Expect("expect_column_values_to_be_in_set", {"column": col, "value_set": [want]},
                      f"{node.sql()} is {want}" + ("" if col == column_name(node) else f" (helper column {col})"),
                      cond))
    out.append(_given(col, cond))


def _compare(a, op, b, cond, ctx, out):
    if is_literal(a) and not is_literal(b):
        a, b, op = b, a, FLIP[op]
    if is_literal(b):
        col = ctx.value_column(a)
        v = literal(b)
        if op in ("==", "!="):
            kind = "expect_column_values_to_be_in_set" if op == "==" else "expect_column_values_to_not_be_in_set"
            out.append(Expect(kind, {"column": col, "value_set": [v]}, f"{col} {op} {v!r}", cond))
        else:
            bound = {">": ("min_value", "strict_min"), ">=": ("min_value", None),
                     "<": ("max_value", "strict_max"), "<=": ("max_value", None)}[op]
            kw = {"column": col, bound[0]: v, **({bound[1]: True} if bound[1] else {})}
            out.append(Expect("expect_column_values_to_be_between", kw, f"{col} {op} {v!r}", cond))
        out.append(_given(col, cond))
        return
    left, right = ctx.value_column(a), ctx.value_column(b)
    if op in ("<", "<="):
        left, right, op = right, left, FLIP[op]
    if op in (">", ">="):
        out.append(Expect("expect_column_pair_values_a_to_be_greater_than_b",
                          {"column_A": left, "column_B": right, "or_equal": op == ">=", "ignore_row_if": "neither"},
                          f"{left} {op} {right}", cond))
    elif op == "==":
        out.append(Expect("expect_column_pair_values_to_be_equal",
                          {"column_A": left, "column_B": right, "ignore_row_if": "neither"}, f"{left} = {right}", cond))
    else:
        raise Unsupported(f"{left} <> {right}: GX has no expectation that two columns differ")


def _one_column_regex(node):
    """(column, regex, words) when an OR tree only tests one text column by equality, IN or prefix."""
    atoms, stack = [], [node]
    while stack:
        n = strip(stack.pop())
        if isinstance(n, exp.Or):
            stack += [n.this, n.expression]
        else:
            atoms.append(n)
    cols, alts = set(), []
    for a in atoms:
        if isinstance(a, exp.StartsWith) and column_name(a.this) and is_literal(a.expression):
            cols.add(column_name(a.this))
            alts.append(re.escape(str(literal(a.expression))) + ".*")
        elif isinstance(a, exp.In) and column_name(a.this) and all(
                isinstance(v, exp.Literal) and v.is_string for v in a.expressions):
            cols.add(column_name(a.this))
            alts += [re.escape(literal(v)) for v in a.expressions]
        elif isinstance(a, exp.EQ) and column_name(a.this) and isinstance(a.expression, exp.Literal) \
                and a.expression.is_string:
            cols.add(column_name(a.this))
            alts.append(re.escape(a.expression.this))
        else:
            return None
    if len(cols) != 1:
        return None
    col = cols.pop()
    return col, "^(?:" + "|".join(alts) + ")$", f"{col} matches {node.sql()}"


def _given(col, cond) -> Expect:
    return Expect("expect_column_values_to_not_be_null", {"column": col}, f"{col} is given (empty is not met)", cond)


def _and(a: str, b: str) -> str:
    return f"({a}) & ({b})" if a else b
