"""Eligibility condition (限定支付条件).

What it checks: every line billing the rule's codes must satisfy `require`, a condition over
claim columns in the contract condition language (see `claimcheck functions`). A line where the
condition is false is a finding, and the values the condition read are shown. A line where it
cannot be decided (a value it needs is empty, and the rest does not settle it) is not judged: it
is counted apart, never passed.

Why: payment restricted to a class (乙类), an age, a diagnosis or a risk level is not due when
the line does not meet it.
Money at stake: the whole line.

Example:
    - id: JS-6-class
      kind: eligibility
      codes: [nipt_detection, nipt_diagnosis]
      params:
        require: chrgitm_lv IN ('02', '2')
"""
from __future__ import annotations

from .. import expr as expr_mod
from ..claims.fields import COLUMNS
from . import RuleKind, register
from ._common import lit, text


@register("eligibility")
class Eligibility(RuleKind):
    params_schema = {
        "type": "object", "additionalProperties": False, "required": ["require"],
        "properties": {"require": {"type": "string"}},
    }
    message = "不符合支付条件 {expected}（实际 {actual}）"

    def prepare(self, error):
        try:
            self.require = expr_mod.parse(self.p["require"], set(COLUMNS))
        except expr_mod.ExprError as e:
            raise error(("require",), str(e), e.choices) from None

    def columns(self):
        return {"det_item_fee_sumamt"}

    def reads(self):
        return self.columns() | set(self.require.columns)

    def judgeable(self, ctx, a):
        return f"({self.require.sql(a)}) IS NOT NULL"

    def findings(self, ctx):
        shown = " || ', ' || ".join(f"'{c}=' || coalesce({text('l', c)}, 'NULL')"
                                    for c in sorted(self.require.columns)) or "''"
        return f"""
            SELECT {ctx.finding('l', lit(self.require.text), shown, 'l.det_item_fee_sumamt')}
            FROM {ctx.lines('l')} WHERE {ctx.scope('l')} AND NOT coalesce({self.require.sql('l')}, FALSE)"""
