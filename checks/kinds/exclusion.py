"""Co-billing exclusion within a visit (不得同时收取 / 不得加收).

What it checks: in a visit (mdtrt_id) that bills any of the `with` code sets, no line may bill
the rule's own codes. The lines judged are those of the rule's `codes` in visits that bill a code
of `with` (a consultation fee in a visit without the diagnosis is not its business, and is not
counted as checked); the trigger lines must fall in the same contract version and jurisdiction.
With `unless_with`, a visit that also bills one of those code sets is exempt: the excluded line
may serve them (a blood draw in a visit that has other blood tests besides the one whose price
includes sampling).

Why: some services include another (a diagnosis report includes the consultation; a detection
price includes sample collection), so billing both in one visit charges twice.
Money at stake: the excluded line.

Example:
    - id: JS-5
      kind: exclusion
      codes: [consultation_fee]
      params: {with: [nipt_diagnosis]}
"""
from __future__ import annotations

from . import RuleKind, register

SETS = {"type": "array", "minItems": 1, "items": {"type": "string"}}


@register("exclusion")
class Exclusion(RuleKind):
    params_schema = {
        "type": "object", "additionalProperties": False, "required": ["with"],
        "properties": {"with": SETS,
                       "unless_with": {**SETS, "description": "code sets whose presence in the visit exempts it"}},
    }
    message = "与同次就诊的 {expected} 不得同时收取"

    def prepare(self, error):
        for key in ("with", "unless_with"):
            for i, name in enumerate(self.p.get(key, [])):
                if name not in self.contract.code_sets:
                    raise error((key, i), f"unknown code set {name!r}", sorted(self.contract.code_sets))

    def candidate_codes(self):
        return list(self.p["with"])  # its own codes join only in visits that bill one of these

    def candidate(self, ctx, a):
        return ctx.codes(a, self.p["with"])

    def companions(self, ctx):
        # its own codes, and what exempts a visit, only in visits that bill a code of `with`
        return [(list(self.rule.codes), list(self.p["with"]))] + \
            ([(list(self.p["unless_with"]), list(self.p["with"]))] if self.p.get("unless_with") else [])

    def groups(self):
        return [("mdtrt_id",)]  # the trigger items of the same visit

    def columns(self):
        return {"det_item_fee_sumamt"}

    def findings(self, ctx):
        # the trigger codes are gathered only in visits with a line in scope: in a NIPT lab's batch
        # nearly every visit bills the trigger, and gathering them all cost 0.7 s per 1M lines
        trigger = ctx.codes("t", self.p["with"])
        exempt, spared = "", ""
        if self.p.get("unless_with"):  # an anti-join on the exempt visits
            exempt = (f" LEFT JOIN (SELECT DISTINCT u.mdtrt_id FROM lines u WHERE {ctx.base('u')} AND "
                      f"{ctx.codes('u', self.p['unless_with'])} AND NOT {ctx.codes('u', self.rule.codes)}) x "
                      f"ON x.mdtrt_id = l.mdtrt_id")
            spared = " AND x.mdtrt_id IS NULL"
        return f"""
            SELECT {ctx.finding('l', 'v.codes', 'l.hilist_code', 'l.det_item_fee_sumamt')}
            FROM {ctx.lines('l')}
            JOIN (SELECT t.mdtrt_id, string_agg(DISTINCT t.hilist_code, ', ' ORDER BY t.hilist_code) AS codes
                  FROM lines t SEMI JOIN (SELECT DISTINCT o.mdtrt_id FROM {ctx.lines('o')} WHERE {ctx.scope('o')}) o
                    ON o.mdtrt_id = t.mdtrt_id
                  WHERE {ctx.base('t')} AND {trigger} GROUP BY t.mdtrt_id) v ON v.mdtrt_id = l.mdtrt_id
            {exempt}
            WHERE {ctx.scope('l')}{spared}"""
