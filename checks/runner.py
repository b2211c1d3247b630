"""The library entry point: load contracts, open the batch, run the engine, return a Report."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from . import __version__
from .claims import open_batch
from .contract import load_contracts
from .engine import duckdb_engine
from .engine.duckdb_engine import related
from .history import Ledger
from .waivers import apply_waivers, load_waivers
from .report.model import Finding, Report, RuleResult


def check(paths: list[str], contracts_dir: Path | str | None = None, threads: int | None = None,
          tables: dict[str, str] | None = None, contracts=None, history: Path | str | None = None,
          dry_run: bool = False, history_wait: float = 30.0, waivers: Path | str | None = None,
          progress=None) -> Report:
    """Check claim files against every contract; raise ClaimcheckError subclasses on broken input.

    `tables` supplies user tables ({'sunshine_catalogue': 'catalogue.csv'}); `contracts` may be
    already-loaded ContractVersions (then `contracts_dir` and `tables` are not read). With
    `history` (a ledger file) frequency limits also count earlier batches, and the batch is
    recorded unless `dry_run`."""
    progress = progress or (lambda *a: None)
    t0 = time.perf_counter()
    progress("contracts")
    contracts = contracts if contracts is not None else load_contracts(contracts_dir, tables)
    accepted = load_waivers(waivers) if waivers else None
    t1 = time.perf_counter()
    batch = open_batch(paths, progress=progress)
    t2 = time.perf_counter()
    progress("judging")
    ledger = Ledger(history, read_only=dry_run, wait=history_wait) if history else None
    result = duckdb_engine.run(contracts, batch, threads=threads, ledger=ledger, record=not dry_run)
    result.timings = {"contracts_s": t1 - t0, "validate_s": t2 - t1, **result.timings}
    report = build_report(contracts, batch, result)
    report.history = result.history
    if accepted is not None:
        apply_waivers(report, accepted)
    return report


def import_history(paths: list[str], ledger_path: Path | str, contracts_dir=None, tables=None,
                   wait: float = 30.0) -> dict:
    """Record already-settled claims in the ledger without judging them."""
    contracts = load_contracts(contracts_dir, tables, use_samples=False)
    batch = open_batch(paths)
    result = duckdb_engine.run(contracts, batch, ledger=Ledger(ledger_path, wait=wait), record=True,
                               judge=False, source="import")
    return result.history


def build_report(contracts, batch, result) -> Report:
    f = result.findings
    per_rule = {}
    if f.num_rows:
        agg = f.group_by("r").aggregate([("amount", "sum"), ("r", "count")])
        for r, amount, n in zip(agg["r"].to_pylist(), agg["amount_sum"].to_pylist(), agg["r_count"].to_pylist()):
            per_rule[r] = (n, round(amount or 0.0, 2))

    rules = []
    for p in result.plans:
        r, c = p.rule, p.contract
        n, amount = per_rule.get(p.index, (0, 0.0))
        if p.index is None:
            status = "not_applicable" if p.reason.startswith("judged by") else "error"
            checked = 0
        else:
            checked = result.checked[p.index]
            status = "fail" if n else ("pass" if checked else "not_applicable")
        reason = p.reason or (None if checked else "no line of the batch falls in this rule's scope")
        rules.append(RuleResult(r.id, c.id, c.version, r.title, r.title_en, r.kind, r.severity, status,
                                checked, n, amount, r.source.as_dict(), reason, r.notes))

    names = batch.display_of()
    by_index = {p.index: p for p in result.plans if p.index is not None}
    findings = []
    if f.num_rows:
        cols = {name: f.column(name).to_pylist() for name in f.column_names}
        times = pc.strftime(f.column("fee_ocur_time").cast(pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%S").to_pylist()
        for k in range(f.num_rows):
            p = by_index[cols["r"][k]]
            rule = p.rule
            ref = cols["ref"][k]
            rel = related(cols["related"][k])
            fmt = dict(expected=cols["expected"][k], actual=cols["actual"][k],
                       amount=f"{cols['amount'][k] or 0:.2f}", ref=ref or "",
                       related=f"{rel['mdtrt_id']}/{rel['feedetl_sn']}" if rel else "")
            cite = f"{rule.source.document.number} {ref or rule.source.section}"
            findings.append(Finding(
                rule.id, p.contract.id, p.contract.version, rule.severity, cols["mdtrt_id"][k],
                cols["feedetl_sn"][k], cols["psn_no"][k], cols["fixmedins_code"][k], cols["hilist_code"][k],
                times[k], f"{rule.impl.message.format(**fmt)}（{cite}）", cols["expected"][k], cols["actual"][k],
                round(cols["amount"][k] or 0.0, 2), names.get(cols["_file"][k], cols["_file"][k]), cols["_row"][k],
                ref, rel,
                fixmedins_name=cols["fixmedins_name"][k], hilist_name=cols["hilist_name"][k]))

    return Report(
        contracts=[dict(c.summary(), lines_in_force=result.in_force.get(c.key, 0)) for c in contracts],
        inputs=[{"file": cf.display, "rows": cf.rows, "sha256": cf.sha256} for cf in batch.files],
        lines=batch.lines, rules=rules, findings=findings,
        engine={"name": "duckdb", "claimcheck": __version__,
                "checked_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                **{k: round(v, 3) for k, v in result.timings.items()}})
