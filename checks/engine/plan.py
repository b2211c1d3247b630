"""The engine's plan, shared by both engines: every rule compiles to set-based SQL over the batch,
in the hand-written shape, and run_on() sends it to a connection, in this order:

1. The survey (engine/survey.py): one scan of every line checks values, money conventions and
   the lines in force; one aggregate proves line identities unique.
2. The rules no line can concern (engine/idle.py): the regions the batch bills in, then the
   batch's distinct items (engine/items.py: every code set judged once per item) say which rules
   could have a line in scope; the others are planned but not run.
3. One scan keeps the candidate lines (any rule's items, in any contract's jurisdiction), with
   only the columns rules read, normalised, their items' code-set columns and the derived
   in-policy amount and institution (engine/identity.py, once per distinct institution key).
   Lines a rule reads only beside another item of their visit are kept by the same scan in a
   small batch, those of a visit without that item deleted after; a large batch adds them by a
   second scan (companions_in_scan).
4. Each distinct reference-table lookup is joined once onto the candidates (engine/lookups.py).
5. One aggregate counts, for every rule, the lines in scope and those it could not judge.
6. One UNION ALL query returns every finding, its message and citation built in SQL, dropping a
   finding where a superseding rule found the same line; it comes back as one Arrow table.
No Python loop touches claim rows. The SQL is DuckDB's; nothing here opens a connection.
engine/duckdb/run.py runs it on DuckDB (memory bounded by `memory_limit`: DuckDB spills), and
engine/spark/run.py on Spark (engine/spark/sql.py takes the same statements, translated).
Why each step is shaped as it is, with the profile before and after: bench/README.md ("Cost per
line with every contract on") and count_rules below.
"""
from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, field

import pyarrow as pa

from ..claims import money, normal
from ..claims.fields import COLUMNS, DERIVED, FIELDS, SQL_TYPE
from ..kinds._common import lit, q
from .context import KEYS, CodeSets, RuleContext, code_set_columns, lookalike_pred, names_pred, regions_pred
from . import identity
from .findings import fetch, findings_sql
from . import idle
from .items import TABLE as ITEMS, Items
from .lookups import Lookups, normalised_column
from .survey import run_survey
from .watch import watching


@dataclass
class Planned:
    contract: object
    rule: object
    index: int | None            # position among rules that run; None when it cannot run at all
    reason: str | None = None    # why it cannot run (a table not supplied, an older window version)
    blocked: bool = False        # cannot run, but its lines in scope are counted
    failed: bool = False         # cannot run on this engine (status error, with the reason)
    idle: bool = False           # no line of the batch can concern it (engine/idle.py): planned, not run


@dataclass
class RuleStats:
    in_scope: int = 0
    judged: int = 0
    unjudged: int = 0
    missing: dict = field(default_factory=dict)   # column -> lines in scope where it is empty
    example: tuple | None = None                  # (fid, row) of a line not judged
    local_code: int = 0                           # lines like its items under a local code (not judged)


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
    fee_dates: dict = field(default_factory=dict)  # fid -> [first, last] fee date (ISO), from the survey


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


def plans_by_index(plans) -> dict[int, Planned]:
    return {p.index: p for p in plans if p.index is not None}


def _columns_read(ctxs) -> set[str]:
    cols = {"mdtrtarea_admvs", "fee_ocur_time", "hilist_code", *KEYS}  # what every finding shows
    for p, ctx in ctxs.values():
        r = p.rule
        cols |= set(r.impl.reads()) | (set(r.when.columns) if r.when is not None else set())
        cols |= code_set_columns(p.contract, r.codes)
        for lk in ctx.used:
            cols |= {m[0] for m in lk.match}
    return cols


def lines_select(batch, cols: set[str], conv: bool, code_sets: CodeSets | None = None) -> str:
    """Every line of the batch, with the normalised columns rules read (absent fields as typed
    NULLs), its position, (with `conv`) the money convention its parts add up under, and (with
    `code_sets`) whether it bills each contract's code sets."""
    out = []
    for name in sorted(c for c in cols if c in FIELDS):
        out.append(f"{batch.value(name) if name in batch.fields else f'CAST(NULL AS {SQL_TYPE[FIELDS[name].family]})'}"
                   f" AS {q(name)}")
    if conv:
        out.append(f"{money.convention(lambda n: batch.value(n) if n in batch.fields else 'CAST(NULL AS DOUBLE)')}"
                   " AS _conv")
    out += [f"CAST({batch.value('fee_ocur_time')} AS DATE) AS fee_date", "r.file_index AS _fid",
            "r.file_row_number + 1 AS _row", "CAST(NULL AS VARCHAR) AS _file"]
    select = f"SELECT {', '.join(out)} FROM {batch.source_sql()} r"
    return with_code_sets(select, code_sets)


def with_code_sets(select: str, code_sets: CodeSets | None) -> str:
    """`select`'s lines with a column per code set (CodeSets), or `select` itself."""
    if code_sets is None or not code_sets.sets:
        return select
    return f"SELECT x.*, {code_sets.select('x')} FROM ({select}) x"


def item_predicate(plans) -> str:
    """A line (alias `l`) whose item some rule may read: one list of every rule's codes, names and
    look-alikes (engine/items.py judges it once per distinct item)."""
    codes, prefixes, names, items = set(), set(), set(), set()
    for p in plans:
        sets = p.rule.impl.candidate_codes() if p.index is not None and not p.idle else None
        for n in sets or ():
            cs = p.contract.code_sets[n]
            codes |= set(cs.codes)
            prefixes |= set(cs.prefixes)
            if cs.lookalike:  # lines like its items under a local code: counted as not judged
                items.add(lookalike_pred(cs, "l"))
            if cs.names_cut_at_least or cs.by_amount:  # cut-off names, lines known by their amount
                items.add(names_pred(cs, "l"))
            else:
                names |= set(cs.names)
    parts = []
    if codes:
        parts.append(f"l.hilist_code IN ({', '.join(lit(c) for c in sorted(codes))})")
    parts += [f"starts_with(l.hilist_code, {lit(x)})" for x in sorted(prefixes)]
    if names:  # items the documents name but give no code for: one regular expression over the name
        parts.append(normal.name_like("l.hilist_name", sorted(names)))
    parts += sorted(items)
    return f"({' OR '.join(parts) or 'FALSE'})"


def candidates(ctxs, contracts) -> tuple[str, str, str]:
    """What keeps the lines some rule may read, as three predicates over alias `l`: the item's
    (item_predicate), the conditions of rules without codes, and the jurisdiction."""
    preds = {p.rule.impl.candidate(ctx, "l") for p, ctx in ctxs.values() if p.rule.impl.candidate_codes() is None}
    regions = sorted({r for c in contracts for r in c.regions})
    return (item_predicate([p for p, _ in ctxs.values()]), f"({' OR '.join(sorted(preds - {'FALSE'})) or 'FALSE'})",
            regions_pred("l", regions))


def companion_pairs(ctxs) -> list[tuple]:
    """[(context, own code sets, trigger code sets)]: lines a rule reads only beside others of
    their visit (a consultation fee in a visit that bills the diagnosis, kinds' companions())."""
    return [(ctx, own, trigger) for p, ctx in ctxs.values() if not p.blocked
            for own, trigger in (p.rule.impl.companions(ctx) or [])]


# the companion lines are kept by the first scan (their lonely ones deleted after) in a batch of
# fewer lines than this, or in one where at most this share of the lines bill a companion's item
# and no rule's (none, by default: bench/README.md, "Fourteenth pass"); else a second scan adds them
COMPANIONS_IN_SCAN_BELOW = 100_000
COMPANIONS_IN_SCAN_SHARE = 0.0


def companions_in_scan(con, pairs, items, lines: int) -> bool:
    """Whether the first scan keeps the companion lines. In a small batch it does: the second scan
    is a statement of its own (a service call's batch of 1,500 lines: 8 ms, against 2 ms for the
    DELETE). In a large one only when no line (or few, COMPANIONS_IN_SCAN_SHARE) bills a companion's
    item and no rule's, counted over the batch's items (engine/items.py): each such line is written,
    then deleted unless its visit bills the trigger, and every later query of lines_t passes over
    the deleted ones. nipt-lab 3M (3.2% such lines): the scan stage 1.2 s shorter, the run as a
    whole no faster."""
    if lines < COMPANIONS_IN_SCAN_BELOW:
        return True
    own = " OR ".join(f"({ctx.codes('s', o)})" for ctx, o, _ in pairs)
    n = con.execute(f"SELECT coalesce(sum(s._lines), 0) FROM {ITEMS} s WHERE NOT s._item AND ({own})").fetchall()[0][0]
    return n <= COMPANIONS_IN_SCAN_SHARE * lines


def companion_lines(pairs, a: str, s: str) -> str:
    """A line (alias `a`, its item's code-set columns read from alias `s`) billing some pair's own
    codes in that pair's jurisdiction, whatever its visit bills."""
    return " OR ".join(f"({ctx.codes(s, own)} AND {ctx.jurisdiction(a)})" for ctx, own, _ in pairs)


def companion_wanted(pairs, a: str) -> str:
    """A companion line (alias `a`, with its code-set columns) of a visit `v` of companion_visits
    that bills that pair's trigger."""
    return " OR ".join(f"({ctx.codes(a, own)} AND {ctx.jurisdiction(a)} AND v.c{k})"
                       for k, (ctx, own, _) in enumerate(pairs))


def companion_visits(con, pairs, among: str = "") -> None:
    """`companion_visits`: each visit some candidate line of which (alias `t`, also meeting
    `among`) bills a pair's trigger in its jurisdiction, with a flag `c<k>` per pair."""
    # one scan, one aggregate: a UNION ALL of a scan per pair ran out of 512MB on findings-heavy
    # 10M lines (8.4M candidate lines) where this takes 1.6 s
    triggers = [f"({ctx.jurisdiction('t')} AND {ctx.codes('t', trigger)})" for ctx, _, trigger in pairs]
    marks = ", ".join(f"bool_or({t}) AS c{k}" for k, t in enumerate(triggers))
    con.execute(f"CREATE TEMP TABLE companion_visits AS SELECT t.mdtrt_id, {marks} FROM lines_t t "
                f"WHERE {among}({' OR '.join(sorted(set(triggers)))}) GROUP BY t.mdtrt_id")


def drop_lonely_companions(con, pairs) -> None:
    """The scan kept every line billing some pair's own codes (`_companion`: kept for that alone,
    companions_in_scan); those of a visit without that pair's trigger among the other lines are
    deleted here. The second scan (add_companions) reads the whole batch again, normalises it and
    anti-joins it against every candidate line to add a few lines: in a service call's batch of
    1,500 lines 8 ms of some 80; nipt-lab 3M 1.1–1.4 s. Here they cost a line written and, unless
    its visit bills the trigger, deleted (bench/README.md, "Fourteenth pass")."""
    companion_visits(con, pairs, "NOT t._companion AND ")
    con.execute(f"DELETE FROM lines_t WHERE lines_t._companion AND NOT EXISTS (SELECT 1 FROM companion_visits v "
                f"WHERE v.mdtrt_id = lines_t.mdtrt_id AND ({companion_wanted(pairs, 'lines_t')}))")
    con.execute("DROP TABLE companion_visits")


def add_companions(con, pairs, raw: str, select, seq_join: tuple, items) -> None:
    """The companion lines (companion_pairs) by a second scan of the batch, for a large batch
    many of whose lines bill a companion's item (companions_in_scan): the visits that have each
    trigger are found among the candidate lines, then one scan adds every companion line of those
    visits to lines_t."""
    companion_visits(con, pairs)
    # the lines of those visits billing a companion's item: the items' code-set columns joined
    # onto them only, the visit's marks (companion_wanted) read after
    narrowed = select(f"SELECT l.*{items.set_columns()} FROM ({raw}) l SEMI JOIN companion_visits v "
                      f"ON v.mdtrt_id = l.mdtrt_id LEFT JOIN {ITEMS} s ON {items.on('l')} "
                      f"WHERE {companion_lines(pairs, 'l', 's')}", sets=True)
    con.execute(f"""INSERT INTO lines_t BY NAME
        SELECT l.*{seq_join[0]} FROM ({narrowed}) l
            JOIN companion_visits v ON v.mdtrt_id = l.mdtrt_id
            ANTI JOIN lines_t x ON x._fid = l._fid AND x._row = l._row
            {seq_join[1]}
            WHERE {companion_wanted(pairs, 'l')}""")
    con.execute("DROP TABLE companion_visits")


def table_names(contracts) -> dict[tuple[str, str], str]:
    """{(contract key, table name): the name the engine's SQL reads the table by}."""
    names = {}
    for c in contracts:
        for t in c.tables.values():
            names[(c.key, t.name)] = f"ref_{len(names)}"
    return names


def contexts(plans, names: dict, batch, lookups, history: bool = False,
             code_sets: CodeSets | None = None) -> dict[int, tuple]:
    """{rule index: (plan, RuleContext)} for the rules that run, sharing `lookups` (and, when the
    lines carry them, the `code_sets` columns)."""
    return {p.index: (p, RuleContext(p.rule, p.contract, {t: names[(p.contract.key, t)] for t in p.contract.tables},
                                     lookups, batch.fields, history, blocked=p.blocked,
                                     code_columns=code_sets.of(p.contract) if code_sets else None,
                                     like_columns=code_sets.likes_of(p.contract) if code_sets else None))
            for p in plans if p.index is not None and not p.idle}


# below this many lines a batch's findings are one query (run_on)
ONE_QUERY_BELOW = 100_000


def run_on(con, contracts, batch, ledger, record, judge, source, t0, progress=None, cache=None,
           compress: bool = False, spool_dir: str | None = None, keep=None) -> EngineResult:
    """The whole sequence on `con`: a DuckDB connection (duckdb/run.py) or the Spark engine's
    stand-in for one (spark/sql.py), which takes the same statements. `contracts` are every contract
    that runs (the data-quality one included); the reference tables are registered here. With
    `compress` (DuckDB), `lines` is kept compressed (_compressed_lines); many findings are kept in a
    file in `spool_dir` (checks/report/spool.py). `keep` (a long-lived process's database,
    checks.duck.Home.keep): what is made from the contracts' tables alone is made once, not per check."""
    names = table_names(contracts)
    refs = []  # the reference tables' data: what a kept table (`keep`) is made from
    for c in contracts:
        for t in c.tables.values():
            if t.data is not None:
                con.register(names[(c.key, t.name)], t.data)
                refs.append(t.data)
    refs = tuple(refs)
    policy = [c for c in contracts if c.id != "data-quality"]
    with watching(con, progress, "validating", batch.lines):
        survey = run_survey(con, batch, policy, cache)
    t1 = time.perf_counter()

    plans = plan(contracts)
    prune = judge and not (ledger is not None and record)  # a recording keeps every rule's columns
    billed = contracts
    if prune:  # every rule of a contract none of whose regions the batch bills in is idle (engine/idle.py)
        keys = idle.billed(con, contracts, lambda cols: lines_select(batch, cols, False))
        billed = [c for c in contracts if c.key in keys]
        for p in plans:
            p.idle = p.index is not None and p.contract.key not in keys
    # the code sets of the contracts billed in: a kind reads only its own contract's sets
    code_sets = CodeSets(billed)
    items = Items(billed, code_sets) if code_sets.sets else None  # the batch's items, judged once each
    if items is not None:
        con.execute(items.create_sql(lines_select(batch, set(items.columns), False), item_predicate(plans)))
        if prune:  # and every rule none of whose items the batch bills
            by_index = plans_by_index(plans)
            for i in idle.without_items(con, plans, code_sets):
                by_index[i].idle = True
    lookups = Lookups()
    ctxs = contexts(plans, names, batch, lookups, ledger is not None, code_sets)
    money_read = any("inpolicy_amt" in ctx.needs() for _, ctx in ctxs.values())
    parts = money_read or any(p.rule.kind == "money_identity" for p, _ in ctxs.values())
    cols = (_columns_read(ctxs) | set(items.columns if items is not None else ())
            | (set(money.PARTS) if parts else set()))
    raw = lines_select(batch, cols, parts)  # code-set columns are computed on the candidate lines only
    base = items.attach(raw) if items is not None else with_code_sets(raw, code_sets)
    for p, ctx in ctxs.values():
        ctx.source = f"({base})"  # every line, for kinds whose candidates depend on other lines
        if not p.blocked:
            p.rule.impl.bind(ctx)
    seq = ledger.next_seq() if ledger is not None else 0
    # many lines on DuckDB: the candidate lines are written once, compressed, into a database file
    # (_attach_work), with the institution already resolved (from the batch's distinct keys)
    work = compress and judge
    if work:
        _attach_work(con)
    ident = None
    wants_ident = judge and "institution" in cols  # institution identity (engine/identity.py)
    if wants_ident and work:
        _, _, regions = candidates(ctxs, contracts)
        ident = identity.resolve(con, contracts, names, lines=f"(SELECT * FROM ({raw}) l WHERE {regions})")
    with watching(con, progress, "judging", batch.lines):
        _build_lines(con, batch, ctxs, contracts, lookups, raw, code_sets, items, judge, ledger, seq,
                     work, ident, own_money=work and money_read)
    if wants_ident and not work:  # before lookups read it
        ident = identity.resolve(con, contracts, names, keep and functools.partial(keep, refs=refs))
    conventions, lacking = {}, {}
    if parts:
        # with the amount written (own_money), the same scan counts each file's lines whose own
        # parts could not tell it (no 全自费 or 超限价, 先行自付 not 0): _inpolicy_by_file completes those
        short = ("count(*) FILTER (WHERE inpolicy_amt IS NULL AND inscp_scp_amt IS NOT NULL)"
                 if work and money_read else "0")
        for fid, conv, n, m in con.execute(f"SELECT _fid, _conv, count(*), {short} FROM lines_t GROUP BY _fid, _conv").fetchall():
            conventions.setdefault(fid, {})[conv] = n
            lacking[fid] = lacking.get(fid, 0) + m
    survey.conventions = conventions
    files = pa.table({"fid": [cf.fid for cf in batch.files], "path": [cf.name for cf in batch.files],
                      "display": [cf.display for cf in batch.files],
                      "convention": [survey.convention_of(cf.fid) for cf in batch.files]})
    con.register("files_src", files)
    con.execute("CREATE TEMP TABLE files AS SELECT * FROM files_src")
    derived, joins = "", ""
    if ident is not None and not work:
        derived, joins = f", {ident[0]}", f" {ident[1]}"
    if money_read and work:  # written with the lines where their own parts tell; the others by their file
        derived = _inpolicy_by_file(survey, batch, lacking)
    elif money_read:  # the in-policy amount needs the file's convention where a line's own parts cannot tell
        v = lambda n: f"l.{n}"  # noqa: E731
        derived += f", {money.inpolicy(v, 'l._conv', file_convention_sql(survey, batch, 'l._fid'))} AS inpolicy_amt"
    # the candidate lines with what is derived from other tables. Joined, a table when judging: as
    # a view, a findings query reading it twice (a rule and the rule that supersedes it) had DuckDB
    # materialise the join in memory, which it cannot spill: the hospital profile at 3M lines ran
    # out of 512MB; as a table it completes in 512MB (bench/README.md). With nothing to join, a view.
    kind = "TABLE" if judge and joins else "VIEW"
    con.execute(f"CREATE TEMP {kind} lines AS SELECT l.*{derived} FROM lines_t l{joins}")
    if kind == "TABLE":
        con.execute("DROP TABLE lines_t")  # read no more: its space is freed for the stages to come
    if ident is not None:  # joined onto the lines: read no more
        con.execute("DROP TABLE ident")
    earlier = None
    if ledger is not None:
        earlier_sql = ledger.earlier_lines_sql(sorted(c for c in cols if c in COLUMNS and c not in DERIVED))
        con.execute(f"CREATE TEMP VIEW earlier AS {with_code_sets(earlier_sql, code_sets)}")
        earlier = con.execute("SELECT count(*) FROM earlier").fetchall()[0][0] if judge else None
    t2 = time.perf_counter()
    stats, sql = {}, ""
    findings = None
    if judge and ctxs:
        for lk in lookups.all:
            if keep is not None and lk.keyed:
                keep(con, lk.name, lk.keyed_sql(), refs)
            else:
                con.execute(lk.create_sql())
        stats = count_rules(con, ctxs, lookups)
        t3 = time.perf_counter()
        runnable = {i: pc for i, pc in ctxs.items() if not pc[0].blocked}
        # a small batch's findings in one query, read straight from its result: with few lines the
        # cost is DuckDB planning each statement (a 3101 call of 50 failing orders: 17 queries
        # 155 ms, one 62 ms); rule by rule only where holding every rule's work at once would
        # outgrow the memory limit (findings_sql)
        small = batch.lines < ONE_QUERY_BELOW
        one = small or getattr(con, "findings_in_one_query", False)
        queries = findings_sql(runnable, per_rule=not one)
        sql = ";\n".join(queries)
        findings = fetch(con, queries, runnable, [cf.display for cf in batch.files], spool_dir,
                         direct=small and not getattr(con, "findings_in_one_query", False))
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
    timings = {"survey_s": t1 - t0, "scan_s": t2 - t1, "counts_s": t3 - t2, "findings_s": t4 - t3,
               "survey_cached": survey.cached}
    if ledger is not None:
        timings["record_s"] = t5 - t4
    from .findings import empty_findings
    result = EngineResult(plans, stats, survey.in_force, findings if findings is not None else empty_findings(),
                          timings, survey.conventions, sql, fee_dates=survey.fee_dates)
    if ledger is not None:
        result.history = recorded or {"dry_run": True, "earlier_lines": earlier}
        result.history.update(ledger=str(ledger.path), schema_version=ledger.schema_version,
                              migrated_from=ledger.migrated_from)
    return result


WORK = "claimcheck_work"  # a database file in the spill folder, whose tables DuckDB compresses (_attach_work)


def _attach_work(con) -> None:
    """A database file in DuckDB's spill folder, made the default database: the candidate lines
    (`lines_t`) are written there, and DuckDB compresses a table of a database file as it writes
    it. DuckDB keeps a temporary table uncompressed: 16 bytes a text value plus its text, some 450
    bytes a line of a NIPT lab, so that at 3M lines it outgrew the memory limit and every rule read
    it back from the spill folder. Compressed, dictionaries and FSST make it some eightfold smaller.
    (An in-memory database with COMPRESS compresses only at a CHECKPOINT, a second pass: nipt-lab
    10M's columns took 4.2 s to write and 9–19 s to checkpoint there, and 10.3–11.6 s to write
    into a file, in parallel, with nothing left to checkpoint; bench/README.md.) Written once: the
    institution is resolved before the lines are written, and the in-policy amount is written with
    them where their own parts tell it; where a file's money convention, which the written lines
    decide, must tell it, `lines` completes it by a projection (_inpolicy_by_file; a batch whose
    lines carry every part needs none). As a view's projection instead it cost nipt-lab 1M's findings
    stage some 8% (every per-rule query timed against a stored copy, same process). (nipt-lab 3M: the candidate lines and a rewrite of them with the derived columns, 3.0 + 5.5 s,
    then 4.6 s once). The file goes with the spill folder. Queries name tables unqualified: the
    temporary ones are looked up first, then this database."""
    folder = con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
    con.execute(f"ATTACH {lit(os.path.join(folder, 'lines.duckdb'))} AS {WORK}")
    con.execute(f"USE {WORK}")


def file_convention_sql(survey, batch, fid: str) -> str:
    """The money convention of the file of the line whose file index is `fid` (survey.convention_of),
    as a SQL expression: 'incl' or 'excl', NULL for a file of mixed or unknown convention."""
    by = {}
    for cf in batch.files:
        by.setdefault(survey.convention_of(cf.fid), []).append(cf.fid)
    whens = "".join(f" WHEN {fid} IN ({', '.join(str(f) for f in by[c])}) THEN {lit(c)}"
                    for c in (money.INCL, money.EXCL) if c in by)
    return f"(CASE{whens} END)" if whens else "CAST(NULL AS VARCHAR)"


def _inpolicy_by_file(survey, batch, lacking: dict[int, int]) -> str:
    """What `lines` adds to the written candidate lines (alias `l`) for the in-policy amount of
    those whose own parts could not tell it (no 全自费 or 超限价, 先行自付 not 0; `lacking`: how many
    in each file), from their file's money convention, which the written lines decided: nothing
    when no such line is in a file of known convention (a batch whose lines carry every part),
    else the amount replaced by a projection. Not rewritten in place: an extract without 全自费 at all would rewrite every line,
    and DuckDB keeps an update in memory."""
    if not any(lacking.get(cf.fid) and survey.convention_of(cf.fid) in (money.INCL, money.EXCL) for cf in batch.files):
        return ""
    full = money.inpolicy(lambda n: f"l.{n}", "l._conv", file_convention_sql(survey, batch, "l._fid"))
    return f" REPLACE (coalesce(l.inpolicy_amt, {full}) AS inpolicy_amt)"


def _build_lines(con, batch, ctxs, contracts, lookups, raw, code_sets, items, judge, ledger, seq,
                 work: bool = False, ident: tuple | None = None, own_money: bool = False) -> None:
    """`lines_t`: the candidate lines (a table when judging; a view when only recording); with
    `work`, a table of the database _attach_work made, with `ident` (identity.resolve's
    columns and join) their institutions, and with `own_money` the in-policy amount where their
    own parts tell it (_inpolicy_by_file adds the rest). `raw` is every line of the batch; the code-set columns
    and what reads them are computed after the lines are narrowed (a code set named by item names
    is a regular expression)."""
    item, others, regions = candidates(ctxs, contracts)
    money_rules = sorted({f"({regions_pred('l', ctx.contract.regions)} AND {p.rule.impl.candidate(ctx, 'l')})"
                          for p, ctx in ctxs.values() if "inpolicy_amt" in ctx.needs()})
    normalised = "".join(f", {normal.name(f'l.{q(c)}')} AS {q(normalised_column(c))}"
                         for c in sorted(lookups.text_columns()))

    def select(lines: str, sets: bool = False) -> str:
        """`lines` (raw columns; with `sets`, their code-set columns too) and what is derived."""
        if not sets:
            lines = items.attach(lines) if items is not None else with_code_sets(lines, code_sets)
        return f"SELECT l.*, ({' OR '.join(money_rules) or 'FALSE'}) AS _money{normalised} FROM ({lines}) l"
    # a companion's code sets are its contract's: with them, the items table is there (run_on)
    pairs = companion_pairs(ctxs) if judge and items is not None else []
    in_scan = pairs if pairs and companions_in_scan(con, pairs, items, batch.lines) else []  # kept by this scan
    if items is not None:
        kept = select(items.keep(raw, others, regions, companion_lines(in_scan, "l", "s") or None), sets=True)
    else:
        kept = select(f"SELECT * FROM ({raw}) l WHERE ({item} OR {others}) AND {regions}")
    kind = "TABLE" if judge else "VIEW"
    if ledger is not None:
        con.execute(f"CREATE TEMP TABLE batch_ids AS SELECT DISTINCT {batch.value('mdtrt_id')} AS mdtrt_id, "
                    f"{batch.value('feedetl_sn')} AS feedetl_sn FROM {batch.source_sql()} r")
        con.execute(f"CREATE TEMP TABLE batch_seq AS {ledger.seq_of_batch_lines_sql()}")
        seq_join = (f", coalesce(s.batch_seq, {seq}) AS _seq, TRUE AS _in_batch",
                    "LEFT JOIN batch_seq s ON s.mdtrt_id = l.mdtrt_id AND s.feedetl_sn = l.feedetl_sn")
    else:
        seq_join = (", 0 AS _seq, TRUE AS _in_batch", "")
    if ident is not None:
        seq_join = (f"{seq_join[0]}, {ident[0]}", f"{seq_join[1]} {ident[1]}")
    if own_money:  # with no file's convention: NULL where it would decide
        seq_join = (f"{seq_join[0]}, {money.inpolicy(lambda n: f'l.{n}', 'l._conv', 'CAST(NULL AS VARCHAR)')} "
                    "AS inpolicy_amt", seq_join[1])
    con.execute(f"CREATE {'' if work else 'TEMP '}{kind} lines_t AS SELECT l.*{seq_join[0]} FROM ({kept}) l {seq_join[1]}")
    if in_scan:
        drop_lonely_companions(con, in_scan)
    elif pairs:
        add_companions(con, pairs, raw, select, seq_join, items)


def count_rules(con, ctxs, lookups) -> dict[int, RuleStats]:
    """Per rule: lines in scope, judged, and why the others could not be judged, in one pass whose
    cost grows with the (line, rule in scope) pairs, not with lines x rules.

    Each line's scope and judgeability for every rule, and whether each column a rule reads is
    empty on it, are computed once (innermost query), as flags. Lines are grouped by their flags:
    a batch's lines share a few dozen combinations. Over those groups each rule that has the line
    in scope gives one integer (the rule, whether the line is judgeable and a bit per value it
    reads that is empty there), unnested and summed: a few rows per rule, read here. (One
    aggregate with a FILTER per rule and column, as before, cost some 600 filtered aggregates per
    line with every contract on: most of a run. A list of those integers made per line, then
    grouped, cost 0.94 s on nipt-lab 1M where grouping the flags costs 0.66 s.)"""
    flags: list[tuple[str, str]] = []  # (expression, name) of each per-line flag
    codes, layout = [], {}
    empty: dict[str, str] = {}  # column -> the flag of its being empty on the line
    for i, (p, ctx) in ctxs.items():
        scope = ctx.in_scope("l")
        if p.rule.codes:  # the rest of the scope is evaluated only on the lines billing the rule's codes
            scope = f"CASE WHEN {ctx.codes('l', p.rule.codes)} THEN {scope} ELSE FALSE END"
        flags.append((scope, f"s{i}"))
        local = ctx.local_code("l")
        if local:  # a line that looks like the rule's but carries no national code: its own entry
            flags.append((local, f"c{i}"))
            codes.append(f"CASE WHEN c{i} THEN {-(i + 1)} END")
        if p.blocked:
            codes.append(f"CASE WHEN s{i} THEN {i << 32} END")
            layout[i] = []
            continue
        flags.append((ctx.judgeable("l"), f"j{i}"))
        read = set(ctx.needs()) | set(p.rule.impl.reads())
        needs = sorted(c for c in read if c not in p.rule.impl.nullable_columns())
        assert len(needs) < 31, f"{p.rule.id}: too many columns to count"
        bits = "".join(f" + CASE WHEN {empty.setdefault(c, f'e{len(empty)}')} THEN {1 << b} ELSE 0 END"
                       for b, c in enumerate(needs))
        codes.append(f"CASE WHEN s{i} THEN {i << 32} + CASE WHEN j{i} THEN {1 << 31} ELSE 0 END{bits} END")
        layout[i] = needs
    if not codes:
        return {}
    named = [name for _, name in flags]
    names = named + list(empty.values())
    nulls = "".join(f", {q(c)} IS NULL AS {e}" for c, e in empty.items())
    joins = "".join(lk.join("l") for lk in lookups.all)
    rows = con.execute(f"""SELECT c, sum(n), min(k) FROM (
        SELECT unnest([{', '.join(codes)}]) AS c, n, k FROM (
            SELECT {', '.join(names)}, count(*) AS n, min(_k) AS k FROM (
                SELECT {', '.join(named)}{nulls}, _fid * 1099511627776 + _row AS _k
                FROM (SELECT l.*, {', '.join(f'{e} AS {n}' for e, n in flags)} FROM lines l{joins})) GROUP BY ALL)
        ) WHERE c IS NOT NULL GROUP BY c""").fetchall()
    out = {i: RuleStats() for i in layout}
    for c, n, k in rows:
        n = int(n)
        if c < 0:
            out[-c - 1].local_code += n
            continue
        i, judged, mask = c >> 32, bool(c & (1 << 31)), c & ((1 << 31) - 1)
        st = out[i]
        st.in_scope += n
        if ctxs[i][0].blocked:
            continue
        if judged:
            st.judged += n
            continue
        st.unjudged += n
        ex = (k >> 40, k & ((1 << 40) - 1))
        st.example = min(st.example, ex) if st.example else ex
        for b, col in enumerate(layout[i]):
            if mask & (1 << b):
                st.missing[col] = st.missing.get(col, 0) + n
    for i, needs in layout.items():  # in the columns' order, as the report lists ties
        out[i].missing = {c: out[i].missing[c] for c in needs if c in out[i].missing}
    return out
