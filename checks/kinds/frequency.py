"""Frequency limit per key (每胎限支付1次 / 基金支付次数限1次/人).

What it checks: for each value of the `per` key (e.g. psn_no + fetts: one pregnancy), the
units billed under the rule's codes, summed over the batch in date order, may not exceed
`limit`. Every line that takes the running total above the limit is a finding, and names the
first line of the same key (its visit, line, date and institution) so both payments can be seen.
With `count: units` (the default) each line counts its `cnt`; with `count: lines` each line
counts 1 (for items billed per embryo or per egg, where cnt is not the number of payments). Either
way a refund line (negative quantity) counts negative and cancels what it refunds. Lines whose
key is empty cannot be counted and are not judged (they are not counted as checked).

Why: a limit on the number of fund payments is broken by the second payment, which usually
arrives in another visit.
Money at stake: the whole line.

Example:
    - id: JS-7
      kind: frequency
      codes: [nipt_detection]
      when: inscp_scp_amt > 0
      params: {per: [psn_no, fetts], limit: 1}
"""
from __future__ import annotations

from ..claims.fields import FIELDS
from . import RuleKind, register
from ._common import TOLERANCE


@register("frequency")
class Frequency(RuleKind):
    counts_history = True
    params_schema = {
        "type": "object", "additionalProperties": False, "required": ["per", "limit"],
        "properties": {
            "per": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": sorted(FIELDS)}},
            "limit": {"type": "integer", "minimum": 0},
            "count": {"enum": ["units", "lines"], "default": "units"},
        },
    }
    message = "第 {actual} 次（上限 {expected} 次），首次见 {related}"

    def columns(self):
        return set(self.p["per"]) | {"cnt", "det_item_fee_sumamt"}

    def applies(self, ctx, a):
        return " AND ".join(f"{a}.{c} IS NOT NULL" for c in self.p["per"])

    def findings(self, ctx):
        per = ", ".join(f"l.{c}" for c in self.p["per"])
        # ledger lines (earlier batches) come first, in the order they were recorded
        order = "l._seq, l.fee_ocur_time, l.mdtrt_id, l.feedetl_sn"
        unit = "1" if self.p.get("count") == "lines" else "abs(l.cnt)"
        refund = "l.cnt < 0 OR l.det_item_fee_sumamt < 0"
        if "refd_setl_flag" in ctx.fields:
            refund += " OR l.refd_setl_flag = '1'"
        units = f"(CASE WHEN {refund} THEN -1 ELSE 1 END) * {unit}"
        first = ("to_json(struct_pack(mdtrt_id := l.mdtrt_id, feedetl_sn := l.feedetl_sn, "
                 "fee_ocur_time := l.fee_ocur_time, fixmedins_code := l.fixmedins_code, "
                 "fixmedins_name := l.fixmedins_name, in_history := NOT l._in_batch, file := l._file, "
                 "row := l._row))")
        return f"""
            SELECT {ctx.finding('w', str(self.p['limit']), "printf('%g', CAST(w.running AS DOUBLE))",
                                'w.det_item_fee_sumamt', related='w.first')}
            FROM (SELECT l.*,
                         sum({units}) OVER (PARTITION BY {per} ORDER BY {order} ROWS UNBOUNDED PRECEDING) AS running,
                         first_value({first}) OVER (PARTITION BY {per} ORDER BY {order}) AS first
                  FROM {ctx.counted(self.p['per'])} l WHERE {ctx.scope('l')}) w
            WHERE w._in_batch AND w.running > {self.p['limit']} + {TOLERANCE}"""
