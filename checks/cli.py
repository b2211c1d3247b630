"""The command line: a thin layer that parses options, calls the library, maps the report to an exit code.

Exit codes: 0 no finding at or above --fail-on; 1 findings; 2 bad input, bad contract or usage.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .cli_guard import guarded, terminal  # noqa: F401 (the other command modules take guarded from here)
from .errors import UsageError

FAIL_ON = {"violation": 3, "suspect": 2, "data_quality": 1, "never": 99}
EXIT_FINDINGS, EXIT_BROKEN, EXIT_INCOMPLETE = 1, 2, 3


def output_options(fn):
    """The report formats; every one takes a file path ('-' for standard output), all combinable."""
    path = click.Path(dir_okay=False, allow_dash=True, path_type=str)
    for decorator in reversed([
        click.option("--json", "json_path", type=path, help="the full JSON report"),
        click.option("--html", type=path, help="self-contained HTML report"),
        click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                     help="language of the words a person reads: HTML report, terminal, annotations, JUnit, SARIF"),
        click.option("--junit", type=path, help="JUnit XML (a testsuite per contract, a testcase per rule)"),
        click.option("--sarif", type=path, help="SARIF 2.1.0"),
        click.option("--nhsa-json", type=path, help="the national 3101/3102 answer (infcode, output.result[])"),
        click.option("--nhsa-codes", type=click.Path(dir_okay=False, path_type=Path),
                     help="YAML code map for --nhsa-json (sev_deg, vola_bhvr_type …) over the shipped defaults"),
        click.option("--findings", type=path, help="every finding as F.parquet, F.csv (UTF-8 with BOM, for Excel) or F.xlsx, by the suffix"),
        click.option("--github", is_flag=True, help="GitHub Actions annotations on stdout"),
        click.option("-q", "--quiet", is_flag=True, help="print nothing but errors (the exit code tells)"),
    ]):
        fn = decorator(fn)
    return fn


def _nhsa_codes(nhsa_json, nhsa_codes):
    """The answer's code map, read before anything is judged (a broken one is exit 2 at once)."""
    if nhsa_codes and not nhsa_json:
        raise UsageError("--nhsa-codes goes with --nhsa-json")
    from .report.nhsa_out import load_codes
    return load_codes(nhsa_codes) if nhsa_json else None


def _targets(json_path, html, junit, sarif, nhsa_json, findings) -> dict:
    return {k: v for k, v in {"json": json_path, "html": html, "junit": junit, "sarif": sarif, "nhsa": nhsa_json,
                              "findings": findings}.items() if v}


def _say(quiet: bool, to_stderr: bool, text: str) -> None:
    if not quiet and text:
        click.echo(text, err=to_stderr)


def parse_tables(values) -> dict[str, str]:
    out = {}
    for v in values:
        name, sep, path = v.partition("=")
        if not sep or not name or not path:
            raise UsageError(f"--table {v}: write NAME=PATH")
        out[name] = path
    return out


def _picked(contracts_dir, specs, tables):
    """The contract versions --contract names, their user tables supplied (None: every contract)."""
    if not specs:
        return None
    from .contract import load_contracts
    from .contract.loader import supply_tables
    from .contract.lookup import pick_contracts

    versions = pick_contracts(load_contracts(contracts_dir), list(specs))
    supply_tables(versions, tables)
    return versions


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="claimcheck")
def main():
    """Check medical-insurance claim batches (Parquet) against policy contracts."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path),
              help="contracts folder (default: the bundled contracts, or $CLAIMCHECK_CONTRACTS)")
@click.option("--contract", "contract_specs", multiple=True, metavar="ID[@VERSION]",
              help="check only this contract (every version) or version; repeatable (default: every contract)")
@click.option("--columns", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML map of national field names to the files' column names (MAP.yaml)")
@click.option("--fail-on", type=click.Choice(list(FAIL_ON)), default="violation", show_default=True,
              help="lowest severity of finding that makes the exit code 1")
@click.option("--allow-incomplete", is_flag=True,
              help="exit 0/1 even when some rule could not judge lines of its scope (exit 3 otherwise)")
@click.option("--table", "tables", multiple=True, metavar="NAME=PATH",
              help="a reference table the contract leaves to the user, e.g. sunshine_catalogue=catalogue.csv")
@click.option("--history", type=click.Path(dir_okay=False, path_type=Path),
              help="ledger file: frequency limits count its earlier lines; the batch is then recorded in it")
@click.option("--dry-run", is_flag=True, help="with --history: count the ledger's lines, record nothing")
@click.option("--history-wait", type=float, default=30.0, show_default=True,
              help="seconds to wait for a ledger another process is writing")
@click.option("--waivers", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML file of accepted findings: counted apart, they do not fail the run")
@click.option("--show", type=int, default=10, show_default=True, help="findings listed on stdout")
@click.option("--memory-limit", default=None, metavar="SIZE",
              help="bound DuckDB's memory (e.g. 1GB); beyond it, it spills to --temp-dir")
@click.option("--temp-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="where DuckDB spills (default: the system temporary folder)")
@click.option("--no-cache", is_flag=True,
              help="scan every value again even of files proven before (cache: $CLAIMCHECK_CACHE)")
@click.option("--encoding", default=None, metavar="NAME",
              help="encoding of CSV / JSON Lines claim files (e.g. gb18030; default: UTF-8 if valid, else GB18030)")
@click.option("--threads", type=int, default=None, metavar="N",
              help="DuckDB worker threads (default: one per core)")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="duckdb (embedded) or spark (the same rules as Spark SQL; needs claimcheck[spark] and Java 17)")
@click.option("--spark-master", metavar="URL", default=None,
              help="with --engine spark: the master to start a session on (default: spark-submit's, or local[*])")
@click.option("--spark-conf", "spark_conf", multiple=True, metavar="KEY=VALUE",
              help="with --engine spark: a setting of the session started, e.g. spark.driver.memory=4g")
@output_options
@guarded
def check(paths, contracts_dir, contract_specs, columns, fail_on, allow_incomplete, tables, history, dry_run, history_wait, waivers,
          show, memory_limit, temp_dir, no_cache, encoding, threads, engine, spark_master, spark_conf, json_path, html,
          lang, junit, sarif, nhsa_json, nhsa_codes, findings, github, quiet):
    """Check PATHS (Parquet files or folders of them, hive-partitioned included).

    A PATH may also be a CSV or JSON Lines file of claim lines, a national 3101/3102 request
    (.json; .jsonl: one request a line), or - : standard input (Parquet, an Arrow IPC stream or a
    3101 request).

    With --engine spark a PATH may also be a dataset URI (hdfs://…, s3a://…) or a table of the
    Spark catalog written table:DB.NAME.

    Exit codes: 0 every rule ran and no finding is at or above --fail-on; 1 findings at or above
    --fail-on; 2 nothing was judged (bad input, contract or usage); 3 some rule could not judge
    lines of its scope (a table not supplied, a value empty), unless --allow-incomplete."""
    from .progress import Progress
    from .report import write_outputs
    from .report.target import preflight
    from .runner import check as run_check

    if dry_run and not history:
        raise UsageError("--dry-run goes with --history LEDGER")
    if (spark_master or spark_conf) and engine != "spark":
        raise UsageError("--spark-master and --spark-conf go with --engine spark")
    conf = {}
    for kv in spark_conf:
        key, sep, value = kv.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--spark-conf {kv}: write KEY=VALUE, e.g. spark.driver.memory=4g")
        conf[key.strip()] = value
    targets = _targets(json_path, html, junit, sarif, nhsa_json, findings)
    codes = _nhsa_codes(nhsa_json, nhsa_codes)
    table_paths = parse_tables(tables)
    from .contract.loader import default_contracts_dir
    preflight(targets, list(paths), {"ledger (--history)": history, "waivers": waivers, "column map": columns,
                                     "code map (--nhsa-codes)": nhsa_codes,
                                     **{f"--table {k}": v for k, v in table_paths.items()}},
              {"contract": contracts_dir or default_contracts_dir()})
    if temp_dir is not None and not temp_dir.is_dir():
        raise UsageError(f"--temp-dir {temp_dir}: folder does not exist")
    if temp_dir is not None and not os.access(temp_dir, os.W_OK | os.X_OK):
        raise UsageError(f"--temp-dir {temp_dir}: folder is not writable (read-only, or not yours)")
    to_stdout = any(str(p) == "-" for p in targets.values())
    progress = Progress()
    try:
        report = run_check(list(paths), contracts_dir, threads=threads, tables=parse_tables(tables),
                           contracts=_picked(contracts_dir, contract_specs, parse_tables(tables)),
                           history=history, dry_run=dry_run, history_wait=history_wait, waivers=waivers,
                           progress=progress, columns=columns, memory_limit=memory_limit,
                           temp_dir=str(temp_dir) if temp_dir else None, cache=not no_cache, engine=engine,
                           spark_master=spark_master, spark_conf=conf, encoding=encoding)
        progress("writing")
        written = write_outputs(report, targets, lang=lang, nhsa_codes=codes)
    finally:
        progress.close()
        if engine == "spark":
            from .engine.spark.session import shutdown
            shutdown()  # a session this command started, and its JVM
    from .report.github_out import github_annotations
    from .report.text_out import render_text

    _say(quiet, to_stdout, render_text(report, show, lang))
    if github:
        click.echo(github_annotations(report, lang=lang))
    for fmt, where in written:
        _say(quiet, True, f"wrote {fmt} report: {terminal(where)}")
    code = EXIT_FINDINGS if report.worst() >= FAIL_ON[fail_on] else 0
    if report.incomplete() and not allow_incomplete:
        code = EXIT_INCOMPLETE
    sys.exit(code)


def _not_json(name: str):
    raise ValueError(f"{name} is not a JSON number (claimcheck never writes it)")


@main.command()
@click.argument("result", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_options
@guarded
def report(result, json_path, html, lang, junit, sarif, nhsa_json, nhsa_codes, findings, github, quiet):
    """Render a JSON report (from check --json) into other formats."""
    import json as jsonlib

    from .report import Report, write_outputs
    from .report.github_out import github_annotations
    from .report.target import preflight

    targets = _targets(json_path, html, junit, sarif, nhsa_json, findings)
    if not targets and not github:
        raise UsageError("report: name at least one output (--json, --html, --junit, --sarif, --nhsa-json, "
                         "--findings or --github)")
    codes = _nhsa_codes(nhsa_json, nhsa_codes)
    preflight(targets, [str(result)], {"code map (--nhsa-codes)": nhsa_codes})
    try:
        rep = Report.from_dict(jsonlib.loads(result.read_text(encoding="utf-8"), parse_constant=_not_json))
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise UsageError(f"{result}: not a claimcheck JSON report ({type(e).__name__}: {e})") from None
    written = write_outputs(rep, targets, lang=lang, nhsa_codes=codes)
    if github:
        click.echo(github_annotations(rep, lang=lang))
    for fmt, where in written:
        _say(quiet, True, f"wrote {fmt} report: {terminal(where)}")


@main.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--lines", type=int, default=3000, show_default=True, help="number of fee lines")
@click.option("--seed", type=int, default=20250301, show_default=True)
@click.option("--planted", type=click.Path(dir_okay=False, path_type=Path),
              help="also write the planted violations (rule_id, mdtrt_id, feedetl_sn) as CSV")
@click.option("--scenario", "scenarios", multiple=True, metavar="CONTRACT@VERSION",
              help="only these policy scenarios (default: all), e.g. jiangsu-nipt@1.0.0")
@click.option("--profile", type=click.Choice(["realistic", "findings-heavy", "hospital", "nipt-lab", "art-clinic",
                                              "bureau"]), default="realistic", show_default=True,
              help="findings-heavy: most lines are NIPT detections charged 10 yuan too much; hospital: a quarter "
                   "consumables; nipt-lab: nine lines in ten NIPT; art-clinic: 80%% assisted reproduction; "
                   "bureau: all five regions' policies mixed")
@click.option("--partition-lines", type=int, metavar="N",
              help="write OUT as a folder of Parquet files (part-00000.parquet, …) of about N lines each")
@click.option("--chunk-lines", type=int, default=250_000, show_default=True, metavar="N",
              help="lines made and written at a time (memory grows with it, not with --lines)")
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path))
@guarded
def sample(out, lines, seed, planted, scenarios, profile, partition_lines, chunk_lines, contracts_dir):
    """Generate a realistic claim batch with planted violations into OUT (a Parquet file, or a folder)."""
    from .progress import Progress
    from .sample.generator import generate

    if not partition_lines and out.suffix.lower() != ".parquet" and not out.is_dir():
        out = out.with_name(out.name + ".parquet")  # a claim file is found by its suffix: give it one
    progress = Progress()
    try:
        g = generate(out, lines=lines, seed=seed, planted_path=planted, contracts_dir=contracts_dir,
                     scenarios=list(scenarios) or None, chunk_lines=chunk_lines, partition_lines=partition_lines,
                     profile=profile, progress=lambda done: progress("generating", done, lines))
    finally:
        progress.close()
    where = f"{len(g.files)} files in {out}" if partition_lines else str(out)
    click.echo(f"wrote {g.lines:,} lines to {where}" + (f"; {g.planted:,} planted violations to {planted}"
                                                         if planted else ""))
    if g.omitted:
        click.echo(f"too few lines for scenarios {', '.join(sorted(g.omitted))}: left out")


# registered here; they need `guarded` from above
from .cli_contracts import contracts, explain, functions, kinds, tables  # noqa: E402
from .cli_history import history  # noqa: E402
from .cli_serve import serve  # noqa: E402
from .cli_waivers import waivers as waivers_group  # noqa: E402

for command in (contracts, explain, kinds, functions, history, tables, serve, waivers_group):
    main.add_command(command)


@main.group("export")
def export_group():
    """Export the contracts to other tools' formats."""


@export_group.command("gx")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="folder for the suites (one JSON file per contract version) and not_exportable.json")
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path),
              help="contracts folder (default: the bundled contracts/)")
@click.option("--table", "tables", multiple=True, metavar="NAME=PATH",
              help="a reference table the contract leaves to the user (rules reading it are otherwise not exported)")
@guarded
def export_gx(out, contracts_dir, tables):
    """Great Expectations 1.x expectation suites, one per contract version (needs claimcheck[gx])."""
    from .contract import load_contracts

    try:
        from .export.gx import export_contracts, write_suites
    except ImportError as e:
        raise UsageError(f"export gx needs Great Expectations ({e}): pip install 'claimcheck[gx]'") from None
    exports = export_contracts(load_contracts(contracts_dir, parse_tables(tables)))
    paths, listing = write_suites(exports, out)
    for e, p in zip(exports, paths):
        click.echo(f"wrote {p}: {len(e.exported)} rules as {len(e.suite['expectations'])} expectations, "
                   f"{len(e.not_exportable)} not exportable")
    n_out, n_not = sum(len(e.exported) for e in exports), sum(len(e.not_exportable) for e in exports)
    click.echo(f"wrote {listing}: {n_not} rules not exportable, each with the reason")
    click.echo(f"{n_out} rules exported, {n_not} not exportable")


def run() -> None:
    """The `claimcheck` command: main(), then the process ends with its exit code at once.

    Once the command has done its work, written its outputs and removed its temporary files,
    the interpreter's own teardown is skipped (os._exit): under load, the destructors of the
    native libraries' thread pools (DuckDB, Arrow) run at that point sometimes aborted a finished
    command ("terminate called without an active exception", exit -6) or held it."""
    try:
        main(standalone_mode=True)
        code = 0
    except SystemExit as e:
        if isinstance(e.code, int) or e.code is None:
            code = e.code or 0
        else:  # sys.exit("text"): the text on standard error, exit 1, as Python does
            print(e.code, file=sys.stderr)
            code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
