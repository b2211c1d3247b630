"""The DuckDB engine: every rule compiles to set-based SQL over the batch, in the hand-written shape.

1. The survey (engine/survey.py): one scan of every line checks values, money conventions and
   the lines in force; one aggregate proves line identities unique.
2. One scan keeps the candidate lines (any rule's codes, in any contract's jurisdiction), with
   only the columns rules read, normalised, and the derived in-policy amount.
3. Each distinct reference-table lookup is joined once onto the candidates (engine/lookups.py).
4. One aggregate counts, for every rule, the lines in scope and those it could not judge.
5. One UNION ALL query returns every finding, its message and citation built in SQL, dropping a
   finding where a superseding rule found the same line; it comes back as one Arrow table.
No Python loop touches claim rows, and memory is bounded by `memory_limit` (DuckDB spills).
"""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from ..claims import money
from ..claims.fields import COLUMNS, DERIVED, FIELDS, SQL_TYPE
from ..kinds._common import lit, q
from .context import KEYS, RuleContext, regions_pred
from . import identity
from .findings import findings_sql, rules_table
from .lookups import Lookups
from .survey import run_survey
from .watch import watching


@dataclass
class Planned:
    contract: object
    rule: object
    index: int | None            # position among rules that run; None when it cannot run at all
    reason: str | None = None    # why it cannot run (a table not supplied, an older window version)
    blocked: bool = False        # cannot run, but its lines in scope are counted


@dataclass
class RuleStats:
    in_scope: int = 0
    judged: int = 0
    unjudged: int = 0
    missing: dict = field(default_factory=dict)   # column -> lines in scope where it is empty
    example: tuple | None = None                  # (fid, row) of a line not judged


@dataclass
class EngineResult:
    plans: list[Planned]
    stats: dict[int, RuleStats]
    in_force: dict[str, int]
    findings: pa.Table
    timings: dict[str, float]
    conventions: dict[int, dict]
    sql: str = ""
    history: dict | None = None


def plan(contracts) -> list[Planned]:
    plans, n = [], 0
    newest_window = {}
    for c in contracts:
        for r in c.rules:
            if r.impl.window_rule:
                newest_window[(c.id, r.id)] = c.version  # contracts are in date order
    for c in contracts:
        for r in c.rules:
            unsupplied = [t for t in r.impl.tables() if c.tables[t].data is None]
            if r.impl.window_rule and newest_window[(c.id, r.id)] != c.version:
                plans.append(Planned(c, r, None, f"judged by the newest version defining {r.id} "
                                                 f"({newest_window[(c.id, r.id)]})"))
            elif unsupplied:
                plans.append(Planned(c, r, n, c.tables[unsupplied[0]].missing_reason(), blocked=True))
                n += 1
            else:
                plans.append(Planned(c, r, n))
                n += 1
    return plans


def _columns_read(ctxs) -> set[str]:
    cols = {"mdtrtarea_admvs", "fee_ocur_time", "hilist_code", *KEYS}
    for p, ctx in ctxs.values():
        r = p.rule
        cols |= set(r.impl.reads()) | (set(r.when.columns) if r.when is not None else set())
        for lk in ctx.used:
            cols |= {m[0] for m in lk.match}
    return cols


def lines_select(batch, survey, cols: set[str], conv: bool) -> str:
    """The normalised columns rules read; absent fields as typed NULLs; the derived amount."""
    out = []
    for name in sorted(c for c in cols if c in FIELDS):
        out.append(f"{batch.value(name) if name in batch.fields else f'CAST(NULL AS {SQL_TYPE[FIELDS[name].family]})'}"
                   f" AS {q(name)}")
    v = lambda n: batch.value(n) if n in batch.fields else "CAST(NULL AS DOUBLE)"  # noqa: E731
    line_conv = money.convention(v)
    if "inpolicy_amt" in cols:
        out.append(f"{money.inpolicy(v, line_conv, 'f.convention')} AS inpolicy_amt")
    if conv:
        out.append(f"{line_conv} AS _conv")
    out += [f"CAST({batch.value('fee_ocur_time')} AS DATE) AS fee_date", "f.fid AS _fid",
            "r.file_row_number + 1 AS _row", "CAST(NULL AS VARCHAR) AS _file"]
    return (f"SELECT {', '.join(out)} FROM {batch.source_sql()} r JOIN files f ON f.path = r.filename")


def candidates(ctxs, contracts) -> str:
    """Predicate keeping the lines some rule may read: its codes, in some contract's regions."""
    preds = sorted({p.rule.impl.candidate(ctx, "l") for p, ctx in ctxs.values()} - {"FALSE"})
    regions = sorted({r for c in contracts for r in c.regions})
    return f"({' OR '.join(preds) or 'FALSE'}) AND {regions_pred('l', regions)}"


def connect(threads: int | None, memory_limit: str | None, temp_dir: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"temp_directory": temp_dir})
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = {lit(memory_limit)}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    return con


def run(contracts, batch, threads: int | None = None, ledger=None, record: bool = False, judge: bool = True,
        source: str = "check", memory_limit: str | None = None, temp_dir: str | None = None,
        progress=None) -> EngineResult:
    """Judge `batch`; with a `ledger`, frequency rules also count its earlier lines, and with
    `record` the batch's counted lines are recorded in it (one transaction)."""
    from ..quality import quality_contract

    t0 = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix="claimcheck-", dir=temp_dir)
    con = connect(threads, memory_limit, tmp)
    try:
        if ledger is not None:
            ledger.attach(con)
        every = list(contracts) + ([quality_contract(contracts)] if judge else [])
        return _run(con, every, batch, ledger, record, judge, source, t0, progress)
    finally:
        if ledger is not None:
            ledger.detach()
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _run(con, contracts, batch, ledger, record, judge, source, t0, progress=None) -> EngineResult:
    names = {}
    for c in contracts:
        for t in c.tables.values():
            name = f"ref_{len(names)}"
            if t.data is not None:
                con.register(name, t.data)
            names[(c.key, t.name)] = name
    policy = [c for c in contracts if c.id != "data-quality"]
    with watching(con, progress, "validating", batch.lines):
        survey = run_survey(con, batch, policy)
    t1 = time.perf_counter()
    files = pa.table({"fid": [cf.fid for cf in batch.files], "path": [str(cf.path) for cf in batch.files],
                      "display": [cf.display for cf in batch.files],
                      "convention": [survey.convention_of(cf.fid) for cf in batch.files]})
    con.register("files_src", files)
    con.execute("CREATE TEMP TABLE files AS SELECT * FROM files_src")

    plans = plan(contracts)
    lookups = Lookups()
    ctxs = {}
    for p in plans:
        if p.index is not None:
            tn = {t: names[(p.contract.key, t)] for t in p.contract.tables}
            ctx = RuleContext(p.rule, p.contract, tn, lookups, batch.fields, ledger is not None, blocked=p.blocked)
            if not p.blocked:
                p.rule.impl.bind(ctx)
            ctxs[p.index] = (p, ctx)
    cols = _columns_read(ctxs) | ({"inpolicy_amt"} if any("inpolicy_amt" in ctx.needs() for _, ctx in ctxs.values())
                                  else set())
    dq = any(p.rule.kind == "money_identity" for p, _ in ctxs.values())
    if dq:
        cols |= set(money.PARTS)
    select = lines_select(batch, survey, cols, dq)
    cand = candidates(ctxs, contracts)
    money_rules = [f"({regions_pred('l', ctx.contract.regions)} AND {p.rule.impl.candidate(ctx, 'l')})"
                   for p, ctx in ctxs.values() if "inpolicy_amt" in ctx.needs()]
    select = f"SELECT l.*, ({' OR '.join(money_rules) or 'FALSE'}) AS _money FROM ({select}) l"
    seq = 0
    kind = "TABLE" if judge else "VIEW"
    scan = watching(con, progress, "judging", batch.lines)
    scan.__enter__()
    if ledger is not None:
        seq = ledger.next_seq()
        con.execute(f"CREATE TEMP TABLE batch_ids AS SELECT DISTINCT {batch.value('mdtrt_id')} AS mdtrt_id, "
                    f"{batch.value('feedetl_sn')} AS feedetl_sn FROM {batch.source_sql()} r")
        con.execute(f"CREATE TEMP TABLE batch_seq AS {ledger.seq_of_batch_lines_sql()}")
        con.execute(f"""CREATE TEMP {kind} lines AS
            SELECT l.*, coalesce(s.batch_seq, {seq}) AS _seq, TRUE AS _in_batch
            FROM ({select}) l LEFT JOIN batch_seq s ON s.mdtrt_id = l.mdtrt_id AND s.feedetl_sn = l.feedetl_sn
            WHERE {cand}""")
        con.execute(f"CREATE TEMP VIEW earlier AS {ledger.earlier_lines_sql(sorted(c for c in cols if c in COLUMNS and c not in DERIVED))}")
        earlier = con.sql("SELECT count(*) FROM earlier").fetchall()[0][0] if judge else None
    else:
        con.execute(f"CREATE TEMP {kind} lines AS SELECT l.*, 0 AS _seq, TRUE AS _in_batch FROM ({select}) l "
                    f"WHERE {cand}")
    scan.__exit__(None, None, None)
    t2 = time.perf_counter()
    stats, sql = {}, ""
    findings = None
    if judge and ctxs:
        if "institution" in cols:  # institution identity (engine/identity.py), before lookups read it
            identity.attach(con, contracts, names)
        for lk in lookups.all:
            con.execute(lk.create_sql())
        stats = count_rules(con, ctxs, lookups)
        t3 = time.perf_counter()
        runnable = {i: pc for i, pc in ctxs.items() if not pc[0].blocked}
        con.register("rule_meta", rules_table(runnable))
        sql = findings_sql(runnable)
        findings = con.sql(sql).to_arrow_table()
    else:
        t3 = time.perf_counter()
    t4 = time.perf_counter()
    recorded = None
    if ledger is not None and record:
        counted = [f"({regions_pred('l', ctx.contract.regions)} AND {p.rule.impl.candidate(ctx, 'l')})"
                   for p, ctx in ctxs.values() if p.rule.impl.counts_history]
        where = " OR ".join(counted) or "FALSE"
        recorded = ledger.record(f"SELECT l.* EXCLUDE (_file), fl.display AS _file FROM lines l "
                                 f"JOIN files fl ON fl.fid = l._fid WHERE {where}",
                                 sorted(c for c in cols if c in FIELDS), seq,
                                 [f.display for f in batch.files], source, batch.lines)
        recorded["earlier_lines"] = earlier
    t5 = time.perf_counter()
    timings = {"survey_s": t1 - t0, "scan_s": t2 - t1, "counts_s": t3 - t2, "findings_s": t4 - t3}
    if ledger is not None:
        timings["record_s"] = t5 - t4
    from .findings import empty_findings
    result = EngineResult(plans, stats, survey.in_force, findings if findings is not None else empty_findings(),
                          timings, survey.conventions, sql)
    if ledger is not None:
        result.history = recorded or {"dry_run": True, "earlier_lines": earlier}
        result.history.update(ledger=str(ledger.path), schema_version=ledger.schema_version,
                              migrated_from=ledger.migrated_from)
    return result


def count_rules(con, ctxs, lookups) -> dict[int, RuleStats]:
    """One aggregate: per rule, lines in scope, judged, and why the others could not be judged."""
    aggs, layout = [], []
    for i, (p, ctx) in ctxs.items():
        scope = ctx.in_scope("l")
        aggs.append(f"sum(CASE WHEN {scope} THEN 1 ELSE 0 END)")
        if p.blocked:
            layout.append((i, []))
            continue
        judge = ctx.judgeable("l")
        aggs.append(f"sum(CASE WHEN {scope} AND {judge} THEN 1 ELSE 0 END)")
        aggs.append(f"min(CASE WHEN {scope} AND NOT {judge} THEN l._fid * 1099511627776 + l._row END)")
        read = set(ctx.needs()) | set(p.rule.impl.reads())
        needs = sorted(c for c in read if c not in p.rule.impl.nullable_columns())
        for c in needs:  # why lines were not judged: which values were empty on them
            aggs.append(f"sum(CASE WHEN {scope} AND NOT {judge} AND l.{q(c)} IS NULL THEN 1 ELSE 0 END)")
        layout.append((i, needs))
    if not aggs:
        return {}
    joins = "".join(lk.join("l") for lk in lookups.all)
    row = con.sql(f"SELECT {', '.join(aggs)} FROM lines l{joins}").fetchall()[0]
    out, k = {}, 0
    for i, needs in layout:
        st = RuleStats(in_scope=int(row[k] or 0))
        k += 1
        if ctxs[i][0].blocked:
            out[i] = st
            continue
        st.judged = int(row[k] or 0)
        ex = row[k + 1]
        k += 2
        st.unjudged = st.in_scope - st.judged
        st.example = (ex >> 40, ex & ((1 << 40) - 1)) if ex is not None else None
        for c in needs:
            if row[k]:
                st.missing[c] = int(row[k])
            k += 1
        out[i] = st
    return out
