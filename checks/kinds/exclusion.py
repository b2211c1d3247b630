"""Co-billing exclusion within a visit (不得同时收取 / 不得加收).

What it checks: in a visit (mdtrt_id) that bills any of the `with` code sets, no line may bill
the rule's own codes. The lines judged are those of the rule's `codes` in visits that bill a code
of `with` (a consultation fee in a visit without the diagnosis is not its business, and is not
counted as checked); the trigger lines must fall in the same contract version and jurisdiction.

Why: some services include another (a diagnosis report includes the consultation), so billing
both in one visit charges twice.
Money at stake: the excluded line.

Example:
    - id: JS-5
      kind: exclusion
      codes: [consultation_fee]
      params: {with: [nipt_diagnosis]}
"""
from __future__ import annotations

from . import RuleKind, register


@register("exclusion")
class Exclusion(RuleKind):
    params_schema = {
        "type": "object", "additionalProperties": False, "required": ["with"],
        "properties": {"with": {"type": "array", "minItems": 1, "items": {"type": "string"}}},
    }
    message = "与同次就诊的 {expected} 不得同时收取"

    def prepare(self, error):
        for i, name in enumerate(self.p["with"]):
            if name not in self.contract.code_sets:
                raise error(("with", i), f"unknown code set {name!r}", sorted(self.contract.code_sets))

    def candidate_codes(self):
        return list(self.p["with"])  # its own codes join only in visits that bill one of these

    def candidate(self, ctx, a):
        return ctx.codes(a, self.p["with"])

    def companions(self, ctx):
        return list(self.rule.codes), list(self.p["with"])

    def columns(self):
        return {"det_item_fee_sumamt"}

    def findings(self, ctx):
        trigger = ctx.codes("t", self.p["with"])
        return f"""
            SELECT {ctx.finding('l', 'v.codes', 'l.hilist_code', 'l.det_item_fee_sumamt')}
            FROM {ctx.lines('l')}
            JOIN (SELECT t.mdtrt_id, string_agg(DISTINCT t.hilist_code, ', ' ORDER BY t.hilist_code) AS codes
                  FROM lines t WHERE {ctx.base('t')} AND {trigger} GROUP BY t.mdtrt_id) v ON v.mdtrt_id = l.mdtrt_id
            WHERE {ctx.scope('l')}"""
