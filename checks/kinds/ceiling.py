"""Charge ceiling (收费价格上限).

What it checks: the institution may not charge more than the ceiling. With a fixed `value` or a
table `lookup` the ceiling is per unit and the unit price `pric` is compared; with `steps` it is
per line (first unit, each further unit, an optional maximum) and `det_item_fee_sumamt` is
compared. With `per:` the lines of one group (e.g. one visit) are summed and compared with a
fixed `value`; the finding is reported once, on the group's last line.

Why: a line billed above its ceiling is an overcharge, whatever the fund later pays.
Money at stake: the amount above the ceiling.

Example:
    - id: JS-4
      kind: ceiling
      codes: [nipt_diagnosis]
      params:
        limit: {value: 60}
"""
from __future__ import annotations

from ..claims.fields import FIELDS
from . import RuleKind, register
from ._common import LIMIT_SCHEMA, TOLERANCE, Limit, fmt, money


@register("ceiling")
class Ceiling(RuleKind):
    params_schema = {
        "type": "object", "additionalProperties": False, "required": ["limit"],
        "properties": {
            "limit": LIMIT_SCHEMA,
            "per": {"type": "array", "minItems": 1, "items": {"enum": sorted(FIELDS)},
                    "description": "sum the lines of each group and compare the total"},
        },
    }

    def prepare(self, error):
        self.limit = Limit(self.p["limit"], self.contract, error)
        self.per = self.p.get("per")
        if self.per and self.limit.kind != "value":
            raise error(("per",), "a ceiling over a group (per:) takes a fixed limit: {value: N}")
        self.message = ("合计 {actual} 元超过单次收费上限 {expected} 元" if self.per else
                        "单价 {actual} 元超过收费上限 {expected} 元" if self.limit.per_unit else
                        "金额 {actual} 元超过收费上限 {expected} 元")

    def groups(self):
        return [tuple(self.per)] if self.per else []  # the lines of a group summed together

    def columns(self):
        cols = ({"cnt", "det_item_fee_sumamt"} if self.per else
                {"pric", "cnt"} if self.limit.per_unit else {"cnt", "det_item_fee_sumamt"})
        return cols | self.limit.columns() | set(self.per or [])

    def tables(self):
        return self.limit.tables()

    def reads(self):
        """A price from the table listing the contract's institutions reads how the line's
        institution was identified: the finding says so where it is not exactly a listed name."""
        inst = self.contract.institutions
        listing = inst is not None and inst.names[0] in self.tables()
        return self.columns() | ({"institution"} if listing else set())

    def bind(self, ctx):
        self.limit.bind(ctx)

    def applies(self, ctx, a):
        return self.limit.applies(ctx, a)

    def judgeable(self, ctx, a):
        return self.limit.judgeable(ctx, a)

    def findings(self, ctx):
        if self.per:
            value = float(self.p["limit"]["value"])
            per = ", ".join(f"l.{c}" for c in self.per)
            return f"""
                SELECT {ctx.finding('g', fmt(value), fmt('g.total'), money(f'g.total - {value}'))}
                FROM (SELECT l.*, sum(l.det_item_fee_sumamt) OVER (PARTITION BY {per}) AS total,
                             row_number() OVER (PARTITION BY {per} ORDER BY l.fee_ocur_time DESC, l.feedetl_sn DESC) AS k
                      FROM {ctx.lines('l')} WHERE {ctx.scope('l')}) g
                WHERE g.k = 1 AND g.total > {value} + {TOLERANCE}"""
        limit, ref = self.limit.sql(ctx, "l")
        if self.limit.per_unit:
            actual, over = "l.pric", f"(l.pric - {limit}) * l.cnt"
            cond = f"l.pric > {limit} + {TOLERANCE}"
        else:
            actual, over = "l.det_item_fee_sumamt", f"l.det_item_fee_sumamt - {limit}"
            cond = f"l.det_item_fee_sumamt > {limit} + {TOLERANCE}"
        return f"""
            SELECT {ctx.finding('l', fmt(limit), fmt(actual), money(over), ref)}
            FROM {ctx.lines('l')} WHERE {ctx.scope('l')} AND {cond}"""
