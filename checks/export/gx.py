"""`claimcheck export gx`: one Great Expectations 1.x expectation suite per contract version.

The plan (plan.py) gives each exported rule's expectations and row conditions; here they become
GX objects. GX 1.24 serialises a pandas-parser condition as a pass-through condition
({"type": "pass_through", "pass_through_filter": …}), which its pandas engine hands to
DataFrame.query; that is the form written here.

Every expectation's meta carries rule id, contract id and version, the severity of the findings
it makes, kind and source (document, section, quote). The suite's meta carries the frame it runs
on (claim columns, derived columns and helper columns, each with its definition and SQL) and the
rules not exported, each with the reason.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import great_expectations as gx
from great_expectations.expectations.registry import get_expectation_impl
from great_expectations.expectations.row_conditions import PassThroughCondition

from .. import __version__
from .plan import DERIVED, FILE_CONVENTION, KEYS, VersionPlan, plan_contracts

SEVERITY = {"violation": "critical", "suspect": "warning"}


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
    """One suite per version that judges, as `check` runs them: a version that a revision among
    `contracts` revises is retired (checks/contract/retired.py) and not exported."""
    from ..contract.retired import judging
    return [suite_of(p) for p in plan_contracts(judging(list(contracts)))]


def suite_of(plan: VersionPlan) -> SuiteExport:
    c = plan.contract
    out = SuiteExport(c, {}, [rp.rule.id for rp in plan.exported], plan.not_exportable)
    exps = [expectation(c, rp.rule, e) for rp in plan.exported for e in rp.expectations]
    suite = gx.ExpectationSuite(name=f"{c.id}@{c.version}", expectations=exps, meta=suite_meta(plan, out))
    out.suite = suite.to_json_dict()
    return out


def expectation(c, r, e):
    severity = e.severity or r.severity
    meta = {"rule_id": r.id, "contract_id": c.id, "contract_version": c.version, "severity": severity,
            "kind": r.kind, "title": r.title, "title_en": r.title_en, "source": r.source.as_dict(), "checks": e.what}
    cls = get_expectation_impl(e.type)
    return cls(**e.kwargs, row_condition=PassThroughCondition(pass_through_filter=e.condition), meta=meta,
               severity=SEVERITY[severity], description=f"{r.id}@{c.version}: {e.what}")


def suite_meta(plan: VersionPlan, out: SuiteExport) -> dict:
    c = plan.contract
    return {"claimcheck": {
        "contract_id": c.id, "version": c.version, "title": c.title, "title_en": c.title_en,
        "jurisdiction": {"name": c.jurisdiction, "regions": c.regions},
        "effective_from": c.effective_from.isoformat(),
        "effective_to": c.effective_to.isoformat() if c.effective_to else None,
        "exported_by": f"claimcheck {__version__}",
        "keys": KEYS,
        "frame": plan.frame_spec(),
        "frame_notes": {"derived": DERIVED, "file_convention": FILE_CONVENTION,
                        "columns": "claim columns normalised as claimcheck reads them: codes trimmed text, numbers "
                                   "DOUBLE, times China local time, absent columns NULL"},
        "exported_rules": out.exported,
        "not_exportable": out.not_exportable,
        "how_to_run": "checks.export.frame.prepare({file name: Arrow table or DataFrame}, suite) computes the frame "
                      "with claimcheck's own SQL (the contract version and user tables named here must be at hand); "
                      "then validate a GX pandas batch of it: checks.export.gx_run.run_suite(suite, files)",
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
