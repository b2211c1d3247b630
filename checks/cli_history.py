"""`claimcheck history …`: seed, inspect and browse the ledger that keeps limits across batches."""
from __future__ import annotations

from pathlib import Path

import click

from .cli import guarded
from .report.safe import terminal


def ledger_option(fn):
    return click.option("--ledger", type=click.Path(dir_okay=False, path_type=Path),
                        envvar="CLAIMCHECK_HISTORY", required=True,
                        help="the ledger file (or set CLAIMCHECK_HISTORY)")(fn)


@click.group()
def history():
    """The ledger that keeps frequency limits across batches."""


@history.command("import")
@click.argument("paths", nargs=-1, required=True)
@ledger_option
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--history-wait", type=float, default=30.0, show_default=True)
@guarded
def history_import(paths, ledger, contracts_dir, history_wait):
    """Seed the ledger with already-settled claims (recorded, not judged)."""
    from .runner import import_history

    h = import_history(list(paths), ledger, contracts_dir, wait=history_wait)
    click.echo(f"{terminal(h['ledger'])}: recorded {h['recorded']:,} lines as batch #{h['batch_seq']} "
               f"(replaced {h['replaced']:,}, changed {h['changed']:,})")


@history.command("stats")
@ledger_option
@guarded
def history_stats(ledger):
    """How many lines, persons, batches and which dates the ledger holds."""
    from .duck import connect
    from .history import Ledger

    con = connect()
    lg = Ledger(ledger, read_only=True).attach(con)
    s = lg.stats()
    lg.detach()
    click.echo(f"{terminal(s['ledger'])}: schema {s['schema_version']}, {s['size_bytes'] / 1e6:.1f} MB")
    click.echo(f"  {s['lines']:,} lines, {s['persons']:,} persons, {s['batches']:,} batches "
               f"(last recorded {s['last_recorded_at']} UTC), fee dates {s['first_date']} … {s['last_date']}")
    for code, n in s["top_codes"]:
        click.echo(f"  {terminal(code):<24} {n:>10,}")


@history.command("show")
@ledger_option
@click.option("--psn", required=True, help="人员编号 psn_no")
@guarded
def history_show(ledger, psn):
    """The recorded lines of one person, in date order."""
    from .duck import connect
    from .history import Ledger

    con = connect()
    lg = Ledger(ledger, read_only=True).attach(con)
    rows = lg.show(psn)
    lg.detach()
    if not rows:
        click.echo(f"no recorded lines for psn_no {terminal(psn)}")
        return
    click.echo("FEE TIME             MDTRT_ID / FEEDETL_SN        INSTITUTION        CODE                     "
               "CNT   AMOUNT  INSCP   FETTS BATCH FILE")
    for row in rows:
        t, m, sn, code_i, name, code, cnt, amt, inscp, fetts, refd, seq, f = (
            terminal(v) if isinstance(v, str) else v for v in row)  # claim text: no control or bidi characters
        click.echo(f"{t:<20} {m + ' / ' + sn:<28} {code_i:<18} {code:<24} {cnt:>4g} {amt:>8.2f} "
                   f"{(inscp if inscp is not None else 0):>7.2f} {fetts or '':<5} #{seq:<4} {f}")
