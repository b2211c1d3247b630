"""The report model between the engine and every output: rule results, findings, provenance.

Findings are one Arrow table (FINDING_SCHEMA), from the engine to every writer; waived findings
stay in it with their waiver. Python objects (Finding) are made only for the few findings a
terminal or a test looks at. Beyond SPOOL_AT findings the table is read from a file the engine
wrote (checks/report/spool.py): the same Table, whose pages the writers let go chunk by chunk.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

import pyarrow as pa
import pyarrow.compute as pc

SEVERITY_RANK = {"data_quality": 1, "suspect": 2, "violation": 3}
STATUSES = ("pass", "fail", "waived", "not_applicable", "error")

_D = pa.dictionary(pa.int32(), pa.string())  # rules, severities, files: one small dictionary each
FINDING_SCHEMA = pa.schema([
    ("rule_id", _D), ("contract_id", _D), ("contract_version", _D),
    ("severity", _D), ("kind", _D),
    ("mdtrt_id", pa.string()), ("feedetl_sn", pa.string()), ("psn_no", pa.string()),
    ("fixmedins_code", pa.string()), ("fixmedins_name", pa.string()),
    ("hilist_code", pa.string()), ("hilist_name", pa.string()), ("fee_ocur_time", pa.string()),
    ("message", pa.string()), ("expected", pa.string()), ("actual", pa.string()), ("amount", pa.float64()),
    ("file", _D), ("row", pa.int64()), ("citation", pa.string()),
    ("related", pa.string()),   # JSON: the line a frequency finding collides with
    ("waiver", pa.string()),    # JSON: the waiver that accepted this finding, or null
])


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
    lines_not_judged: int = 0    # in scope, but a value the rule reads was empty

    @property
    def ref(self) -> str:
        return f"{self.rule_id}@{self.contract_version}"


@dataclass
class Finding:
    rule_id: str
    contract_id: str
    contract_version: str
    severity: str
    kind: str
    mdtrt_id: str
    feedetl_sn: str
    psn_no: str
    fixmedins_code: str
    fixmedins_name: str | None
    hilist_code: str
    hilist_name: str | None
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


def _rows(table: pa.Table) -> list[Finding]:
    out = []
    for d in table.to_pylist():
        d["related"] = json.loads(d["related"]) if d["related"] else None
        d["waiver"] = json.loads(d["waiver"]) if d["waiver"] else None
        out.append(Finding(**d))
    return out


@dataclass
class Report:
    contracts: list[dict]
    inputs: list[dict]
    lines: int
    rules: list[RuleResult]
    table: pa.Table                                  # every finding (FINDING_SCHEMA), waived ones too
    engine: dict = field(default_factory=dict)
    history: dict | None = None
    waivers: list[dict] = field(default_factory=list)
    message: object = None                           # the 3101/3102 request checked (checks/nhsa), if it was one

    # -- the findings ------------------------------------------------------------------------
    @property
    def active(self) -> pa.Table:
        """Findings no waiver accepted (the table itself when nothing was waived: no copy)."""
        w = self.table["waiver"]
        return self.table if w.null_count == len(w) else self.table.filter(pc.is_null(w))

    @property
    def waived_table(self) -> pa.Table:
        w = self.table["waiver"]
        return self.table.slice(0, 0) if w.null_count == len(w) else self.table.filter(pc.is_valid(w))

    def to_pandas(self):
        """Every finding (waived ones with their waiver) as a pandas DataFrame; the table's small
        dictionaries (rules, files) become plain text, for pandas wants unique categories."""
        t = self.table
        cols = [pc.cast(t[c], pa.string()) if pa.types.is_dictionary(t.schema.field(c).type) else t[c]
                for c in t.column_names]
        return pa.table(cols, names=t.column_names).to_pandas()

    @property
    def findings(self) -> list[Finding]:
        """The active findings as objects (for terminals and tests; writers use `active`)."""
        return _rows(self.active)

    @property
    def waived(self) -> list[Finding]:
        return _rows(self.waived_table)

    def head(self, n: int) -> list[Finding]:
        return _rows(self.active.slice(0, n))

    # -- summaries ---------------------------------------------------------------------------
    def summary(self) -> dict:
        by_sev = {s: 0 for s in SEVERITY_RANK}
        by_sev.update(self._severities())  # each finding's own (a violation rule may report suspect ones)
        by_status = {s: 0 for s in STATUSES}
        for r in self.rules:
            by_status[r.status] += 1
        waived = self.waived_table
        policy = [r for r in self.rules if r.severity != "data_quality"]
        return {
            "lines": self.lines,
            "files": len(self.inputs),
            "rules": len(self.rules),
            "rules_by_status": by_status,
            "findings": sum(r.findings for r in self.rules),
            "findings_by_severity": by_sev,
            "amount": round(sum(r.amount for r in policy), 2),
            "waived": waived.num_rows,
            "waived_amount": round(pc.sum(waived["amount"]).as_py() or 0.0, 2),
            "lines_not_judged": sum(r.lines_not_judged for r in self.rules),
        }

    def _severities(self) -> dict[str, int]:
        counts = pc.value_counts(self.active["severity"]).to_pylist()
        return {c["values"]: c["counts"] for c in counts}

    def worst(self) -> int:
        """Highest severity rank among active findings, each by its own severity (0 when there are none)."""
        return max((SEVERITY_RANK[s] for s in self._severities()), default=0)

    def errors(self) -> list[RuleResult]:
        return [r for r in self.rules if r.status == "error"]

    def incomplete(self) -> list[RuleResult]:
        """Rules that could not run, or could not judge some lines of their scope."""
        return [r for r in self.rules if r.status == "error" or r.lines_not_judged]

    def head_dict(self) -> dict:
        """Everything of the JSON report but the findings lists (which writers stream)."""
        return {
            "claimcheck_report": 2,
            "summary": self.summary(),
            "contracts": self.contracts,
            "inputs": self.inputs,
            "engine": self.engine,
            "history": self.history,
            "rules": [asdict(r) for r in self.rules],
            "waivers": self.waivers,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Report":
        """Read a report back from its JSON (claimcheck report RESULT.json …)."""
        if d.get("claimcheck_report") not in (1, 2):
            raise ValueError("not a claimcheck JSON report (claimcheck_report: 2 missing)")
        names = [f.name for f in fields(RuleResult)]
        rules = [RuleResult(**{k: v for k, v in r.items() if k in names}) for r in d["rules"]]
        by_rule = {(r.contract_id, r.contract_version, r.rule_id): r for r in rules}

        def rows(items, waived):
            out = []
            for f in items:
                r = by_rule.get((f.get("contract_id"), f.get("contract_version"), f.get("rule_id")))
                row = {n: f.get(n) for n in FINDING_SCHEMA.names}
                row["kind"] = row["kind"] or (r.kind if r else None)
                row["related"] = json.dumps(f["related"], ensure_ascii=False) if f.get("related") else None
                w = f.get("waiver") if waived else None
                row["waiver"] = json.dumps(w, ensure_ascii=False) if w else None
                out.append(row)
            return out
        table = pa.Table.from_pylist(rows(d["violations"], False) + rows(d.get("waived", []), True),
                                     schema=FINDING_SCHEMA)
        return cls(contracts=d["contracts"], inputs=d["inputs"], lines=d["summary"]["lines"], rules=rules,
                   table=table, engine=d.get("engine", {}), history=d.get("history"), waivers=d.get("waivers", []))
