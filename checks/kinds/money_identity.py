"""Money identity (数据质量：费用构成): a line's parts must add up under one convention.

What it checks: on every line a payment-standard or self-pay rule reads (a rule whose amount is
the in-policy amount), with all five money fields present, the total
det_item_fee_sumamt (T) must equal 全自费 F + 超限价 O + 符合政策范围金额 I, with or without
先行自付 P (T = F + O + P + I, or T = F + O + I), to the fen (tolerance 0.02 for rounding). A
line that adds up under neither gets this data-quality finding, and no payment-standard or
self-pay rule judges it: its in-policy amount cannot be known, so no policy verdict rests on it.

Why: a payment standard compared with a wrong base gives a wrong verdict either way; the report
says which lines could not be trusted and why, instead of guessing.
Money at stake: none (the finding is about the data, not the fund); the parts are shown.

This kind is built in: claimcheck adds rule DQ-MONEY (severity data_quality) to every run, as
if a contract held (a line T 500, F 0, O 100, P 37, I 370 fails: 507 and 470 are not 500):

Example:
    - id: DQ-MONEY
      kind: money_identity
      params: {}
"""
from __future__ import annotations

from ..claims import money
from . import RuleKind, register


@register("money_identity")
class MoneyIdentity(RuleKind):
    window_rule = True  # judged on every candidate line in a jurisdiction, whatever its date
    message = "费用构成不平衡：{actual}，两种口径（{expected}）均不成立"

    def columns(self):
        return set(money.PARTS)

    def candidate_codes(self):
        return []  # it reads the lines other rules read; it adds none

    def candidate(self, ctx, a):
        return "FALSE"

    def applies(self, ctx, a):
        return f"{a}._money"  # the line is read by a rule whose amount is the in-policy amount

    def findings(self, ctx):
        t, f, o, p, i = (f"round(l.{c}, 2)" for c in money.PARTS)
        actual = (f"printf('T %.2f, F %.2f, O %.2f, P %.2f, I %.2f', {t}, {f}, {o}, {p}, {i})")
        return f"""
            SELECT {ctx.finding('l', "'T = F + O + P + I；T = F + O + I'", actual, '0')}
            FROM {ctx.lines('l')} WHERE {ctx.scope('l')} AND l._conv = '{money.NEITHER}'"""
