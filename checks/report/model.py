"""The report model between the engine and every output: rule results, findings, provenance."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

SEVERITY_RANK = {"suspect": 1, "violation": 2}
STATUSES = ("pass", "fail", "waived", "not_applicable", "error")


@dataclass
class RuleResult:
    rule_id: str
    contract_id: str
    contract_version: str
    title: str
    title_en: str
    kind: str
    severity: str
    status: str
    lines_checked: int
    findings: int
    amount: float
    source: dict
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    waived: int = 0


@dataclass
class Finding:
    rule_id: str
    contract_id: str
    contract_version: str
    severity: str
    mdtrt_id: str
    feedetl_sn: str
    psn_no: str
    fixmedins_code: str
    hilist_code: str
    fee_ocur_time: str
    message: str
    expected: str | None
    actual: str | None
    amount: float
    file: str
    row: int
    citation: str | None = None
    related: dict | None = None
    waiver: dict | None = None
    fixmedins_name: str | None = None
    hilist_name: str | None = None


@dataclass
class Report:
    contracts: list[dict]
    inputs: list[dict]
    lines: int
    rules: list[RuleResult]
    findings: list[Finding]
    engine: dict = field(default_factory=dict)
    history: dict | None = None
    waived: list[Finding] = field(default_factory=list)
    waivers: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        by_sev = {s: 0 for s in SEVERITY_RANK}
        for r in self.rules:
            by_sev[r.severity] += r.findings
        by_status = {s: 0 for s in STATUSES}
        for r in self.rules:
            by_status[r.status] += 1
        return {
            "lines": self.lines,
            "files": len(self.inputs),
            "rules": len(self.rules),
            "rules_by_status": by_status,
            "findings": sum(r.findings for r in self.rules),
            "findings_by_severity": by_sev,
            "amount": round(sum(r.amount for r in self.rules), 2),
            "waived": len(self.waived),
            "waived_amount": round(sum(f.amount for f in self.waived), 2),
        }

    def worst(self) -> int:
        """Highest severity rank among findings (0 when there are none)."""
        return max((SEVERITY_RANK[r.severity] for r in self.rules if r.findings), default=0)

    def errors(self) -> list[RuleResult]:
        return [r for r in self.rules if r.status == "error"]

    def to_dict(self) -> dict:
        return {
            "claimcheck_report": 1,
            "summary": self.summary(),
            "contracts": self.contracts,
            "inputs": self.inputs,
            "engine": self.engine,
            "history": self.history,
            "rules": [asdict(r) for r in self.rules],
            "violations": [asdict(f) for f in self.findings],
            "waived": [asdict(f) for f in self.waived],
            "waivers": self.waivers,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Report":
        """Read a report back from its JSON (claimcheck report RESULT.json …)."""
        if d.get("claimcheck_report") != 1:
            raise ValueError("not a claimcheck JSON report (claimcheck_report: 1 missing)")
        return cls(contracts=d["contracts"], inputs=d["inputs"], lines=d["summary"]["lines"],
                   rules=[RuleResult(**r) for r in d["rules"]], findings=[Finding(**f) for f in d["violations"]],
                   engine=d.get("engine", {}), history=d.get("history"),
                   waived=[Finding(**f) for f in d.get("waived", [])], waivers=d.get("waivers", []))
