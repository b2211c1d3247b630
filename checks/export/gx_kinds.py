"""Each rule kind as Great Expectations expectations on the claim-line frame (frame.py).

One function per kind, registered with @translates(kind) as the kinds register themselves.
A translator returns the expectations whose failing lines, among the lines the rule judges
(which gx.py writes as each expectation's row_condition), are exactly the lines claimcheck
reports for the rule; or raises NotExportable saying why GX cannot express the kind.

The values compared are the engine's: a limit, the amount it is compared with, the tolerance
added to it are helper columns holding the kind's own SQL (Limit.sql, the amount expression,
`+ 0.005`), so a GX comparison of two columns is claimcheck's comparison of the same doubles.
"""
from __future__ import annotations

import re

from ..engine.identity import crosswalk_given
from ..engine.lookups import table_value
from ..kinds._common import TOLERANCE, q
from ..kinds.selfpay import ROUNDING
from ..engine.context import DATED
from .gx_context import SEP, Context, Expect, NotExportable, Translation
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


def cap(rule, ctx, total_sql: str, words: str) -> str:
    """A helper column: the limit plus the tolerance, as the kind's SQL computes `total + 0.005`."""
    return ctx.helper(f"max_{rule.id}", f"{total_sql} + {TOLERANCE}",
                      f"{rule.id}: {words}, plus the {TOLERANCE} tolerance (the kind's own SQL)")


def at_most(rule, ctx, amount: str, limit_col: str, words: str) -> Translation:
    e = Expect("expect_column_pair_values_a_to_be_greater_than_b",
               {"column_A": limit_col, "column_B": amount, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
               f"{amount} at most {words} (+{TOLERANCE})")
    return Translation([e], fails=f"({amount} > {limit_col})")


@translates("ceiling")
def ceiling(rule, ctx):
    impl = rule.impl
    if impl.per:
        raise NotExportable(
            f"sums the lines of each {'+'.join(impl.per)} group and reports the total once, on the group's "
            "last line; GX expectations judge a line alone or a whole column (expect_column_sum_to_be_between "
            "sums every line), and a helper column holding the group total would be claimcheck's verdict, not GX's")
    amount = "pric" if impl.limit.per_unit else "det_item_fee_sumamt"
    ctx.use(amount)
    limit, _ = impl.limit.sql(ctx.rule_context(rule), "l")
    words = impl.limit.describe()
    if impl.limit.kind == "value":  # a fixed number: the threshold DuckDB compares with, as a literal
        top = ctx.sql(f"SELECT CAST({limit} + {TOLERANCE} AS DOUBLE)")[0][0]
        e = Expect("expect_column_values_to_be_between", {"column": amount, "max_value": top},
                   f"{amount} at most {words} (+{TOLERANCE})")
        return Translation([e], fails=f"({amount} > {top!r})")
    return at_most(rule, ctx, amount, cap(rule, ctx, limit, words), words)


@translates("payment_limit")
def payment_limit(rule, ctx):
    impl = rule.impl
    amount = ctx.value_column(impl.amount._tree)
    limit, _ = impl.limit.sql(ctx.rule_context(rule), "l")
    ctx.use("cnt")
    total = f"({limit} * l.cnt)" if impl.limit.per_unit else limit
    words = impl.limit.describe() + (" times cnt" if impl.limit.per_unit else "")
    return at_most(rule, ctx, amount, cap(rule, ctx, total, words), words)


@translates("selfpay")
def selfpay(rule, ctx):
    p = rule.params
    base = rule.impl.base
    ctx.use(*base.columns, "preselfpay_amt")
    excess = ctx.helper(f"selfpay_excess_{rule.id}", f"(l.preselfpay_amt - round({base.sql('l')} * {p['ratio']}, 2))",
                        f"{rule.id}: preselfpay_amt minus round(({base.text}) × {p['ratio']}, 2), the expected "
                        "self-pay-first amount (the kind's own SQL)")
    if p["mode"] == "at_most":
        kw, fails = {"max_value": ROUNDING}, f"({excess} > {ROUNDING!r})"
    else:
        kw = {"min_value": -ROUNDING, "max_value": ROUNDING}
        fails = f"(({excess} > {ROUNDING!r}) | ({excess} < {-ROUNDING!r}))"
    word = "at most" if p["mode"] == "at_most" else "exactly"
    e = Expect("expect_column_values_to_be_between", {"column": excess, **kw},
               f"preselfpay_amt {word} {p['ratio']:.0%} of {base.text} (to {ROUNDING})")
    return Translation([e], fails=fails)


@translates("care_setting")
def care_setting(rule, ctx):
    allowed = list(rule.params["allowed"])
    ctx.use("med_type")
    e = Expect("expect_column_values_to_be_in_set", {"column": "med_type", "value_set": allowed},
               f"med_type one of {', '.join(allowed)}")
    return Translation([e], fails=f"(med_type not in {allowed!r})")


@translates("window")
def window(rule, ctx):
    impl = rule.impl
    # GX reads 'yyyy-mm-dd' as a date, which pandas will not compare with datetimes: give midnight
    kw = {"column": "fee_date", "min_value": f"{impl.start.isoformat()}T00:00:00"}
    fails = f"(fee_date < {impl.start.isoformat()!r})"
    if impl.end:
        kw["max_value"] = f"{impl.end.isoformat()}T00:00:00"
        fails = f"({fails} | (fee_date > {impl.end.isoformat()!r}))"
    e = Expect("expect_column_values_to_be_between", kw, f"fee date within {impl.start} … {impl.end or '(open)'}")
    return Translation([e], fails=fails)


@translates("eligibility")
def eligibility(rule, ctx):
    tree = rule.impl.require._tree
    return Translation(require_expectations(tree, ctx), fails=ctx.q.false(tree))


@translates("scope")
def scope(rule, ctx):
    """The line's match values must be a row of the table (rows chosen by `where`, cells normalised
    as the engine's lookups normalise them): one column compared by equality is an in-set
    expectation; several, or a prefix or blank-admitting cell, a regular expression over a helper
    key joining the line's values, one alternative per row."""
    impl = rule.impl
    if DATED <= set(impl.table.columns):
        raise NotExportable(f"table {impl.table.name} admits a line only by its rows valid on the line's date "
                            "(valid_from/valid_to): a GX expectation compares a line with one fixed set of rows")
    ctx.rule_context(rule)  # declares the listed_only lookup its scope reads
    pairs = list(impl.match.items())  # claim column -> (table column, equal|prefix|equal_or_blank)
    where = f"WHERE {impl.where.sql('t')}" if impl.where else ""
    cells = ", ".join(f"{table_value('t', tc, c)}" for c, (tc, _) in pairs)
    rows = ctx.sql(f"SELECT DISTINCT {cells} FROM {ctx.table_sql(impl.table.name)} t {where} ORDER BY ALL")
    label = f"{impl.table.name} ({impl.table.title})"
    names = ", ".join(c for c, _ in pairs)
    if len(pairs) == 1 and pairs[0][1][1] == "equal":
        col = ctx.claim_value(pairs[0][0])
        found = [r[0] for r in rows if r[0] is not None]  # a NULL cell matches no line
        main = Expect("expect_column_values_to_be_in_set", {"column": col, "value_set": found},
                      f"{names} is a {pairs[0][1][0]} of {label}")
        fails = f"~({col} in {found!r})"
    elif all(by == "equal" for _, (_, by) in pairs):
        key = key_column(rule, ctx, pairs)
        found = [SEP.join(r) for r in rows if None not in r]
        main = Expect("expect_column_values_to_be_in_set", {"column": key, "value_set": found},
                      f"({names}) is a row of {label}")
        fails = f"~({key} in {found!r})"
    else:
        key = key_column(rule, ctx, pairs) if len(pairs) > 1 else ctx.claim_value(pairs[0][0])
        alts = sorted({alt for r in rows if (alt := _row_regex(r, pairs)) is not None})
        regex = "^(?:" + "|".join(alts) + ")$" if alts else "(?!)"
        main = Expect("expect_column_values_to_match_regex", {"column": key, "regex": regex},
                      f"({names}) matches a row of {label} "
                      f"({', '.join(f'{c} {by} {tc}' for c, (tc, by) in pairs)})")
        fails = f"~({key}.str.contains({regex!r}, regex=True, na=False))"
    expectations = [main]
    if "institution" in impl.match and not crosswalk_given(ctx.contract):
        # a finding resting on a name nothing matched is suspect without the user's crosswalk
        ctx.use("institution_via")
        expectations = [Expect(main.type, main.kwargs, main.what + " (institution identified)",
                               "institution_via.notna()"),
                        Expect(main.type, main.kwargs, main.what + " (name matched no listed institution or alias, "
                               "and no crosswalk was supplied: suspect)", "institution_via.isna()", "suspect")]
    return Translation(expectations, fails=f"({fails})")


def key_column(rule, ctx, pairs) -> str:
    """A helper column joining the line's match values (normalised as lookups compare them)."""
    parts = []
    for c, _ in pairs:
        col = ctx.claim_value(c)
        parts.append(f"l.{q(col)}" if col == c else ctx.helpers[col].sql)
    return ctx.helper(f"key_{rule.id}", " || chr(31) || ".join(parts),
                      f"{rule.id}: {', '.join(c for c, _ in pairs)} joined by U+001F (names normalised)")


def _row_regex(row, pairs) -> str | None:
    """One table row as an alternative of the scope regex (None: a NULL cell matches no line)."""
    out = []
    for value, (_, (_, by)) in zip(row, pairs):
        if by == "equal_or_blank" and (value is None or value == ""):
            out.append(f"[^{SEP}]*")
        elif value is None:
            return None
        elif by == "prefix":
            out.append(re.escape(value) + f"[^{SEP}]*")
        else:
            out.append(re.escape(value))
    return re.escape(SEP).join(out)


_GROUP = ("GX expectations judge each line alone, or a whole column at once; none looks across the "
          "rows of a group, and a helper column holding the group's verdict would be claimcheck's verdict, not GX's")


@translates("frequency")
def frequency(rule, ctx):
    p = rule.params
    per = "+".join(p["per"])
    fb = p.get("fallback")
    extra = (f"; with an incomplete key it counts by {'+'.join(fb['per'])} within {fb['within_days']} days "
             f"({fb.get('severity', 'suspect')}), each finding's amount the share of units above the limit"
             if fb else "")
    raise NotExportable(
        f"a running count per {per} in date order, where refund lines count negative and cancel what they "
        f"refund, flagging only the lines past the limit{extra}: {_GROUP}; expect_compound_columns_to_be_unique "
        "would flag the first payment and refunded ones too")


@translates("exclusion")
def exclusion(rule, ctx):
    unless = rule.params.get("unless_with")
    raise NotExportable(
        f"judges a line by the other lines of its visit (a finding only when the same mdtrt_id also bills "
        f"{', '.join(rule.params['with'])}" + (f" and none of {', '.join(unless)}" if unless else "") + f"): {_GROUP}")


@translates("addon")
def addon(rule, ctx):
    raise NotExportable(
        f"needs a base item ({', '.join(rule.params['base'])}) with units left after refunds in the same visit "
        f"(mdtrt_id): {_GROUP}")


@translates("money_identity")
def money_identity(rule, ctx):
    raise NotExportable("a built-in data-quality rule (DQ-MONEY), not a contract rule")
