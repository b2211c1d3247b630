"""Each rule kind as Great Expectations expectations on a pandas DataFrame of claim lines.

One function per kind, registered with @translates(kind) as the kinds register themselves.
A translator returns the expectations whose failing lines, within the rule's scope (which gx.py
writes as each expectation's row_condition), are exactly the lines claimcheck reports for the
rule; or raises NotExportable saying why GX cannot express the kind.
"""
from __future__ import annotations

import re

from ..kinds._common import TOLERANCE, q
from ..kinds.selfpay import ROUNDING
from .gx_context import Context, Expect, NotExportable, Translation, slug, threshold
from .gx_require import require_expectations

TRANSLATE = {}


def translates(kind: str):
    def deco(fn):
        TRANSLATE[kind] = fn
        return fn
    return deco


def translate(rule, ctx: Context) -> Translation:
    if rule.kind not in TRANSLATE:
        raise NotExportable(f"kind {rule.kind} has no GX translation")
    return TRANSLATE[rule.kind](rule, ctx)


# ---- limits shared by ceiling and payment_limit ------------------------------------------------
def limit_column(rule, limit, ctx: Context) -> tuple[str | None, str]:
    """(helper column of the limit per unit or per line, or None for a fixed value; its words)."""
    if limit.kind == "value":
        return None, f"{limit.spec['value']} per unit"
    name = f"cc_limit_{slug(rule.id)}"
    if limit.kind == "steps":
        s = limit.spec["steps"]
        ctx.helper(name, "steps", {"count": "cnt", **s}, f"{rule.id}: {limit.describe()} (over cnt)", reads=["cnt"])
        return name, limit.describe()
    lk = limit.spec["lookup"]
    pairs = list(lk["match"].items())
    keys = [ctx.norm(c) for c, _ in pairs]
    where = f"WHERE {limit.where.sql('t')}" if limit.where else ""
    cols = ", ".join(f"cc_norm(CAST(t.{q(tc)} AS VARCHAR))" for _, tc in pairs)
    rows = ctx.sql(f"SELECT {cols}, max(t.{q(lk['value'])}) FROM {ctx.table_sql(lk['table'])} t {where} "
                   f"GROUP BY ALL ORDER BY ALL")
    rows = [list(r) for r in rows if None not in r[:-1]]  # a NULL key matches no line
    ctx.helper(name, "lookup", {"keys": keys, "rows": rows, "table": lk["table"], "value": lk["value"]},
               f"{rule.id}: max({lk['table']}.{lk['value']}) over the table rows"
               + (f" where {lk['where']}" if "where" in lk else "")
               + " matching " + ", ".join(f"{c} = {tc}" for c, tc in pairs) + " (names normalised as cc_norm)")
    return name, limit.describe()


def over_limit(rule, ctx, amount: str, total_expr: str, words: str, reads) -> Translation:
    """Findings where `amount` > total + 0.005, total given as a pandas expression."""
    cap = ctx.evaluate(f"cc_max_{slug(rule.id)}", f"{total_expr} + {TOLERANCE!r}",
                       f"{rule.id}: {words}, plus the {TOLERANCE} tolerance", reads)
    e = Expect("expect_column_pair_values_a_to_be_greater_than_b",
               {"column_A": cap, "column_B": amount, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
               f"{amount} at most {words} (+{TOLERANCE})")
    return Translation([e], fails=f"({amount} > {cap})")


@translates("ceiling")
def ceiling(rule, ctx):
    impl = rule.impl
    if impl.per:
        raise NotExportable(
            f"sums the lines of each {'+'.join(impl.per)} group and reports the total once, on the group's "
            "last line; GX has no grouped aggregate (expect_column_sum_to_be_between sums a whole column)")
    col, words = limit_column(rule, impl.limit, ctx)
    amount = "pric" if impl.limit.per_unit else "det_item_fee_sumamt"
    ctx.use(amount)
    applies = f"{col}.notna()" if impl.limit.kind == "lookup" else ""
    if col is None:
        top = threshold(impl.limit.spec["value"])
        e = Expect("expect_column_values_to_be_between", {"column": amount, "max_value": top},
                   f"{amount} at most {words} (+{TOLERANCE})")
        return Translation([e], fails=f"({amount} > {top!r})")
    t = over_limit(rule, ctx, amount, col, words, [])
    t.applies = applies
    return t


@translates("payment_limit")
def payment_limit(rule, ctx):
    impl = rule.impl
    amount = ctx.value_column(impl.amount._tree, f"cc_amount_{slug(rule.id)}")
    col, words = limit_column(rule, impl.limit, ctx)
    ctx.use("cnt")
    if col is None:
        total = f"({float(impl.limit.spec['value'])!r} * cnt)"
    else:
        total = f"({col} * cnt)" if impl.limit.per_unit else col
    t = over_limit(rule, ctx, amount, total, words + (" times cnt" if impl.limit.per_unit else ""), ["cnt"])
    t.applies = f"{col}.notna()" if impl.limit.kind == "lookup" else ""
    return t


@translates("selfpay")
def selfpay(rule, ctx):
    p, s = rule.params, slug(rule.id)
    base = ctx.q.value(rule.impl.base._tree)
    ctx.use(*rule.impl.base.columns, "preselfpay_amt")
    raw = ctx.evaluate(f"cc_selfpay_raw_{s}", f"{base} * {p['ratio']!r}",
                       f"{rule.id}: ({rule.impl.base.text}) × {p['ratio']}")
    expected = ctx.helper(f"cc_selfpay_expected_{s}", "round_half_away", {"column": raw, "digits": 2},
                          f"{rule.id}: round(({rule.impl.base.text}) × {p['ratio']}, 2), half away from zero")
    excess = ctx.evaluate(f"cc_selfpay_excess_{s}", f"preselfpay_amt - {expected}",
                          f"{rule.id}: preselfpay_amt minus the expected self-pay-first amount")
    if p["mode"] == "at_most":
        kw, fails = {"max_value": ROUNDING}, f"({excess} > {ROUNDING!r})"
    else:
        kw = {"min_value": -ROUNDING, "max_value": ROUNDING}
        fails = f"(({excess} > {ROUNDING!r}) | ({excess} < {-ROUNDING!r}))"
    word = "at most" if p["mode"] == "at_most" else "exactly"
    e = Expect("expect_column_values_to_be_between", {"column": excess, **kw},
               f"preselfpay_amt {word} {p['ratio']:.0%} of {rule.impl.base.text} (to {ROUNDING})")
    return Translation([e], applies=f"({base} > 0)", fails=fails)  # NaN > 0 is False, as NULL in SQL


@translates("care_setting")
def care_setting(rule, ctx):
    allowed = list(rule.params["allowed"])
    ctx.use("med_type")
    e = Expect("expect_column_values_to_be_in_set", {"column": "med_type", "value_set": allowed},
               f"med_type one of {', '.join(allowed)}")
    return Translation([e], fails=f"((med_type not in {allowed!r}) & (med_type == med_type))")


@translates("window")
def window(rule, ctx):
    impl, col = rule.impl, ctx.fee_date()
    # GX reads 'yyyy-mm-dd' as a date, which pandas will not compare with datetimes: give midnight
    kw = {"column": col, "min_value": f"{impl.start.isoformat()}T00:00:00"}
    fails = f"({col} < {impl.start.isoformat()!r})"
    if impl.end:
        kw["max_value"] = f"{impl.end.isoformat()}T00:00:00"
        fails = f"({fails} | ({col} > {impl.end.isoformat()!r}))"
    e = Expect("expect_column_values_to_be_between", kw, f"fee date within {impl.start} … {impl.end or '(open)'}")
    return Translation([e], fails=fails)


@translates("scope")
def scope(rule, ctx):
    impl = rule.impl
    pairs = list(impl.match.items())  # claim column -> (table column, equal|prefix)
    where = f"WHERE {impl.where.sql('t')}" if impl.where else ""
    table = ctx.table_sql(impl.table.name)

    def values(cols):
        sel = ", ".join(f"cc_norm(CAST(t.{q(tc)} AS VARCHAR))" for tc in cols)
        return [r for r in ctx.sql(f"SELECT DISTINCT {sel} FROM {table} t {where} ORDER BY ALL") if None not in r]

    applies = ""
    lo = rule.params.get("listed_only")
    if lo:
        if impl.match[lo][1] != "equal":
            raise NotExportable("listed_only on a prefix match has no GX form in the export")
        applies = f"({ctx.norm(lo)} in {[r[0] for r in values([impl.match[lo][0]])]!r})"
    cols = [ctx.norm(c) for c, _ in pairs]
    label = f"{impl.table.name} ({impl.table.title})"
    if len(pairs) == 1:
        (c, (tc, by)), col = pairs[0], cols[0]
        found = [r[0] for r in values([tc])]
        if by == "prefix":
            regex = "^(?:" + "|".join(re.escape(v) for v in found) + ")"
            main = Expect("expect_column_values_to_match_regex", {"column": col, "regex": regex},
                          f"{c} starts with a {tc} of {label}")
        else:
            main = Expect("expect_column_values_to_be_in_set", {"column": col, "value_set": found},
                          f"{c} is a {tc} of {label}")
        empty = Expect("expect_column_values_to_not_be_null", {"column": col}, f"{c} is given (empty matches no row)")
        return Translation([main, empty], applies=applies)
    if len(pairs) == 2 and all(by == "equal" for _, (_, by) in pairs):
        return Translation(pair_in_table(pairs, cols, values([tc for _, (tc, _) in pairs]), label), applies=applies)
    raise NotExportable("matches more than two columns, or several with a prefix: GX's set expectations "
                        "take one column or a pair")


def pair_in_table(pairs, cols, rows, label) -> list[Expect]:
    """(a, b) must be a row: split on the column with fewer values, one in-set expectation per value.

    GX 1.24.1's expect_column_pair_values_to_be_in_set cannot take a row_condition on pandas (its
    filtered-row count ignores the condition, missing_count turns negative and it raises
    InvalidCacheValueError), so the pair is written with single-column expectations."""
    (a, b), (col_a, col_b) = [c for c, _ in pairs], cols
    if len({r[0] for r in rows}) < len({r[1] for r in rows}):
        (a, b), (col_a, col_b), rows = (b, a), (col_b, col_a), [(r[1], r[0]) for r in rows]
    allowed: dict[str, list[str]] = {}
    for x, key in rows:
        allowed.setdefault(key, []).append(x)
    out = [Expect("expect_column_values_to_be_in_set", {"column": col_b, "value_set": sorted(allowed)},
                  f"{b} appears in {label}")]
    out += [Expect("expect_column_values_to_be_in_set", {"column": col_a, "value_set": sorted(xs)},
                   f"({a}, {b}={key}) is a row of {label}", f"{col_b} == {key!r}")
            for key, xs in sorted(allowed.items())]
    out += [Expect("expect_column_values_to_not_be_null", {"column": col}, f"{c} is given (empty matches no row)")
            for c, col in ((a, col_a), (b, col_b))]
    return out


@translates("eligibility")
def eligibility(rule, ctx):
    return Translation(require_expectations(rule.impl.require._tree, ctx, slug(rule.id)))


@translates("frequency")
def frequency(rule, ctx):
    per = "+".join(rule.params["per"])
    raise NotExportable(
        f"a running count per {per} in date order, where refund lines count negative and cancel what they "
        "refund, flagging only the lines past the limit: GX expectations judge each line alone or a column "
        "as a whole, and expect_compound_columns_to_be_unique would flag the first payment and refunded ones too")


@translates("exclusion")
def exclusion(rule, ctx):
    raise NotExportable(
        f"judges a line by the other lines of its visit (a finding only when the same mdtrt_id also bills "
        f"{', '.join(rule.params['with'])}); no GX expectation looks across the rows of a group")
