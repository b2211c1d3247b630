"""Care setting (限门诊 / 限住院): the rule's codes only under the listed med_type codes.

What it checks: a line billing one of the rule's codes must carry one of the `allowed` 医疗类别
(med_type) codes. Codes are compared as text; list local codes (e.g. 2101) explicitly.

Why: items paid "outpatient only" must not be settled in an inpatient visit, and the reverse.
Money at stake: the whole line.

Example:
    - id: JS-6-setting
      kind: care_setting
      codes: [nipt_detection, nipt_diagnosis]
      params:
        allowed: ["11", "13", "14", "16", "51"]
"""
from __future__ import annotations

from . import RuleKind, register
from ._common import lit


@register("care_setting")
class CareSetting(RuleKind):
    params_schema = {
        "type": "object", "additionalProperties": False, "required": ["allowed"],
        "properties": {"allowed": {"type": "array", "minItems": 1, "uniqueItems": True,
                                   "items": {"type": "string", "pattern": r"^[0-9A-Za-z]+$"}}},
    }
    message = "医疗类别 {actual} 不允许（允许：{expected}）"

    def columns(self):
        return {"med_type", "det_item_fee_sumamt"}

    def findings(self, ctx):
        allowed = self.p["allowed"]
        listed = ", ".join(lit(x) for x in allowed)
        return f"""
            SELECT {ctx.finding('l', lit(', '.join(allowed)), 'l.med_type', 'l.det_item_fee_sumamt')}
            FROM {ctx.lines('l')} WHERE {ctx.scope('l')} AND l.med_type NOT IN ({listed})"""
