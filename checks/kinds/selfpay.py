"""Self-pay-first ratio (乙类先行自付比例).

What it checks: `preselfpay_amt` against `ratio` times the base amount — by default
`inscp_scp_amt + preselfpay_amt`, the in-policy part of the line before the self-pay-first
share is taken out (the national platform splits a line's total into 全自费 + 超限价 + 先行自付
+ 符合政策范围). `mode: at_most` flags a self-pay-first share above the ratio (the patient paid
too much); `mode: exactly` flags any difference (too little means the fund paid too much).
Differences up to one fen are rounding. Lines whose base is zero are not judged.

Why: the ratio is set by policy; a wrong one shifts money between patient and fund.
Money at stake: the difference from the expected self-pay-first amount.

Example:
    - id: JS-6-selfpay
      kind: selfpay
      codes: [nipt_detection, nipt_diagnosis]
      params: {ratio: 0.10, mode: at_most}
"""
from __future__ import annotations

from .. import expr as expr_mod
from ..claims.fields import COLUMNS
from . import RuleKind, register
from ._common import fmt, money

ROUNDING = 0.01


@register("selfpay")
class SelfPay(RuleKind):
    params_schema = {
        "type": "object", "additionalProperties": False, "required": ["ratio", "mode"],
        "properties": {"ratio": {"type": "number", "minimum": 0, "maximum": 1},
                       "mode": {"enum": ["at_most", "exactly"]},
                       "base": {"type": "string", "default": "inpolicy_amt",
                                "description": "expression over claim columns: the amount the ratio applies to"}},
    }

    def prepare(self, error):
        try:
            self.base = expr_mod.parse(self.p.get("base", "inpolicy_amt"), set(COLUMNS))
        except expr_mod.ExprError as e:
            raise error(("base",), str(e), e.choices) from None
        word = "不高于" if self.p["mode"] == "at_most" else "应为"
        self.message = "先行自付 {actual} 元，" + word + " {expected} 元（" + f"{self.p['ratio']:.0%}）"

    def columns(self):
        return set(self.base.columns) | {"preselfpay_amt"}

    def applies(self, ctx, a):
        return f"coalesce({self.base.sql(a)} > 0, TRUE)"

    def judgeable(self, ctx, a):
        return f"({self.base.sql(a)}) IS NOT NULL"

    def findings(self, ctx):
        expected = f"round({self.base.sql('l')} * {self.p['ratio']}, 2)"
        diff = f"(l.preselfpay_amt - {expected})"
        cond = f"{diff} > {ROUNDING}" if self.p["mode"] == "at_most" else f"abs({diff}) > {ROUNDING}"
        return f"""
            SELECT {ctx.finding('l', fmt(expected), fmt('l.preselfpay_amt'), money(f'abs({diff})'))}
            FROM {ctx.lines('l')} WHERE {ctx.scope('l')} AND {cond}"""
