"""Effective-date window (执行时间).

What it checks: the rule's codes may be billed only from `from` to `to` (inclusive; either may
be left out, and each defaults to the contract version's own dates). Unlike every other kind, it
judges lines dated outside the contract's window: flagging those is its whole point, e.g. an item
billed before the notice that created it took effect.

Why: a code billed before it existed, or a subsidy claimed outside the project's term, is paid
without a basis.
Money at stake: the whole line.

Example:
    - id: JS-W
      kind: window
      codes: [nipt_diagnosis]
      params: {from: 2025-01-01}
"""
from __future__ import annotations

import datetime as dt

from . import RuleKind, register

DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


@register("window")
class Window(RuleKind):
    params_schema = {"type": "object", "additionalProperties": False,
                     "properties": {"from": DATE, "to": DATE}}
    window_rule = True
    message = "费用发生日期 {actual} 不在执行期 {expected} 内"

    def prepare(self, error):
        try:
            self.start = dt.date.fromisoformat(self.p.get("from", self.contract.effective_from.isoformat()))
            end = self.p.get("to") or (self.contract.effective_to.isoformat() if self.contract.effective_to else None)
            self.end = dt.date.fromisoformat(end) if end else None
        except ValueError as e:
            raise error(("from",), f"not a date: {e}") from None
        if self.end and self.end < self.start:
            raise error(("to",), f"to ({self.end}) is before from ({self.start})")

    def columns(self):
        return {"det_item_fee_sumamt"}

    def findings(self, ctx):
        outside = [f"l.fee_date < DATE '{self.start}'"]
        if self.end:
            outside.append(f"l.fee_date > DATE '{self.end}'")
        expected = f"'{self.start} … {self.end or '(open)'}'"
        return f"""
            SELECT {ctx.finding('l', expected, 'l.fee_date', 'l.det_item_fee_sumamt')}
            FROM {ctx.lines('l')} WHERE {ctx.scope('l')} AND ({' OR '.join(outside)})"""
