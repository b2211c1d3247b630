"""The library entry point: load contracts, open the batch, run the engine, return a Report."""
from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pyarrow as pa

from . import __version__
from .claims import open_batch
from .claims.source import open_source
from .claims.columns import load_column_map
from .claims.fields import COLUMNS
from .contract import load_contracts
from .contract.retired import judging
from .engine.duckdb import run as duckdb_run
from .errors import UsageError
from .report.model import FINDING_SCHEMA, Report, RuleResult

_SIZE = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def check(paths, contracts_dir: Path | str | None = None, threads: int | None = None,
          tables: dict[str, str] | None = None, contracts=None, history: Path | str | None = None,
          dry_run: bool = False, history_wait: float = 30.0, waivers: Path | str | None = None,
          progress=None, columns: Path | str | dict | None = None, memory_limit: str | None = None,
          temp_dir: str | None = None, cache: bool = True, engine: str = "duckdb", spark=None,
          spark_master: str | None = None, spark_conf: dict[str, str] | None = None, name: str | None = None,
          encoding: str | None = None, home=None) -> Report:
    """Check claims against every contract; raise ClaimcheckError subclasses on broken input.

    `paths` is what to check: Parquet files or folders, CSV or JSON Lines files (read in
    `encoding`, else UTF-8 or GB18030), 3101/3102 request files, '-' (standard input), or data in
    memory: a pyarrow Table, RecordBatch or RecordBatchReader, anything with `__arrow_c_stream__`,
    a pandas DataFrame, or a checks.nhsa.Message (checks/claims/source.py); `name` is how data in
    memory is named in the report (its "file").

    `tables` supplies user tables ({'sunshine_catalogue': 'catalogue.csv'}); `contracts` may be
    already-loaded ContractVersions (then `contracts_dir` and `tables` are not read); of a version and
    its revision among them only the revision judges (checks/contract/retired.py). `columns`
    maps national field names to the files' column names (a MAP.yaml path or a dict). With
    `history` (a ledger file) frequency limits also count earlier batches, and the batch is
    recorded unless `dry_run`. `memory_limit` (e.g. '1GB') bounds DuckDB, which then spills to
    `temp_dir`. `engine="spark"` runs the same rules with Spark SQL: on `spark` (a SparkSession),
    or one started on `spark_master` with the settings `spark_conf`; `paths` may then name a
    catalog table as 'table:db.name' or a dataset URI (hdfs://…). With `cache`
    (default), what was proven of these very files before is not scanned again
    (checks/engine/cache.py). `home` (a checks.duck.Home, DuckDB only): the database the check
    runs in, kept by a long-lived caller (a server worker) so that a check opens none."""
    from .history import Ledger
    from .waivers import apply_waivers, load_waivers

    progress = progress or (lambda *a: None)
    paths = _as_paths(paths)
    _check_engine(engine, paths, history, memory_limit, temp_dir, threads)
    if memory_limit is not None and not _SIZE.fullmatch(str(memory_limit).strip()):
        raise UsageError(f"--memory-limit {memory_limit!r}: write a size such as 512MB, 2GB or 1.5GiB")
    t0 = time.perf_counter()
    progress("contracts")
    loaded = contracts if contracts is not None else load_contracts(contracts_dir, tables)
    accepted = load_waivers(waivers, loaded) if waivers else None
    contracts = judging(loaded)  # a version revised by another of them is retired: the revision judges
    column_map = load_column_map(columns) if isinstance(columns, (str, Path)) else (columns or {})
    ledger = Ledger(history, read_only=dry_run, wait=history_wait) if history else None
    if ledger is not None:
        ledger.precheck()
    t1 = time.perf_counter()
    progress("reading")
    if engine == "spark":
        from .engine.spark import run as spark_run
        from .engine.spark.session import session
        from .engine.spark.source import open_spark_batch

        spark = spark if spark is not None else session(spark_master, spark_conf)
        batch, opened = open_spark_batch(spark, list(paths), column_map), None
    else:
        opened = open_source(paths, column_map, cache=cache, temp_dir=temp_dir, name=name, encoding=encoding)
        batch, cache = opened.batch, cache and opened.cacheable
    try:
        unused = [f for f in column_map if not any(f in cf.sources for cf in batch.files)]
        if unused and isinstance(columns, (str, Path)):
            names = " or ".join(repr(n) for n in column_map[unused[0]])
            raise UsageError(f"--columns {columns}: {unused[0]} is mapped to {names}, which no claim file has")
        t2 = time.perf_counter()
        progress("judging")
        if engine == "spark":
            result = spark_run.run(contracts, batch, spark, progress=progress)
        else:
            result = _run_duckdb(contracts, batch, threads, ledger, dry_run, memory_limit, temp_dir, progress, cache,
                                 home)
        result.findings = context_only(result.findings, getattr(batch, "context_rows", None))
        if getattr(batch, "diagnoses", None):  # a 3101 request: every diagnosis of the encounter counts
            from .nhsa.diagnoses import every_diagnosis
            result.findings = every_diagnosis(result.findings, batch, contracts, lambda b: context_only(_run_duckdb(
                contracts, b, threads, None, True, memory_limit, temp_dir, None, False, home).findings, b.context_rows))
    finally:
        if opened is not None:
            opened.close()
    result.timings = {"contracts_s": t1 - t0, "open_s": t2 - t1, **result.timings}
    report = build_report(contracts, batch.hashed(), result)
    report.history = result.history
    if engine == "spark":
        report.engine.update(name="spark", spark=spark.version, master=spark.sparkContext.master)
    if accepted is not None:
        apply_waivers(report, accepted)
    report.message = opened.message if opened is not None else None
    return report


def _as_paths(data):
    """A path or paths as a list of text; data in memory as it is."""
    if isinstance(data, (str, Path)):
        return [str(data)]
    if isinstance(data, (list, tuple)) and all(isinstance(p, (str, Path)) for p in data):
        return [str(p) for p in data]
    return data


def _run_duckdb(contracts, batch, threads, ledger, dry_run, memory_limit, temp_dir, progress, cache, home=None):
    try:
        from .engine.cache import SurveyCache, folder
        return duckdb_run.run(contracts, batch, threads=threads, ledger=ledger, record=not dry_run,
                              memory_limit=memory_limit, temp_dir=temp_dir, progress=progress,
                              cache=SurveyCache(folder() if cache else None), home=home)
    except Exception as e:
        _engine_error(e, batch, ledger, memory_limit)
        raise


def _engine_error(e: Exception, batch, ledger, memory_limit=None) -> None:
    """Raise the located error an engine failure stands for (the ledger's, a claim file's, memory);
    return if it is none of these."""
    from .engine.duckdb.diagnose import diagnose, reading_error
    if ledger is not None and reading_error(e) and any(
            str(n) in str(e) for n in (ledger.path, ledger.path.absolute(), ledger.path.resolve())):
        from .history.ledger import LedgerError
        raise LedgerError(f"{ledger.path}: cannot read the ledger ({str(e).strip().splitlines()[0]})") from None
    if reading_error(e):
        raise diagnose(batch, e) from None
    if type(e).__name__ == "OutOfMemoryException":
        raise UsageError(out_of_memory(memory_limit, batch.lines, e)) from None


def context_only(findings: pa.Table, rows) -> pa.Table:
    """Findings without those on lines sent only as context (a 3101 order with curr_drord_flag 0):
    such a line counts for the rules (an earlier payment), but is not this request's to answer for."""
    if not rows or not findings.num_rows:
        return findings
    import pyarrow.compute as pc
    return findings.filter(pc.invert(pc.is_in(findings["row"], value_set=pa.array(rows, pa.int64()))))


def out_of_memory(memory_limit: str | None, lines: int, e: Exception) -> str:
    """What to do when DuckDB needs more memory than it may take: it spills sorts, joins and
    aggregates to --temp-dir, but the candidate lines and some rules' work must fit."""
    from .engine.duckdb.run import MEMORY_LIMIT

    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return (f"checking {lines:,} lines needs more memory than --memory-limit {memory_limit or MEMORY_LIMIT} allows "
            f"(DuckDB: {first}); the lines some rule reads are held in memory: give it more with "
            "--memory-limit (100M lines of a realistic batch take 2GB), or check the batch in parts")


HISTORY_ON_SPARK = ("--history is DuckDB-only: the ledger is a DuckDB file that the engine reads, judges "
                    "against and records into under one lock and in one transaction, so a batch is counted "
                    "once and never half-recorded; Spark offers no such store without a table format "
                    "(Delta Lake, Iceberg) claimcheck does not depend on. Check with --engine duckdb to "
                    "use a ledger")


def _check_engine(engine, paths, history, memory_limit, temp_dir, threads) -> None:
    if engine not in ("duckdb", "spark"):
        raise UsageError(f"--engine {engine!r}: choose duckdb or spark")
    in_memory = not isinstance(paths, list)
    if engine == "duckdb":
        from .engine.spark.source import TABLE_PREFIX
        named = [p for p in paths if str(p).startswith(TABLE_PREFIX)] if not in_memory else []
        if named:
            raise UsageError(f"{named[0]} names a catalog table, which only --engine spark reads")
        return
    if in_memory or any(str(p) == "-" or Path(str(p)).suffix.lower() in (".csv", ".json", ".jsonl") for p in paths):
        raise UsageError("--engine spark reads Parquet files, dataset URIs and catalog tables; data in memory, "
                         "standard input, CSV, JSON Lines and 3101 requests are checked with --engine duckdb")
    if history:
        raise UsageError(HISTORY_ON_SPARK)
    for name, value in (("--memory-limit", memory_limit), ("--temp-dir", temp_dir), ("--threads", threads)):
        if value:
            raise UsageError(f"{name} bounds DuckDB; with --engine spark size Spark itself "
                             "(spark-submit --driver-memory/--executor-memory, spark.local.dir)")


def import_history(paths: list[str], ledger_path: Path | str, contracts_dir=None, tables=None,
                   wait: float = 30.0, columns=None) -> dict:
    """Record already-settled claims in the ledger without judging them."""
    from .history import Ledger

    contracts = judging(load_contracts(contracts_dir, tables, use_samples=False))
    column_map = load_column_map(columns) if isinstance(columns, (str, Path)) else (columns or {})
    ledger = Ledger(ledger_path, wait=wait)
    ledger.precheck()
    batch = open_batch(paths, column_map)
    try:
        result = duckdb_run.run(contracts, batch, ledger=ledger, record=True, judge=False, source="import")
    except Exception as e:
        _engine_error(e, batch, ledger)
        raise
    return result.history


def _not_judged(batch, st, names) -> str:
    why = []
    for col, n in sorted(st.missing.items(), key=lambda kv: -kv[1]):
        absent = [p for p in ("fulamt_ownpay_amt", "overlmt_amt", "inscp_scp_amt") if p not in batch.fields]
        if col == "inpolicy_amt" and len(absent) >= 2:
            why.append(f"the in-policy amount inpolicy_amt needs the line's money split ({', '.join(absent)} "
                       f"absent; a 3101/3102 request carries none) on {n:,}")
        elif col == "inpolicy_amt":
            why.append(f"the in-policy amount inpolicy_amt could not be derived on {n:,} (money parts that add "
                       "up under neither convention, see DQ-MONEY, or 全自费/超限价 empty in a file whose "
                       "convention is unknown)")
        elif col not in batch.fields and col in COLUMNS and col not in ("inpolicy_amt",):
            why.append(f"{batch.missing_reason(col)} ({n:,} lines)")
        else:
            why.append(f"{col} ({COLUMNS[col].zh}) is empty on {n:,}")
    if not why:
        why.append("a value the rule reads is empty, or its condition could not be decided")
    eg = f" (e.g. {names.get(st.example[0], '?')} row {st.example[1]})" if st.example else ""
    return (f"{st.unjudged:,} of {st.in_scope:,} lines in scope could not be judged: " + "; ".join(why) + eg)


def _local_code(rule, contract, n: int) -> str:
    like = [contract.code_sets[x].lookalike for x in rule.codes if contract.code_sets[x].lookalike]
    what = "; ".join(", ".join(([f"list_type {'/'.join(la['list_type'])}"] if la.get("list_type") else []) +
                               ([f"a name like {' / '.join(la['names'])}"] if la.get("names") else [])) for la in like)
    return (f"not judged: local code — {n:,} lines look like this rule's items ({what}) but carry none of its "
            "codes (a hospital's own code instead of the national one): map them to the national code to judge them")


def _optional_reason(rule, batch) -> str | None:
    """A refinement rule on a column the batch lacks: why it does not apply."""
    missing = rule.missing_optional(batch.fields)
    return (f"a refinement on {', '.join(missing)}, which the claim files do not supply "
            "(absent, or empty on every line): it does not apply") if missing else None


def build_report(contracts, batch, result) -> Report:
    table = result.findings if result.findings.num_rows else FINDING_SCHEMA.empty_table()
    per_rule = {}
    if table.num_rows:
        agg = table.group_by(["contract_id", "contract_version", "rule_id"]).aggregate(
            [("amount", "sum"), ("amount", "count")])
        for c, v, r, amount, n in zip(*(agg[k].to_pylist() for k in ["contract_id", "contract_version", "rule_id",
                                                                      "amount_sum", "amount_count"])):
            per_rule[(c, v, r)] = (n, round(amount or 0.0, 2))
    names = batch.display_of()
    rules = []
    for p in result.plans:
        r, c = p.rule, p.contract
        n, amount = per_rule.get((c.id, c.version, r.id), (0, 0.0))
        st = result.stats.get(p.index) if p.index is not None else None
        checked, not_judged, reason = 0, 0, p.reason
        if p.index is None:
            status = "error" if p.failed else "not_applicable"
        elif p.blocked:
            scope = st.in_scope if st else 0
            status = "error" if scope else "not_applicable"
            reason = (f"{p.reason}; {scope:,} lines in scope were not judged" if scope
                      else f"no line of the batch falls in this rule's scope ({p.reason})")
        elif st is None or st.in_scope == 0:
            status, reason = "not_applicable", _optional_reason(r, batch) or "no line of the batch falls in this rule's scope"
        else:
            checked, not_judged = st.judged, st.unjudged
            if st.judged == 0:
                status, reason = "error", _not_judged(batch, st, names)
            else:
                status = "fail" if n else "pass"
                reason = _not_judged(batch, st, names) if st.unjudged else None
        if st is not None and st.local_code and not p.blocked:
            not_judged += st.local_code
            reason = "; ".join(x for x in (reason if status != "not_applicable" else None,
                                           _local_code(r, c, st.local_code)) if x)
        rules.append(RuleResult(r.id, c.id, c.version, r.title, r.title_en, r.kind, r.severity, status,
                                checked, n, amount, r.source.as_dict(), reason, r.notes,
                                lines_not_judged=not_judged))
    from .claims import money
    inputs = []
    for cf in batch.files:
        counts = result.conventions.get(cf.fid, {})
        mapped = {f: s.column for f, s in cf.sources.items() if s.column != f}
        inputs.append({"file": cf.display, "rows": cf.rows, "sha256": cf.sha256,
                       "fee_dates": result.fee_dates.get(cf.fid),
                       "money_convention": money.file_convention(counts), "money_lines": counts,
                       **({"columns": mapped} if mapped else {}),
                       **({"partitions": cf.partitions} if cf.partitions else {})})
    in_force = dict(result.in_force)
    every = list({p.contract.key: p.contract for p in result.plans}.values())  # the built-in data-quality one too
    for p in result.plans:
        if p.contract.key not in in_force:
            st = result.stats.get(p.index) if p.index is not None else None
            in_force[p.contract.key] = max(in_force.get(p.contract.key, 0), st.in_scope if st else 0)
    return Report(
        contracts=[dict(c.summary(), lines_in_force=in_force.get(c.key, 0)) for c in every],
        inputs=inputs, lines=batch.lines, rules=rules, table=table,
        engine={"name": "duckdb", "claimcheck": __version__,
                "checked_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in result.timings.items()}})


def empty_table() -> pa.Table:
    return FINDING_SCHEMA.empty_table()
