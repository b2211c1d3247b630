"""The findings query: every rule's findings in one Arrow table, messages and citations built in SQL.

The table has the columns of the report model (checks/report/model.py FINDING_SCHEMA); no
Python object is made per finding. A finding is dropped where a rule that supersedes its rule
found the same line (one fact, one finding).
"""
from __future__ import annotations

import re

import pyarrow as pa

from ..kinds._common import lit
from ..report.model import FINDING_SCHEMA

_FIELD = re.compile(r"\{(\w+)\}")
_PARTS = {
    "expected": "coalesce(f.expected, '')",
    "actual": "coalesce(f.actual, '')",
    "amount": "printf('%.2f', round(coalesce(f.amount, 0), 2))",
    "ref": "coalesce(f.ref, '')",
    "related": "coalesce((f.related->>'mdtrt_id') || '/' || (f.related->>'feedetl_sn'), '')",
}


def message_sql(template: str) -> str:
    """A kind's message template ('单价 {actual} 元…') as a SQL concatenation over finding row `f`."""
    out, pos = [], 0
    for m in _FIELD.finditer(template):
        if m.start() > pos:
            out.append(lit(template[pos:m.start()]))
        out.append(_PARTS[m.group(1)])
        pos = m.end()
    if pos < len(template):
        out.append(lit(template[pos:]))
    return " || ".join(out) or "''"


def rules_table(ctxs) -> pa.Table:
    rows = sorted(ctxs.items())
    return pa.table({
        "r": pa.array([i for i, _ in rows], pa.int32()),
        "rule_id": [p.rule.id for _, (p, _) in rows],
        "contract_id": [p.contract.id for _, (p, _) in rows],
        "contract_version": [p.contract.version for _, (p, _) in rows],
        "kind": [p.rule.kind for _, (p, _) in rows],
    })


def findings_sql(ctxs) -> str:
    branches = []
    for i, (p, ctx) in ctxs.items():
        r = p.rule
        cite_doc = lit(r.source.document.number + " ")
        cite = f"{cite_doc} || coalesce(f.ref, {lit(r.source.section)})"
        branches.append(
            f"SELECT {i} AS r, f.*, {message_sql(r.impl.message)} || '（' || {cite} || '）' AS message, "
            f"coalesce(f.ref, {lit(r.source.section)}) AS citation FROM ({r.impl.findings(ctx)}) f")
    by_id = {(p.contract.key, p.rule.id): i for i, (p, _) in ctxs.items()}
    drops = [(by_id[(p.contract.key, s)], i) for i, (p, _) in ctxs.items() for s in p.rule.supersedes
             if (p.contract.key, s) in by_id]
    keep = ""
    if drops:
        conds = " OR ".join(f"(g.r = {i} AND f.r = {j})" for j, i in drops)
        keep = (f"WHERE NOT EXISTS (SELECT 1 FROM f g WHERE g._fid = f._fid AND g._row = f._row AND ({conds}))")
    union = "\nUNION ALL\n".join(branches) or "SELECT NULL LIMIT 0"
    return final_sql(union, keep)


# The related line as the report shows it: RuleContext.related's keys, its file named (a batch
# line's by the files table) and the engine's file index dropped. Rebuilt key by key rather than
# patched, so that Spark SQL (which has no json_merge_patch) writes the same text.
RELATED = (("mdtrt_id", None), ("feedetl_sn", None), ("fee_ocur_time", None), ("fixmedins_code", None),
           ("fixmedins_name", None), ("in_history", "BOOLEAN"), ("row", "BIGINT"))


def final_sql(union: str, keep: str = "") -> str:
    """Every finding of `union` (rows of ctx.finding plus r, message, citation) in the report's columns."""
    parts = [f"{k} := " + (f"CAST(f.related->>'{k}' AS {t})" if t else f"f.related->>'{k}'") for k, t in RELATED]
    related = (f"CASE WHEN f.related IS NULL THEN NULL ELSE CAST(to_json(struct_pack({', '.join(parts)}, "
               f"file := coalesce(f.related->>'file', rf.display))) AS VARCHAR) END")
    return f"""WITH f AS MATERIALIZED (
{union}
)
SELECT m.rule_id, m.contract_id, m.contract_version, f.severity, m.kind, f.mdtrt_id, f.feedetl_sn, f.psn_no,
       f.fixmedins_code, f.fixmedins_name, f.hilist_code, f.hilist_name,
       strftime(f.fee_ocur_time, '%Y-%m-%dT%H:%M:%S') AS fee_ocur_time, f.message, f.expected, f.actual,
       round(coalesce(f.amount, 0), 2) AS amount, fl.display AS file, CAST(f._row AS BIGINT) AS row,
       f.citation, {related} AS related, CAST(NULL AS VARCHAR) AS waiver
FROM f JOIN rule_meta m ON m.r = f.r JOIN files fl ON fl.fid = f._fid
     LEFT JOIN files rf ON rf.fid = TRY_CAST(f.related->>'fid' AS INTEGER)
{keep}
ORDER BY f.r, f._fid, f._row"""


def empty_findings() -> pa.Table:
    return FINDING_SCHEMA.empty_table()
