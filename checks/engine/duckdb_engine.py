"""The DuckDB engine: every rule compiles to one set-based query over the Parquet batch.

Every rule judges only lines of its code sets, so one scan of the Parquet files keeps the
candidate lines (any rule's codes, in any contract's jurisdiction) in a temporary table and
counts the lines each contract version is in force for. Over that table one aggregate counts,
for every rule, the lines it judges, and one query UNION ALLs every rule's findings, dropping a
finding where a rule that supersedes its rule found the same line. No Python loop touches claim
rows.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from ..claims.fields import FIELDS, SQL_TYPE
from ..kinds._common import q
from .context import FINDING_COLUMNS, RuleContext, regions_pred, version_scope

NORMALISE = ("CREATE MACRO cc_norm(x) AS replace(replace(replace(replace(trim(x), '（', '('), '）', ')'), "
             "' ', ''), '　', '')")


@dataclass
class Planned:
    contract: object
    rule: object
    index: int | None  # position among compiled rules; None when not run
    reason: str | None = None


@dataclass
class EngineResult:
    plans: list[Planned]
    checked: list[int]           # lines judged, per compiled rule index
    in_force: dict[str, int]     # contract key -> lines in its jurisdiction and dates
    findings: pa.Table           # FINDING_COLUMNS + rule index `r`
    timings: dict[str, float]
    sql: str
    history: dict | None = None


def lines_view(batch) -> str:
    cols = []
    for name in sorted(batch.fields):
        typ = SQL_TYPE[FIELDS[name].family]
        col = q(name)
        if typ == "VARCHAR":
            cols.append(f"trim(CAST({col} AS VARCHAR)) AS {col}")
        else:
            cols.append(f"CAST({col} AS {typ}) AS {col}")
    cols.append("CAST(fee_ocur_time AS DATE) AS fee_date")
    cols.append("filename AS _file, file_row_number + 1 AS _row")
    return f"CREATE VIEW all_lines AS SELECT {', '.join(cols)} FROM {batch.source_sql()}"


def candidates(ctxs, contracts) -> str:
    """Predicate keeping the lines some rule may read: its codes, in some contract's regions."""
    preds = [p.rule.impl.candidate(ctx, "l") for p, ctx in ctxs.values()]
    regions = sorted({r for c in contracts for r in c.regions})
    return f"({' OR '.join(sorted(set(preds))) or 'FALSE'}) AND {regions_pred('l', regions)}"


def plan(contracts, batch) -> list[Planned]:
    plans, n = [], 0
    newest_window = {}
    for c in contracts:
        for r in c.rules:
            if r.impl.window_rule:
                newest_window[(c.id, r.id)] = c.version  # contracts are in date order
    for c in contracts:
        for r in c.rules:
            needed = r.impl.columns() | (r.when.columns if r.when is not None else set())
            missing = sorted(needed - batch.fields)
            unsupplied = [t for t in r.impl.tables() if c.tables[t].data is None]
            if missing:
                plans.append(Planned(c, r, None, "; ".join(batch.missing_reason(m) for m in missing)))
            elif unsupplied:
                plans.append(Planned(c, r, None, c.tables[unsupplied[0]].missing_reason()))
            elif r.impl.window_rule and newest_window[(c.id, r.id)] != c.version:
                plans.append(Planned(c, r, None, f"judged by the newest version defining {r.id} "
                                                 f"({newest_window[(c.id, r.id)]})"))
            else:
                plans.append(Planned(c, r, n))
                n += 1
    return plans


def run(contracts, batch, threads: int | None = None, ledger=None, record: bool = False,
        judge: bool = True, source: str = "check") -> EngineResult:
    """Judge `batch`; with a `ledger`, frequency rules also count its earlier lines, and with
    `record` the batch's counted lines are recorded in it (one transaction)."""
    t0 = time.perf_counter()
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    con.execute(NORMALISE)
    try:
        if ledger is not None:
            ledger.attach(con)
        return _run(con, contracts, batch, ledger, record, judge, source, t0)
    finally:
        if ledger is not None:
            ledger.detach()
        con.close()


def _run(con, contracts, batch, ledger, record, judge, source, t0) -> EngineResult:
    names = {}
    for c in contracts:
        for t in c.tables.values():
            name = f"ref_{len(names)}"
            if t.data is not None:
                con.register(name, t.data)
            names[(c.key, t.name)] = name
    con.execute(lines_view(batch))
    plans = plan(contracts, batch)
    ctxs = {}
    for p in plans:
        if p.index is not None:
            tn = {t: names[(p.contract.key, t)] for t in p.contract.tables}
            ctxs[p.index] = (p, RuleContext(p.rule, p.contract, tn, batch.fields, ledger is not None))

    in_force = [f"sum(CASE WHEN {version_scope('l', c)} THEN 1 ELSE 0 END) AS v{j}"
                for j, c in enumerate(contracts)]
    t1 = time.perf_counter()
    row = con.sql(f"SELECT {', '.join(in_force)} FROM all_lines l").fetchall()[0] if in_force else []
    in_force = {c.key: int(x or 0) for c, x in zip(contracts, row)}
    seq = 0
    if ledger is not None:
        seq = ledger.next_seq()
        con.execute("CREATE TEMP TABLE batch_ids AS SELECT DISTINCT mdtrt_id, feedetl_sn FROM all_lines")
        con.execute(f"CREATE TEMP TABLE batch_seq AS {ledger.seq_of_batch_lines_sql()}")
        # judging reads the candidate lines many times: keep them; a plain import streams them once
        kind = "TABLE" if judge else "VIEW"
        con.execute(f"""CREATE TEMP {kind} lines AS
            SELECT l.*, coalesce(s.batch_seq, {seq}) AS _seq, TRUE AS _in_batch
            FROM all_lines l LEFT JOIN batch_seq s ON s.mdtrt_id = l.mdtrt_id AND s.feedetl_sn = l.feedetl_sn
            WHERE {candidates(ctxs, contracts)}""")
        con.execute(f"CREATE TEMP VIEW earlier AS {ledger.earlier_lines_sql(sorted(batch.fields))}")
        earlier = con.sql("SELECT count(*) FROM earlier").fetchall()[0][0] if judge else None
    else:
        con.execute(f"CREATE TEMP TABLE lines AS SELECT *, 0 AS _seq, TRUE AS _in_batch FROM all_lines l "
                    f"WHERE {candidates(ctxs, contracts)}")
    checked, sql = [], ""
    findings = pa.table({c: [] for c in ["r", *FINDING_COLUMNS]})
    if judge and ctxs:
        counts = [f"sum(CASE WHEN {ctx.scope('l')} THEN 1 ELSE 0 END) AS c{i}" for i, (_, ctx) in ctxs.items()]
        checked = [int(x or 0) for x in con.sql(f"SELECT {', '.join(counts)} FROM lines l").fetchall()[0]]
    t2 = time.perf_counter()
    if judge and ctxs:
        sql = findings_sql(ctxs)
        findings = con.sql(sql).to_arrow_table()
    t3 = time.perf_counter()
    recorded = None
    if ledger is not None and record:
        counted = [f"({regions_pred('l', ctx.contract.regions)} AND {p.rule.impl.candidate(ctx, 'l')})"
                   for p, ctx in ctxs.values() if p.rule.impl.counts_history]
        where = " OR ".join(counted) or "FALSE"
        recorded = ledger.record(f"SELECT * FROM lines l WHERE {where}", sorted(batch.fields), seq,
                                 [f.display for f in batch.files], source, batch.lines)
        recorded["earlier_lines"] = earlier
    t4 = time.perf_counter()
    timings = {"prepare_s": t1 - t0, "scan_s": t2 - t1, "findings_s": t3 - t2}
    if ledger is not None:
        timings["record_s"] = t4 - t3
    result = EngineResult(plans, checked, in_force, findings, timings, sql)
    if ledger is not None:
        result.history = recorded or {"dry_run": True, "earlier_lines": earlier}
        result.history.update(ledger=str(ledger.path), schema_version=ledger.schema_version,
                              migrated_from=ledger.migrated_from)
    return result


def findings_sql(ctxs) -> str:
    branches = [f"SELECT {i} AS r, * FROM ({ctx.rule.impl.findings(ctx)})" for i, (_, ctx) in ctxs.items()]
    by_id = {}
    for i, (p, _) in ctxs.items():
        by_id[(p.contract.key, p.rule.id)] = i
    drops = []
    for i, (p, _) in ctxs.items():
        for s in p.rule.supersedes:
            j = by_id.get((p.contract.key, s))
            if j is not None:
                drops.append((j, i))
    keep = ""
    if drops:
        conds = " OR ".join(f"(f.r = {j} AND g.r = {i})" for j, i in drops)
        keep = (f"WHERE NOT EXISTS (SELECT 1 FROM f g WHERE g._file = f._file AND g._row = f._row "
                f"AND ({conds}))")
    union = "\nUNION ALL\n".join(branches)
    return f"WITH f AS MATERIALIZED (\n{union}\n)\nSELECT * FROM f {keep} ORDER BY r, _file, _row"


def related(value):
    return json.loads(value) if value else None
