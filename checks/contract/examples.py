"""`claimcheck contracts test`: every rule's own examples, run through the real engine.

Each rule carries `examples:` — lines that must pass it and lines that must fail it. The
examples of one contract version are written as one Parquet batch (each example's visit and
person ids prefixed with its own tag, so examples never meet) and checked with that version
alone. A rule fails the test when it lacks a passing or a failing example, or when an example's
verdict differs from what the engine finds on that example's lines (and, where a failing example
names a `severity`, when its findings carry another).
"""
from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..claims.fields import FIELDS

ARROW = {"code": pa.string(), "text": pa.string(), "number": pa.float64(), "timestamp": pa.timestamp("s"),
         "date": pa.date32(), "boolean": pa.bool_()}


@dataclass
class RuleOutcome:
    contract: str
    version: str
    rule_id: str
    examples: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def _default_line(version, rule) -> dict:
    code = "EXAMPLE"
    if rule.codes:
        cs = version.code_sets[rule.codes[0]]
        code = (cs.codes or [p + "0001" for p in cs.prefixes] or [code])[0]  # a set by names: EXAMPLE
    day = version.effective_from + dt.timedelta(days=1)
    return {"mdtrt_id": "V1", "psn_no": "P1", "insutype": "310", "med_type": "11",
            "mdtrtarea_admvs": version.regions[0].ljust(6, "0"), "fixmedins_code": "H000000000001",
            "fixmedins_name": "示例医院", "fee_ocur_time": f"{day.isoformat()} 10:00:00", "hilist_code": code,
            "hilist_name": "示例项目", "cnt": 1, "pric": 0}


def _value(name, v):
    fam = FIELDS[name].family
    if v is None:
        return None
    if fam == "timestamp":
        return dt.datetime.fromisoformat(str(v))
    if fam == "date":
        return dt.date.fromisoformat(str(v)[:10])
    if fam == "number":
        return float(v)
    if fam == "boolean":
        return bool(v)
    return str(v)


def complete_money(row: dict) -> None:
    """Example lines name 符合政策范围金额 and 先行自付; the rest of the national split is filled so
    the parts add up (T = F + O + P + I, 全自费 0 unless given), as an extract's would."""
    parts = ("inscp_scp_amt", "preselfpay_amt")
    if not all(row.get(p) is not None for p in parts):
        return
    row.setdefault("fulamt_ownpay_amt", 0)
    if "overlmt_amt" not in row:
        rest = float(row["det_item_fee_sumamt"]) - float(row["fulamt_ownpay_amt"]) - sum(float(row[p]) for p in parts)
        row["overlmt_amt"] = round(rest, 2)


def example_rows(version) -> tuple[list[dict], list[tuple]]:
    rows, tags = [], []
    for rule in version.rules:
        for k, ex in enumerate(rule.examples):
            tag = f"X{len(tags)}"
            tags.append((rule, k, ex, tag))
            for j, ln in enumerate(ex["lines"]):
                row = {**_default_line(version, rule), **version.example_defaults, **ln}
                row["mdtrt_id"] = f"{tag}-{row['mdtrt_id']}"
                row["psn_no"] = f"{tag}-{row['psn_no']}"
                row.setdefault("feedetl_sn", str(j + 1))
                row.setdefault("det_item_fee_sumamt", round(float(row["pric"]) * float(row["cnt"]), 2))
                complete_money(row)
                rows.append(row)
    return rows, tags


def _table(rows: list[dict]) -> pa.Table:
    names = sorted({k for r in rows for k in r})
    return pa.table({n: pa.array([_value(n, r.get(n)) for r in rows], type=ARROW[FIELDS[n].family])
                     for n in names})


def test_version(version) -> list[RuleOutcome]:
    from ..runner import check

    rows, tags = example_rows(version)
    got: dict[tuple[str, int], str] = {}
    if rows:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{version.id}-{version.version}-examples.parquet"
            pq.write_table(_table(rows), path)
            report = check([str(path)], contracts=[version])
        status = {r.rule_id: r for r in report.rules}
        flagged: dict[tuple[str, str], set[str]] = {}
        for f in report.findings:
            flagged.setdefault((f.rule_id, f.mdtrt_id.split("-", 1)[0]), set()).add(f.severity)
        for rule, k, ex, tag in tags:
            r = status[rule.id]
            sev = flagged.get((rule.id, tag))
            got[(rule.id, k)] = ("error: " + (r.reason or "")) if r.status == "error" else \
                ("pass" if sev is None else
                 "fail" if "severity" not in ex or sev == {ex["severity"]} else f"fail ({', '.join(sorted(sev))})")
    out = []
    for rule in version.rules:
        problems = []
        verdicts = {ex["verdict"] for ex in rule.examples}
        for missing in ("pass", "fail"):
            if missing not in verdicts:
                problems.append(f"no example that should {missing}")
        for k, ex in enumerate(rule.examples):
            g = got.get((rule.id, k))
            if g != ex["verdict"]:
                what = ex.get("note") or f"examples[{k}]"
                want = ex["verdict"] + (f" ({ex['severity']})" if "severity" in ex else "")
                problems.append(f"{what}: expected {want}, got {g}")
        out.append(RuleOutcome(version.id, version.version, rule.id, len(rule.examples), problems))
    return out


def test_all(versions) -> list[RuleOutcome]:
    return [o for v in versions for o in test_version(v)]
