"""`claimcheck serve`: the audit service a hospital system calls (checks/serve/)."""
from __future__ import annotations

import copy
import ipaddress
import os
from pathlib import Path

import click

from .cli import guarded, parse_tables
from .errors import UsageError

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _log_config(level: str) -> dict:
    import uvicorn.config
    cfg = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    cfg["formatters"]["plain"] = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    cfg["handlers"]["plain"] = {"formatter": "plain", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    cfg["loggers"]["claimcheck"] = {"handlers": ["plain"], "level": level.upper(), "propagate": False}
    return cfg


def _env(name: str) -> dict:
    return {"envvar": f"CLAIMCHECK_{name}", "show_envvar": True}


@click.command()
@click.option("--contracts", "contracts_dir", type=click.Path(file_okay=False, path_type=Path), **_env("CONTRACTS"),
              help="contracts folder (default: the bundled contracts)")
@click.option("--table", "tables", multiple=True, metavar="NAME=PATH", **_env("TABLE"),
              help="a reference table the contract leaves to the user (the variable: space-separated)")
@click.option("--history", type=click.Path(dir_okay=False, path_type=Path), **_env("HISTORY"),
              help="ledger file: frequency rules count its lines (read-only, unless --record-settlements)")
@click.option("--waivers", type=click.Path(dir_okay=False, path_type=Path), **_env("WAIVERS"),
              help="YAML file of accepted findings; a warning kept through 3103 is appended to it")
@click.option("--columns", type=click.Path(dir_okay=False, path_type=Path), **_env("COLUMNS"),
              help="YAML map of national field names to column names (for POST /check bodies)")
@click.option("--host", default="127.0.0.1", show_default=True, **_env("HOST"),
              help="address to bind; any other than loopback needs --token")
@click.option("--port", type=int, default=8080, show_default=True, **_env("PORT"))
@click.option("--workers", type=int, default=1, show_default=True, **_env("WORKERS"),
              help="server processes (each loads the contracts once)")
@click.option("--token", default=None, **_env("TOKEN"),
              help="bearer token every request but GET /health must send (prefer the variable: argv is visible)")
@click.option("--record-settlements", is_flag=True, **_env("RECORD_SETTLEMENTS"),
              help="with --history: a 3102 whose trig_scen is a settlement (6, 8) records its lines in the ledger")
@click.option("--dispositions", type=click.Path(dir_okay=False, path_type=Path), **_env("DISPOSITIONS"),
              help="SQLite file of answered results and 3103 dispositions (default: beside --waivers)")
@click.option("--waiver-days", type=int, default=90, show_default=True, **_env("WAIVER_DAYS"),
              help="a warning kept through 3103 is waived for this many days")
@click.option("--max-body", type=int, default=10 * 1024 * 1024, show_default=True, **_env("MAX_BODY"),
              help="largest request body in bytes (413 beyond)")
@click.option("--max-depth", type=int, default=64, show_default=True, **_env("MAX_DEPTH"),
              help="deepest JSON nesting accepted")
@click.option("--timeout", type=float, default=30.0, show_default=True, **_env("TIMEOUT"),
              help="seconds a request's check may take (answer -1 beyond)")
@click.option("--concurrency", type=int, default=2, show_default=True, **_env("CONCURRENCY"),
              help="checks run at once per worker; 3101/3102 calls that wait go together into the next")
@click.option("--history-wait", type=float, default=30.0, show_default=True,
              help="seconds to wait for a ledger another worker is writing")
@click.option("--ssl-certfile", type=click.Path(exists=True, dir_okay=False), **_env("SSL_CERTFILE"),
              help="serve HTTPS with this certificate (uvicorn's TLS)")
@click.option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False), **_env("SSL_KEYFILE"))
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True, **_env("LOG_LEVEL"))
@guarded
def serve(contracts_dir, tables, history, waivers, columns, host, port, workers, token, record_settlements,
          dispositions, waiver_days, max_body, max_depth, timeout, concurrency, history_wait, ssl_certfile,
          ssl_keyfile, log_level):
    """Serve the national audit calls (POST /3101, /3102, /3103) and the pipeline endpoints over HTTP.

    Binds 127.0.0.1 unless --host says otherwise; any other address needs --token. Every option
    can be set by the environment variable shown beside it."""
    try:
        import uvicorn

        from .serve.service import Service, Settings
    except ImportError as e:
        raise UsageError(f"serve needs its web stack ({e.name}): pip install 'claimcheck[serve]'") from None
    if not is_loopback(host) and not token:
        raise UsageError(f"--host {host} is not a loopback address: set --token (or CLAIMCHECK_TOKEN) so that "
                         "only callers holding it are answered, or bind 127.0.0.1")
    if record_settlements and not history:
        raise UsageError("--record-settlements goes with --history LEDGER")
    if bool(ssl_certfile) != bool(ssl_keyfile):
        raise UsageError("--ssl-certfile and --ssl-keyfile go together")
    for name, value in (("--workers", workers), ("--concurrency", concurrency), ("--max-body", max_body),
                        ("--max-depth", max_depth)):
        if value < 1:
            raise UsageError(f"{name} {value}: must be at least 1")
    table_values = [t for v in tables for t in v.split()]
    settings = Settings(contracts_dir=str(contracts_dir) if contracts_dir else None,
                        tables=parse_tables(table_values), history=str(history) if history else None,
                        waivers=str(waivers) if waivers else None, columns=str(columns) if columns else None,
                        token=token, record_settlements=record_settlements,
                        dispositions=str(dispositions) if dispositions else None, waiver_days=waiver_days,
                        max_body=max_body, max_depth=max_depth, timeout=timeout, history_wait=history_wait,
                        concurrency=concurrency)
    if workers > 1:  # POST /admin/reload reaches one worker; the others follow this file
        import tempfile
        fd, settings.reload_stamp = tempfile.mkstemp(prefix="claimcheck-serve-reload-")
        os.close(fd)
    Service(settings)  # the contracts load here first: a broken folder stops the start with its error
    if settings.waivers and Path(settings.waivers).exists():
        from .contract import load_contracts
        from .waivers import load_waivers
        load_waivers(settings.waivers, load_contracts(settings.contracts_dir, settings.tables or {}))
    os.environ.update(settings.to_env())
    uvicorn.run("checks.serve.app:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_config=_log_config(log_level), log_level=log_level,
                timeout_graceful_shutdown=int(timeout) + 5, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
                server_header=False)
