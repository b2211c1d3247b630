"""The findings query: every rule's findings in one Arrow table, messages and citations built in SQL.

The table has the columns of the report model (checks/report/model.py FINDING_SCHEMA); no
Python object is made per finding. A finding is dropped where a rule that supersedes its rule
found the same line (one fact, one finding).
"""
from __future__ import annotations

import re
import warnings

import pyarrow as pa
import pyarrow.compute as pc

from ..kinds._common import lit
from ..report.model import FINDING_SCHEMA
from ..report.spool import Spool
from .context import RELATED

# fetch(direct=True) reads a DB-API result as Arrow on purpose (few findings; the copy is nothing)
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)

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


def findings_sql(ctxs, per_rule: bool = False) -> list[str]:
    """Every finding, in one UNION ALL over the rules, or (`per_rule`) one query per rule, whose
    results are concatenated: DuckDB runs the branches of a union side by side, so the work
    states of every rule (windows, joins) are held at once, and at 100M lines they outgrow a
    memory limit that each rule alone fits in. A finding of a superseded rule is dropped by an
    anti-join with the superseding rule's lines (nothing is materialised whole)."""
    by_id = {(p.contract.key, p.rule.id): i for i, (p, _) in ctxs.items()}
    superseded_by: dict[int, list[int]] = {}
    for i, (p, _) in ctxs.items():
        for s in p.rule.supersedes:
            j = by_id.get((p.contract.key, s))
            if j is not None:
                superseded_by.setdefault(j, []).append(i)
    branches = []
    for i, (p, ctx) in ctxs.items():
        r = p.rule
        cite = f"coalesce(f.ref, {lit(r.source.section)})"
        message = (f"coalesce(f.note, {message_sql(r.impl.message)}) || '（' || {lit(r.source.document.number + ' ')} "
                   f"|| {cite} || '）'")
        drop = "".join(f" ANTI JOIN (SELECT _fid, _row FROM ({ctxs[k][1].rule.impl.findings(ctxs[k][1])})) s{k} "
                       f"ON s{k}._fid = f._fid AND s{k}._row = f._row" for k in superseded_by.get(i, []))
        branches.append(f"SELECT {i} AS r, f.*, {message} AS message, {cite} AS citation "
                        f"FROM ({r.impl.findings(ctx)}) f{drop}")
    if per_rule:
        return [final_sql(b) for b in branches]
    return [final_sql("\nUNION ALL\n".join(branches))] if branches else []


# The related line as the report shows it: the fields of RuleContext.related (context.RELATED) but
# the engine's file index, its file named (a batch line's by the files table), these typed and the
# others text. Rebuilt key by key rather than patched, so that Spark SQL (which has no
# json_merge_patch) writes the same text.
SHOWN_TYPES = {"in_history": "BOOLEAN", "row": "BIGINT"}


def final_sql(union: str) -> str:
    """Every finding of `union` (rows of ctx.finding plus r, message, citation) in the report's columns."""
    parts = [f"{k} := " + ("coalesce(f.related->>'file', rf.display)" if k == "file" else
                           f"CAST(f.related->>'{k}' AS {SHOWN_TYPES[k]})" if k in SHOWN_TYPES else f"f.related->>'{k}'")
             for k in RELATED if k != "fid"]
    related = f"CASE WHEN f.related IS NULL THEN NULL ELSE CAST(to_json(struct_pack({', '.join(parts)})) AS VARCHAR) END"
    return f"""SELECT f.r AS _r, CAST(f._fid AS INTEGER) AS _f, f.severity, f.mdtrt_id, f.feedetl_sn,
       f.psn_no, f.fixmedins_code, f.fixmedins_name, f.hilist_code, f.hilist_name,
       strftime(f.fee_ocur_time, '%Y-%m-%dT%H:%M:%S') AS fee_ocur_time, f.message, f.expected, f.actual,
       round(coalesce(f.amount, 0), 2) AS amount, CAST(f._row AS BIGINT) AS row,
       f.citation, {related} AS related, CAST(NULL AS VARCHAR) AS waiver
FROM (
{union}
) f LEFT JOIN files rf ON rf.fid = TRY_CAST(f.related->>'fid' AS INTEGER)"""


SEVERITIES = ["violation", "suspect", "data_quality"]


# findings taken from the engine at a time: a finding's texts are some 700 bytes, and a batch is
# held twice while it is cast (findings-heavy 10M: 131,072 at a time peaked at 1,107 MB)
BATCH = 1 << 15

ORDER_KEYS = [(k, "ascending") for k in ("_r", "_f", "row", "message", "related")]  # report order, ties broken
ORDER = "ORDER BY " + ", ".join(f"{k} NULLS LAST" for k, _ in ORDER_KEYS)   # as Arrow's sort_by: nulls last


def fetch(con, queries: list[str], ctxs, files: list[str], spool_dir: str | None = None,
          direct: bool = False) -> pa.Table:
    """The findings as an Arrow table of FINDING_SCHEMA, in rule, file, row order, streamed in
    batches. Rule, contract, version, kind, severity and file are dictionary-encoded against
    dictionaries known up front (the rules, the files), so no per-finding string is kept for them.
    The engine sorts; the batches go to a Spool (checks/report/spool.py), which keeps many findings
    in a file in `spool_dir` rather than in memory. `direct` (a small batch on DuckDB): each query
    is run as it is, not made a relation first, which binds it twice (a third of a 50-line
    check's findings stage); the result is copied once more, which few findings do not feel, and
    sorted in Arrow: DuckDB (2.0) turns a DB-API result into Arrow chunk by chunk in parallel, and
    without preserve_insertion_order (duckdb/run.py) the chunks of an ORDER BY leave out of order."""
    size = max(ctxs, default=-1) + 1
    meta = {k: [""] * size for k in ("rule_id", "contract_id", "contract_version", "kind")}  # no null in a dictionary
    for i, (p, _) in ctxs.items():
        meta["rule_id"][i], meta["contract_id"][i] = p.rule.id, p.contract.id
        meta["contract_version"][i], meta["kind"][i] = p.contract.version, p.rule.kind
    dicts = {k: pa.array(v, pa.string()) for k, v in meta.items()}
    sev_dict, file_dict = pa.array(SEVERITIES), pa.array(files, pa.string())
    sev_index = pa.array(SEVERITIES)
    spool = Spool(FINDING_SCHEMA, spool_dir)
    try:
        for sql in queries:
            if direct:
                batches = (con.execute(sql).to_arrow_table().sort_by(ORDER_KEYS)
                           .to_batches(BATCH))
            else:
                batches = con.sql(f"SELECT * FROM ({sql}) {ORDER}").to_arrow_reader(batch_size=BATCH)
            for b in batches:
                r, f = b.column("_r").cast(pa.int32()), b.column("_f").cast(pa.int32())
                cols = {k: pa.DictionaryArray.from_arrays(r, d) for k, d in dicts.items()}
                cols["severity"] = pa.DictionaryArray.from_arrays(
                    pc.index_in(b.column("severity"), value_set=sev_index).cast(pa.int32()), sev_dict)
                cols["file"] = pa.DictionaryArray.from_arrays(f, file_dict)
                for name in FINDING_SCHEMA.names:
                    if name not in cols:
                        cols[name] = b.column(name).cast(FINDING_SCHEMA.field(name).type)
                spool.add(pa.RecordBatch.from_arrays([cols[n] for n in FINDING_SCHEMA.names], schema=FINDING_SCHEMA))
        return spool.table()
    except BaseException:
        spool.discard()
        raise


def empty_findings() -> pa.Table:
    return FINDING_SCHEMA.empty_table()
