"""Frequency limit per key (每胎限支付1次 / 基金支付次数限1次/人).

What it checks: for each value of the `per` key (e.g. psn_no + fetts: one pregnancy), the
units billed under the rule's codes, summed in date order, may not exceed `limit`. Every line
that takes the running total above the limit is a finding, and names the first line of the same
key (its visit, line, date and institution) so both payments can be seen. With `count: units`
(the default) each line counts its `cnt`; with `count: lines` each line counts 1 (items billed
per embryo or per egg, where cnt is not the number of payments). Either way a refund line
(negative quantity or amount, or refd_setl_flag = '1') counts negative and cancels what it refunds.

Lines of earlier batches come from the ledger, which keeps claim fields only: a frequency rule's
`when` may not read a derived column (inpolicy_amt, institution); the loader says so.

A line whose key is incomplete (e.g. fetts empty, common outside maternity settlements) is never
dropped. Without a `fallback` it is counted as not judgeable. With one, it is judged by the
fallback key within a window of days: a line is a finding (at the fallback's severity, usually
suspect) when it and the earlier lines of the same fallback key within `within_days` days before
it, one of each pair lacking the full key, exceed the limit. A line whose own units exceed the
limit (cnt 2 of a once-only item) is a finding at the rule's severity, whatever its key.
A fallback key with more than 200 lines to pair (a placeholder person id such as `0` or `未知`,
which no person's pregnancies explain) is not paired: it is one data-quality finding naming the
key and its line count, on its first line.

Why: a limit on the number of fund payments is broken by the second payment, which usually
arrives in another visit.
Money at stake: the line's part above the limit: the whole line for a second payment, the excess
units' share of it when one line holds several units (cnt 2: half the line).

Example:
    - id: JS-7
      kind: frequency
      codes: [nipt_detection]
      when: inscp_scp_amt <> 0
      params:
        per: [psn_no, fetts]
        limit: 1
        fallback: {per: [psn_no], within_days: 210, severity: suspect}
"""
from __future__ import annotations

from ..claims.fields import FIELDS
from . import RuleKind, register
from ._common import TOLERANCE, lit, q

# The most lines of one fallback key (e.g. one psn_no whose fetts is empty) paired line by line.
# Pairing costs the square of a key's lines; one person has a few NIPT lines in 210 days, and a
# key with more than this is a placeholder or a mis-keyed extract (`0`, `未知`): it becomes one
# data-quality finding naming the key and its line count, and its lines are not paired.
PAIRABLE = 200


@register("frequency")
class Frequency(RuleKind):
    counts_history = True
    params_schema = {
        "type": "object", "additionalProperties": False, "required": ["per", "limit"],
        "properties": {
            "per": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": sorted(FIELDS)}},
            "limit": {"type": "integer", "minimum": 0},
            "count": {"enum": ["units", "lines"], "default": "units"},
            "fallback": {
                "type": "object", "additionalProperties": False, "required": ["per", "within_days"],
                "description": "how lines with an incomplete key are counted",
                "properties": {
                    "per": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": sorted(FIELDS)}},
                    "within_days": {"type": "integer", "minimum": 1},
                    "severity": {"enum": ["violation", "suspect"], "default": "suspect"},
                },
            },
        },
    }
    message = "第 {actual} 次（上限 {expected}），首次见 {related}"

    def prepare(self, error):
        fb = self.p.get("fallback")
        if fb and set(fb["per"]) >= set(self.p["per"]):
            raise error(("fallback", "per"), "the fallback key must be a part of per (what remains when a value is empty)")

    def groups(self):
        fb = self.p.get("fallback")
        return [tuple(self.p["per"])] + ([tuple(fb["per"])] if fb else [])

    def columns(self):
        fb = self.p.get("fallback")
        return set(self.p["per"]) | set(fb["per"] if fb else []) | {"cnt", "det_item_fee_sumamt"}

    def reads(self):
        return self.columns() | {"refd_setl_flag"}

    def nullable_columns(self):
        return set(self.p["per"]) - set(self.p["fallback"]["per"]) if self.p.get("fallback") else set()

    def _complete(self, a):
        return " AND ".join(f"{a}.{c} IS NOT NULL" for c in self.p["per"])

    def findings(self, ctx):
        per = ", ".join(f"l.{c}" for c in self.p["per"])
        limit = self.p["limit"]
        order = "l._seq, l.fee_ocur_time, l.mdtrt_id, l.feedetl_sn"  # ledger lines (earlier batches) first
        unit = "1" if self.p.get("count") == "lines" else "abs(l.cnt)"
        refund = "l.cnt < 0 OR l.det_item_fee_sumamt < 0 OR coalesce(l.refd_setl_flag = '1', FALSE)"
        units = f"(CASE WHEN {refund} THEN -1 ELSE 1 END) * {unit}"
        keys = ", ".join(self.p["per"])
        fb = self.p.get("fallback")
        counted = ctx.counted(fb["per"] if fb else self.p["per"])  # earlier lines of the batch's (fallback) keys

        def share(a, total):  # the line's part above the limit: all of it, or its excess units' share
            return f"round({a}.det_item_fee_sumamt * least(1, ({total} - {limit}) / nullif({a}.unit, 0)), 2)"
        primary = f"""
            SELECT {ctx.finding('w', lit(f'{limit} 次（每 {keys}）'), "printf('%g', CAST(w.running AS DOUBLE))",
                                share('w', 'w.running'), related=ctx.related_json('w.first'))}
            FROM (SELECT l.*, {unit} AS unit,
                         sum({units}) OVER (PARTITION BY {per} ORDER BY {order} ROWS UNBOUNDED PRECEDING) AS running,
                         first_value({ctx.related('l')}) OVER (PARTITION BY {per} ORDER BY {order}) AS first
                  FROM {ctx.lines('l', counted)} WHERE {ctx.scope('l')} AND {self._complete('l')}) w
            WHERE w._in_batch AND w.running > {limit} + {TOLERANCE}"""
        if not fb:
            return primary
        fper = ", ".join(f"l.{c}" for c in fb["per"])
        on = " AND ".join(f"m.{c} = x.{c}" for c in fb["per"])
        days, sev = fb["within_days"], fb.get("severity", "suspect")
        missing = "/".join(c for c in self.p["per"] if c not in fb["per"])
        # one line paying more than the limit by itself is the rule's own finding, whatever its key
        severity = f"CASE WHEN x.u > {limit} + {TOLERANCE} THEN {lit(self.rule.severity)} ELSE {lit(sev)} END"
        # only the fallback keys with a line missing a key value: elsewhere every pair has both keys
        # and the rule's own count decides (without this, a person's lines would all be paired)
        gap = (f"SELECT DISTINCT {', '.join(f'g.{c}' for c in fb['per'])} FROM {ctx.lines('g', counted)} "
               f"WHERE {ctx.scope('g')} AND NOT ({self._complete('g')})")
        at_gap = " AND ".join(f"gp.{c} = l.{c}" for c in fb["per"])
        every = f"""SELECT l.*, {unit} AS unit, {units} AS u, {self._complete('l')} AS ok, {ctx.related('l')} AS j,
                               row_number() OVER (PARTITION BY {fper} ORDER BY {order}) AS ord,
                               count(*) OVER (PARTITION BY {fper}) AS lines_of_key
                        FROM {ctx.lines('l', counted)} SEMI JOIN ({gap}) gp ON {at_gap} WHERE {ctx.scope('l')}"""
        keyed = f"SELECT * FROM ({every}) WHERE lines_of_key <= {PAIRABLE}"
        named = " || ', ' || ".join(f"{lit(c + ' ')} || coalesce(CAST(d.{c} AS VARCHAR), '')" for c in fb["per"])
        note = (f"{named} || ' 有 ' || CAST(d.lines_of_key AS VARCHAR) || {lit(f' 行在本规则范围内（其中有 {missing} 为空的行），')} "
                f"|| {lit(f'超过 {PAIRABLE} 行，无法逐行配对（疑为占位或错误的标识），未按 {days} 天内次数判断；请核对该标识')}")
        unpaired = f"""
            SELECT {ctx.finding('d', lit(f'≤ {PAIRABLE} 行（同一 {", ".join(fb["per"])}）'), 'd.lines_of_key', '0',
                                severity='data_quality', note=note)}
            FROM (SELECT *, row_number() OVER (PARTITION BY {', '.join(fb['per'])} ORDER BY ord) AS _first
                  FROM ({every}) WHERE lines_of_key > {PAIRABLE} AND _in_batch) d
            WHERE d._first = 1"""
        fallback = f"""
            SELECT {ctx.finding('x', lit(f'{limit} 次（{missing} 为空时：同一 {", ".join(fb["per"])} {days} 天内）'),
                                "printf('%g', CAST(x.total AS DOUBLE))", share('x', 'x.total'),
                                related=ctx.related_json('x.rel'), severity_sql=severity)}
            FROM (SELECT *, u + prior AS total, coalesce(first, j) AS rel FROM (
                  SELECT x.*, coalesce(sum(m.u), 0) AS prior, count(m.u) AS partners, arg_min(m.j, m.ord) AS first
                  FROM ({keyed}) x
                  LEFT JOIN ({keyed}) m
                    ON {on} AND m.ord < x.ord AND m.fee_date >= x.fee_date - INTERVAL {days} DAY
                       AND NOT (x.ok AND m.ok)
                  WHERE x._in_batch AND x.u > 0
                  GROUP BY ALL)) x
            WHERE x.total > {limit} + {TOLERANCE} AND (NOT x.ok OR x.partners > 0)"""
        # a line both counts find is reported once, as the key's
        from ..engine.context import FINDING_COLUMNS

        cols = ", ".join(q(c) for c in FINDING_COLUMNS)  # both are ctx.finding rows: the same columns in the same order
        return f"""
            SELECT {cols} FROM (
              SELECT {cols}, row_number() OVER (PARTITION BY _fid, _row ORDER BY _k) AS _n
              FROM (SELECT *, 1 AS _k FROM ({primary}) UNION ALL SELECT *, 2 AS _k FROM ({fallback}))) z
            WHERE z._n = 1
            UNION ALL
            SELECT {cols} FROM ({unpaired})"""

    def judgeable(self, ctx, a):
        fb = self.p.get("fallback")
        if not fb:
            return None
        return f"(({self._complete(a)}) OR ({' AND '.join(f'{a}.{c} IS NOT NULL' for c in fb['per'])}))"
