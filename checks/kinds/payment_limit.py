"""Fund payment standard (医保支付限额 / 基金最高支付标准) on the in-policy amount.

What it checks: the amount the fund's share is computed on — by default `inpolicy_amt` (政策范围
内金额 including 先行自付, the same under both money conventions); a contract may name another
expression over claim columns in `amount` — may not exceed the payment standard: a fixed `value`
or table `lookup` per unit (times `cnt`), a `lookup` with `per: line` (an item paid per time:
the standard applies to the line whatever its cnt, and a cnt above 1 is a frequency matter), or
`steps` per line. A charge above the standard is not itself a finding: the part above is the
patient's. A fund share computed on more than the standard is.

Why: the fund overpays by exactly the amount above the standard.
Money at stake: the in-policy amount above the standard.

Example:
    - id: JS-6-limit
      kind: payment_limit
      codes: [nipt_detection, nipt_diagnosis]
      params:
        limit: {lookup: {table: attachment3, match: {hilist_code: hilist_code}, value: payment_limit}}
"""
from __future__ import annotations

from .. import expr as expr_mod
from ..claims.fields import COLUMNS
from . import RuleKind, register
from ._common import LIMIT_SCHEMA, TOLERANCE, Limit, fmt, money


@register("payment_limit")
class PaymentLimit(RuleKind):
    params_schema = {
        "type": "object", "additionalProperties": False, "required": ["limit"],
        "properties": {"limit": LIMIT_SCHEMA,
                       "amount": {"type": "string", "default": "inpolicy_amt",
                                  "description": "expression over claim columns: the fund-eligible amount"}},
    }

    def prepare(self, error):
        self.limit = Limit(self.p["limit"], self.contract, error)
        try:
            self.amount = expr_mod.parse(self.p.get("amount", "inpolicy_amt"), set(COLUMNS))
        except expr_mod.ExprError as e:
            raise error(("amount",), str(e), e.choices) from None
        what = "政策范围内金额" if self.amount.text == "inpolicy_amt" else f"{self.amount.text} ="
        self.message = what + " {actual} 元超过支付标准 {expected} 元"

    def columns(self):
        return set(self.amount.columns) | {"cnt"} | self.limit.columns()

    def tables(self):
        return self.limit.tables()

    def bind(self, ctx):
        self.limit.bind(ctx)

    def applies(self, ctx, a):
        return self.limit.applies(ctx, a)

    def judgeable(self, ctx, a):
        limit = self.limit.judgeable(ctx, a)
        return f"({self.amount.sql(a)}) IS NOT NULL" + (f" AND {limit}" if limit else "")

    def findings(self, ctx):
        limit, ref = self.limit.sql(ctx, "l")
        total = f"({limit} * l.cnt)" if self.limit.per_unit else limit
        amount = self.amount.sql("l")
        return f"""
            SELECT {ctx.finding('l', fmt(total), fmt(amount), money(f'{amount} - {total}'), ref)}
            FROM {ctx.lines('l')} WHERE {ctx.scope('l')} AND {amount} > {total} + {TOLERANCE}"""
