"""The command line: a thin layer that parses options, calls the library, maps the report to an exit code.

Exit codes: 0 no finding at or above --fail-on; 1 findings; 2 bad input, bad contract or usage.
"""
from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import ClaimcheckError, InputErrors, UsageError

FAIL_ON = {"violation": 2, "suspect": 1, "never": 99}


def guarded(fn):
    """Turn every error into a message and exit code 2; never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputErrors as e:
            for err in e.errors:
                click.echo(f"error: {err}", err=True)
            sys.exit(2)
        except ClaimcheckError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(2)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as e:  # a bug of ours, or input that got past every check
            if os.environ.get("CLAIMCHECK_DEBUG"):
                raise
            click.echo(f"error: internal error ({type(e).__name__}: {e}); set CLAIMCHECK_DEBUG=1 for details",
                       err=True)
            sys.exit(2)
    return wrapper


def output_options(fn):
    """The report formats; every one takes a file path, all combinable in one run."""
    path = click.Path(dir_okay=False, path_type=Path)
    for decorator in reversed([
        click.option("--html", type=path, help="self-contained HTML report"),
        click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                     help="language of the HTML report"),
        click.option("--junit", type=path, help="JUnit XML (a testsuite per contract, a testcase per rule)"),
        click.option("--sarif", type=path, help="SARIF 2.1.0"),
        click.option("--nhsa-json", type=path, help="findings in the national 3101/3102 result shape"),
        click.option("--findings", type=path, help="every finding as Parquet"),
        click.option("--github", is_flag=True, help="GitHub Actions annotations on stdout"),
    ]):
        fn = decorator(fn)
    return fn


def parse_tables(values) -> dict[str, str]:
    out = {}
    for v in values:
        name, sep, path = v.partition("=")
        if not sep or not name or not path:
            raise UsageError(f"--table {v}: write NAME=PATH")
        out[name] = path
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="claimcheck")
def main():
    """Check medical-insurance claim batches (Parquet) against policy contracts."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path),
              help="contracts folder (default: the bundled contracts/)")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="write the full JSON report to this file")
@click.option("--fail-on", type=click.Choice(list(FAIL_ON)), default="violation", show_default=True,
              help="lowest severity of finding that makes the exit code 1")
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
@click.option("--threads", type=int, default=None, hidden=True)
@output_options
@guarded
def check(paths, contracts_dir, json_path, fail_on, tables, history, dry_run, history_wait, waivers, show, threads,
          html, lang, junit, sarif, nhsa_json, findings, github):
    """Check PATHS (Parquet files or folders of them, hive-partitioned included)."""
    from .progress import Progress
    from .report import write_outputs
    from .report.github_out import github_annotations
    from .report.text_out import render_text
    from .runner import check as run_check

    if dry_run and not history:
        raise UsageError("--dry-run goes with --history LEDGER")
    progress = Progress()
    try:
        report = run_check(list(paths), contracts_dir, threads=threads, tables=parse_tables(tables),
                           history=history, dry_run=dry_run, history_wait=history_wait, waivers=waivers,
                           progress=progress)
        progress("writing")
        write_outputs(report, json=json_path, html=html, lang=lang, junit=junit, sarif=sarif, nhsa=nhsa_json,
                      findings=findings)
    finally:
        progress.close()
    click.echo(render_text(report, show))
    if github:
        click.echo(github_annotations(report))
    sys.exit(1 if report.worst() >= FAIL_ON[fail_on] else 0)


@main.command()
@click.argument("result", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="write the JSON again")
@output_options
@guarded
def report(result, json_path, html, lang, junit, sarif, nhsa_json, findings, github):
    """Render a JSON report (from check --json) into other formats."""
    import json as jsonlib

    from .report import Report, write_outputs
    from .report.github_out import github_annotations

    try:
        rep = Report.from_dict(jsonlib.loads(result.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as e:
        raise UsageError(f"{result}: not a claimcheck JSON report ({type(e).__name__}: {e})") from None
    write_outputs(rep, json=json_path, html=html, lang=lang, junit=junit, sarif=sarif, nhsa=nhsa_json,
                  findings=findings)
    if github:
        click.echo(github_annotations(rep))


@main.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lines", type=int, default=3000, show_default=True, help="approximate number of fee lines")
@click.option("--seed", type=int, default=20250301, show_default=True)
@click.option("--planted", type=click.Path(dir_okay=False, path_type=Path),
              help="also write the planted violations (rule_id, mdtrt_id, feedetl_sn) as CSV")
@click.option("--scenario", "scenarios", multiple=True, metavar="CONTRACT@VERSION",
              help="only these policy scenarios (default: all), e.g. jiangsu-nipt@1.0.0")
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path))
@guarded
def sample(out, lines, seed, planted, scenarios, contracts_dir):
    """Generate a realistic claim batch with planted violations into OUT (Parquet)."""
    from .sample.generator import generate

    n, k = generate(out, lines=lines, seed=seed, planted_path=planted, contracts_dir=contracts_dir,
                    scenarios=list(scenarios) or None)
    click.echo(f"wrote {n:,} lines to {out}" + (f"; {k} planted violations to {planted}" if planted else ""))


@main.group()
def contracts():
    """Inspect the contracts."""


@contracts.command("schema")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="write here instead of stdout")
@guarded
def contracts_schema(out):
    """Print the JSON Schema of the contract format."""
    from .contract.schema import contract_schema

    text = json.dumps(contract_schema(), ensure_ascii=False, indent=2) + "\n"
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@contracts.command("validate")
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path))
@guarded
def contracts_validate(contracts_dir):
    """Load every contract and report the first problem, or how many rules each version has."""
    from .contract import load_contracts

    for c in load_contracts(contracts_dir):
        click.echo(f"{c.file}: {c.id} {c.version}, {len(c.rules)} rules, {len(c.not_encoded)} not encoded")


@contracts.command("test")
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("-v", "--verbose", is_flag=True, help="list passing rules too")
@guarded
def contracts_test(contracts_dir, verbose):
    """Run every rule's examples; fail when one is missing or gives another verdict."""
    from .contract import load_contracts
    from .contract.examples import test_all

    outcomes = test_all(load_contracts(contracts_dir, use_samples=True))
    for o in outcomes:
        if verbose or not o.ok:
            click.echo(f"{'PASS' if o.ok else 'FAIL'}: {o.contract} {o.version} {o.rule_id} ({o.examples} examples)")
        for p in o.problems:
            click.echo(f"    {p}")
    bad = [o for o in outcomes if not o.ok]
    n = sum(o.examples for o in outcomes)
    click.echo(f"{len(outcomes)} rules, {n} examples: " + (f"{len(bad)} rule(s) FAILED" if bad else "all passed"))
    sys.exit(1 if bad else 0)


@contracts.command("list")
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path))
@guarded
def contracts_list(contracts_dir):
    """List every contract version and its rules."""
    from .contract import load_contracts
    from .report.explain import render_list

    click.echo(render_list(load_contracts(contracts_dir)))


@main.command()
@click.argument("rule_id")
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path))
@guarded
def explain(rule_id, contracts_dir):
    """Explain RULE_ID: kind, parameters, dates, source and quoted words, notes, examples."""
    from .contract import load_contracts
    from .report.explain import render_rule

    versions = load_contracts(contracts_dir)
    hits = [(v, r) for v in versions for r in v.rules if r.id == rule_id]
    if not hits:
        known = sorted({r.id for v in versions for r in v.rules})
        raise UsageError(f"no rule {rule_id!r}; valid: {', '.join(known)}")
    click.echo("\n\n".join(render_rule(v, r) for v, r in hits))


@main.command()
@guarded
def kinds():
    """Document every rule kind (its docstring)."""
    from .kinds import KINDS

    for name in sorted(KINDS):
        doc = sys.modules[KINDS[name].__module__].__doc__ or ""
        click.echo(f"== {name} ==\n{doc.strip()}\n")


from .cli_history import history  # noqa: E402  (registered here; it needs `guarded` from above)

main.add_command(history)


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


if __name__ == "__main__":
    main()
