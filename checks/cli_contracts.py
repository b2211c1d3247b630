"""`claimcheck contracts …`, `explain`, `kinds`, `functions`: browse, check and compare the contracts.

Each command parses its options, calls the library and prints what it returns. They import
neither DuckDB nor pandas (only `contracts test` and `validate` read what needs them).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .cli import guarded


@click.group()
def contracts():
    """Inspect, validate, test and compare the contracts."""


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
    """Load every contract and report the first problem, or how many rules each version has.

    Warns (on stderr, exit 0) when consecutive versions of a contract leave days uncovered."""
    from .contract import load_contracts
    from .contract.coverage import coverage_gaps

    versions = load_contracts(contracts_dir)
    for c in versions:
        click.echo(f"{c.file}: {c.id} {c.version}, {len(c.rules)} rules, {len(c.not_encoded)} not encoded")
    for gap in coverage_gaps(versions):
        click.echo(f"warning: {gap}", err=True)


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

    click.echo(render_list(load_contracts(contracts_dir, read_tables=False)))


@contracts.command("diff")
@click.argument("old", metavar="CONTRACT@A")
@click.argument("new", metavar="CONTRACT@B")
@click.option("--json", "as_json", is_flag=True, help="the diff as JSON (format claimcheck.contract-diff/1)")
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--old-contracts", "old_dir", type=click.Path(file_okay=False, path_type=Path),
              help="read CONTRACT@A from this folder (e.g. the contracts before an edit)")
@guarded
def contracts_diff(old, new, as_json, contracts_dir, old_dir):
    """What changed from CONTRACT@A to CONTRACT@B (or @B, same contract): rules, not-encoded
    rules, code sets, reference-table rows and dates added, removed and changed."""
    from .contract import load_contracts
    from .contract.diff import diff
    from .contract.lookup import find_version
    from .report.diff_text import render_diff

    versions = load_contracts(contracts_dir)
    before = find_version(load_contracts(old_dir) if old_dir else versions, old)
    after = find_version(versions, new, contract=before.id)
    d = diff(before, after)
    click.echo(d.to_json() if as_json else render_diff(d.to_dict()), nl=not as_json)


@click.command()
@click.argument("rule")
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--sql", "with_sql", is_flag=True, help="also the SQL query the engine runs for the rule")
@guarded
def explain(rule, contracts_dir, with_sql):
    """Explain RULE (ID, ID@VERSION or CONTRACT/ID@VERSION, any case): kind, parameters, dates,
    source and quoted words, notes, examples; for a rule listed as not encoded, why. With --sql,
    the query the engine runs (reports say the same in words)."""
    from .contract import load_contracts
    from .contract.lookup import find
    from .report.explain import render_entry, rule_sql

    hits = find(load_contracts(contracts_dir, read_tables=False), rule)
    out = []
    for e in hits:
        text = render_entry(e)
        if with_sql and e.rule is not None:
            text += "\nsql        the findings query over the claim lines (`lines`):\n" + "\n".join(
                "  " + ln for ln in rule_sql(e.contract, e.rule).splitlines())
        out.append(text)
    click.echo("\n\n".join(out))


@click.command()
@guarded
def kinds():
    """Document every rule kind (its docstring)."""
    from .kinds import KINDS

    for name in sorted(KINDS):
        doc = sys.modules[KINDS[name].__module__].__doc__ or ""
        click.echo(f"== {name} ==\n{doc.strip()}\n")


@click.command()
@guarded
def functions():
    """Document the condition language: every function and operator, its arity and an example."""
    from .report.explain import render_functions

    click.echo(render_functions())


@click.command()
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--contract", "contract_specs", multiple=True, metavar="ID[@VERSION]", help="only these contracts")
@guarded
def tables(contracts_dir, contract_specs):
    """The reference tables the contracts leave to the user (pass each with check --table NAME=PATH),
    their columns, and where the bundled sample of each is (for trying claimcheck out, not for use)."""
    from .contract import load_contracts
    from .contract.lookup import pick_contracts

    versions = load_contracts(contracts_dir, read_tables=False)
    if contract_specs:
        versions = pick_contracts(versions, list(contract_specs))
    seen: dict[str, list] = {}
    for v in versions:
        for t in v.tables.values():
            if t.supplied_by_user:
                seen.setdefault(t.name, []).append((v, t))
    if not seen:
        click.echo("no contract here takes a table from the user")
        return
    for name, uses in seen.items():
        t = uses[0][1]
        click.echo(f"{name} — {t.title}")
        click.echo(f"  used by   {', '.join(dict.fromkeys(f'{v.id}@{v.version}' for v, _ in uses))}")
        click.echo(f"  columns   {', '.join(t.columns)}")
        sample = next((u.sample for _, u in uses if u.sample), None)
        if sample:
            click.echo(f"  sample    {Path(sample).resolve()}")
        click.echo(f"  pass      --table {name}=PATH" + (f"   (to try the sample: --table {name}={Path(sample).resolve()})"
                                                        if sample else ""))
