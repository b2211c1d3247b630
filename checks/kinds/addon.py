"""Add-on billed with its base item (加收项目随主项目收取).

What it checks: a line billing one of the rule's codes — an add-on (加收, 每增加…) — needs a base
item of the `base` code sets in the same visit (mdtrt_id), with units left after refunds. A
visit whose base lines are all refunded has no base; an add-on line is never its own base. The base lines must fall in the same
contract version and jurisdiction; a base billed before or after the add-on in the visit counts
alike. Refund lines of the add-on itself are not judged.

Why: an add-on is priced as a surcharge on its base (每增加1椎体 on the first vertebra, a
fluorescence-imaging surcharge on an operation); billed alone it charges for what was not done,
or bills the base's work at the add-on's price.
Money at stake: the add-on line.

Example:
    - id: JX-3-addon
      kind: addon
      codes: [cervical_screw_addon]
      params: {base: [cervical_screw_base]}
"""
from __future__ import annotations

from . import RuleKind, register
from ._common import lit

REFUND = "({a}.cnt < 0 OR {a}.det_item_fee_sumamt < 0 OR coalesce({a}.refd_setl_flag = '1', FALSE))"


@register("addon")
class AddOn(RuleKind):
    params_schema = {
        "type": "object", "additionalProperties": False, "required": ["base"],
        "properties": {"base": {"type": "array", "minItems": 1, "items": {"type": "string"},
                                "description": "code sets of the base items the add-on needs in its visit"}},
    }
    message = "加收项目 {actual} 须随主项目收取：同次就诊无 {expected}"

    def prepare(self, error):
        for i, name in enumerate(self.p["base"]):
            if name not in self.contract.code_sets:
                raise error(("base", i), f"unknown code set {name!r}", sorted(self.contract.code_sets))

    def candidate_codes(self):
        return list(self.rule.codes) + list(self.p["base"])

    def candidate(self, ctx, a):
        return f"({super().candidate(ctx, a)} OR {ctx.codes(a, self.p['base'])})"

    def groups(self):
        return [("mdtrt_id",)]  # the base items of the same visit

    def columns(self):
        return {"cnt", "det_item_fee_sumamt"}

    def reads(self):
        return self.columns() | {"refd_setl_flag"}

    def findings(self, ctx):
        base = f"{ctx.codes('b', self.p['base'])} AND NOT {ctx.codes('b', self.rule.codes)}"
        units = f"(CASE WHEN {REFUND.format(a='b')} THEN -1 ELSE 1 END) * abs(coalesce(b.cnt, 1))"
        titles = "、".join(self.contract.code_sets[n].title for n in self.p["base"])
        return f"""
            SELECT {ctx.finding('l', lit(titles), "l.hilist_code || ' ' || coalesce(l.hilist_name, '')",
                                'l.det_item_fee_sumamt')}
            FROM {ctx.lines('l')}
            LEFT JOIN (SELECT b.mdtrt_id, sum({units}) AS units FROM lines b
                       WHERE {ctx.base('b')} AND {base} GROUP BY b.mdtrt_id) v ON v.mdtrt_id = l.mdtrt_id
            WHERE {ctx.scope('l')} AND NOT {REFUND.format(a='l')} AND coalesce(v.units, 0) <= 0"""
