"""`claimcheck export gx`: one Great Expectations 1.x expectation suite per contract version.

Each rule becomes expectations (gx_kinds.py) whose row_condition is the rule's scope written as a
pandas query: the version's jurisdiction (mdtrtarea_admvs prefixes) and dates (fee date within
effective_from … effective_to; window rules judge every date), the rule's regions and
except_regions, code sets, `when`, the kind's own narrowing, and — for a rule another rule
supersedes — "not where the superseding rule finds the line". GX 1.24 serialises a pandas-parser
condition as a pass-through condition ({"type": "pass_through", "pass_through_filter": …}), which
its pandas engine hands to DataFrame.query; that is the form written here.

Every expectation's meta carries rule id, contract id and version, severity, kind and source
(document, section, quote). The suite's meta carries the DataFrame it expects (columns and helper
columns, see frame.py) and the rules not exported, each with the reason.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import great_expectations as gx
from great_expectations.expectations.registry import get_expectation_impl
from great_expectations.expectations.row_conditions import PassThroughCondition

from .. import __version__
from .frame import TIME_ZONE
from .gx_context import Context, NotExportable, Translation
from .gx_kinds import translate
from .pandas_query import Unsupported, conjunction

SEVERITY = {"violation": "critical", "suspect": "warning"}
KEYS = ["mdtrt_id", "feedetl_sn"]


@dataclass
class SuiteExport:
    contract: object
    suite: dict                       # the suite as GX serialises it (to_json_dict)
    exported: list[str] = field(default_factory=list)
    not_exportable: list[dict] = field(default_factory=list)

    @property
    def file_name(self) -> str:
        return f"{self.contract.id}-{self.contract.version}.json"


def export_contracts(contracts) -> list[SuiteExport]:
    newest_window = {}
    for c in contracts:  # loaded in date order per contract: the last one defining a window rule judges it
        for r in c.rules:
            if r.impl.window_rule:
                newest_window[(c.id, r.id)] = c.version
    return [export_version(c, newest_window) for c in contracts]


def export_version(c, newest_window: dict) -> SuiteExport:
    ctx = Context(c)
    ctx.use(*KEYS)
    done: dict[str, tuple[Translation, str]] = {}
    reasons: dict[str, str] = {}
    try:
        for r in c.rules:
            kept = dict(ctx.helpers), dict(ctx.columns)
            try:
                not_run_by_claimcheck(c, r, newest_window)
                t = translate(r, ctx)
                done[r.id] = (t, rule_scope(ctx, c, r, t))
            except (NotExportable, Unsupported) as e:
                reasons[r.id] = str(e) if isinstance(e, NotExportable) else f"its scope has no pandas form: {e}"
                ctx.helpers, ctx.columns = kept  # no helper column for a rule not exported
    finally:
        ctx.close()
    exps, out = [], SuiteExport(c, {})
    for r in c.rules:
        if r.id in done:
            t, scope = done[r.id]
            try:
                scope = conjunction([scope, *superseded_by(c, r, done, reasons)])
            except NotExportable as e:
                reasons[r.id] = str(e)
        if r.id in reasons:
            out.not_exportable.append({"rule_id": r.id, "kind": r.kind, "severity": r.severity, "title": r.title,
                                       "reason": reasons[r.id], "source": r.source.as_dict()})
            continue
        out.exported.append(r.id)
        exps += [expectation(c, r, e, conjunction([scope, e.condition])) for e in t.expectations]
    suite = gx.ExpectationSuite(name=f"{c.id}@{c.version}", expectations=exps, meta=suite_meta(c, ctx, out))
    out.suite = suite.to_json_dict()
    return out


def not_run_by_claimcheck(c, r, newest_window) -> None:
    """Rules claimcheck itself does not run in this version are not exported either."""
    for t in r.impl.tables():
        if c.tables[t].data is None:
            raise NotExportable(c.tables[t].missing_reason())
    if r.impl.window_rule and newest_window[(c.id, r.id)] != c.version:
        raise NotExportable(f"judged by the newest version defining {r.id} ({newest_window[(c.id, r.id)]}), "
                            "as claimcheck does when the versions are checked together")


def superseded_by(c, r, done, reasons) -> list[str]:
    """Conditions dropping the lines a superseding rule finds (claimcheck drops those findings)."""
    out = []
    for s in c.rules:
        if r.id not in s.supersedes:
            continue
        if s.id in reasons or done[s.id][0].fails is None:
            raise NotExportable(f"its findings are dropped where {s.id} (which supersedes it) finds the same "
                                f"line, and {s.id}'s verdict has no pandas condition in the export")
        t, scope = done[s.id]
        out.append(f"~(({scope}) & {t.fails})")
    return out


def regions(ctx, prefixes) -> str:
    ctx.use("mdtrtarea_admvs")
    return " | ".join(f"mdtrtarea_admvs.str.startswith({p!r}, na=False)" for p in prefixes)


def codes(ctx, c, names) -> str:
    ctx.use("hilist_code")
    sets = []
    for n in names:
        cs = c.code_sets[n]
        if cs.names:  # not yet translated: say so rather than export a scope that selects nothing
            raise NotExportable(f"code set {n} selects lines by name (hilist_name LIKE), which the export has no form for")
        parts = [f"(hilist_code in {sorted(set(cs.codes))!r})"] if cs.codes else []
        parts += [f"hilist_code.str.startswith({p!r}, na=False)" for p in sorted(set(cs.prefixes))]
        pred = "(" + " | ".join(parts) + ")"
        if cs.except_codes:
            pred = f"({pred} & (hilist_code not in {sorted(set(cs.except_codes))!r}))"
        sets.append(pred)
    return " | ".join(sets)


def rule_scope(ctx, c, r, t: Translation) -> str:
    if "institution" in set(r.impl.reads()) | (set(r.when.columns) if r.when is not None else set()):
        raise NotExportable("it reads institution, which the engine resolves (crosswalk, names, aliases) and the "
                            "export has no form for")
    parts = [regions(ctx, c.regions)]
    if not r.impl.window_rule:
        day = ctx.fee_date()
        parts.append(f"{day} >= {c.effective_from.isoformat()!r}")
        if c.effective_to:
            parts.append(f"{day} <= {c.effective_to.isoformat()!r}")
    if r.regions:
        parts.append(regions(ctx, r.regions))
    if r.except_regions:
        parts.append(f"~({regions(ctx, r.except_regions)})")
    if r.codes:
        parts.append(codes(ctx, c, r.codes))
    if r.when is not None:
        ctx.use(*r.when.columns)
        parts.append(ctx.q.true(r.when._tree))
    parts.append(t.applies)
    return conjunction(parts)


def expectation(c, r, e, condition: str):
    meta = {"rule_id": r.id, "contract_id": c.id, "contract_version": c.version, "severity": r.severity,
            "kind": r.kind, "title": r.title, "title_en": r.title_en, "source": r.source.as_dict(), "checks": e.what}
    cls = get_expectation_impl(e.type)
    return cls(**e.kwargs, row_condition=PassThroughCondition(pass_through_filter=condition), meta=meta,
               severity=SEVERITY[r.severity], description=f"{r.id}@{c.version}: {e.what}")


def suite_meta(c, ctx, out: SuiteExport) -> dict:
    return {"claimcheck": {
        "contract_id": c.id, "version": c.version, "title": c.title, "title_en": c.title_en,
        "jurisdiction": {"name": c.jurisdiction, "regions": c.regions},
        "effective_from": c.effective_from.isoformat(),
        "effective_to": c.effective_to.isoformat() if c.effective_to else None,
        "exported_by": f"claimcheck {__version__}",
        "keys": KEYS,
        "frame": {"time_zone": TIME_ZONE, "columns": dict(sorted(ctx.columns.items())),
                  "helpers": [h.as_dict() for h in ctx.helpers.values()]},
        "exported_rules": out.exported,
        "not_exportable": out.not_exportable,
        "how_to_run": "checks.export.frame.prepare(df, meta['claimcheck']['frame']) adds the helper columns; "
                      "then validate on a GX pandas batch of that DataFrame (see checks/export/gx_run.py)",
    }}


def write_suites(exports: list[SuiteExport], out: Path) -> tuple[list[Path], Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for e in exports:
        p = out / e.file_name
        p.write_text(json.dumps(e.suite, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        paths.append(p)
    listing = out / "not_exportable.json"
    rows = [{"contract_id": e.contract.id, "version": e.contract.version, **n}
            for e in exports for n in e.not_exportable]
    listing.write_text(json.dumps({"exported_by": f"claimcheck {__version__}", "not_exportable": rows},
                                  ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return paths, listing
