"""`claimcheck waivers list`: the accepted findings in a waivers file, kept by hand or through 3103."""
from __future__ import annotations

from pathlib import Path

import click

from .cli import guarded


@click.group()
def waivers():
    """Waivers: findings accepted with a reason, an owner and an expiry date."""


@waivers.command("list")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), envvar="CLAIMCHECK_WAIVERS")
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path),
              help="check each waiver's rule against these contracts (default: the bundled ones)")
@guarded
def waivers_list(path, contracts_dir):
    """List the waivers in PATH: id, rule, the line it matches, owner, expiry and reason."""
    from .contract import load_contracts
    from .waivers import load_waivers, today_in_china

    today = today_in_china()
    entries = load_waivers(path, load_contracts(contracts_dir, read_tables=False))
    if not entries:
        click.echo(f"{path}: no waivers")
        return
    for w in entries:
        match = " ".join(f"{k}={v}" for k, v in w.match.items()) or "any line"
        state = "expired" if w.expires < today else "active"
        click.echo(f"{w.id}  {w.rule}  {match}  owner {w.owner}  expires {w.expires} ({state})\n    {w.reason}")
    click.echo(f"{len(entries)} waivers")
