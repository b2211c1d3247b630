"""Waivers: findings a team has accepted, with a reason, an owner and an expiry date.

    waivers:
      - id: W-2025-007
        rule: JS-5
        match: {fixmedins_code: H32010600001}      # any of the finding's keys (all must be equal)
        when: amount <= 30                          # optional condition over the finding's fields
        reason: 诊察费与诊断报告分属两次就诊，医保局已书面确认
        owner: 医保办 张三
        expires: 2026-06-30

A waived finding is counted and shown apart and does not make the exit code 1. A waiver past its
expiry date (in China time) no longer applies: its findings are reported as usual, and the report
says the waiver expired.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import jsonschema
import pyarrow as pa

from . import expr as expr_mod
from .errors import ContractError
from .paths import shown
from .yamlsrc import dotted, load_yaml

KEYS = ["mdtrt_id", "feedetl_sn", "psn_no", "fixmedins_code", "hilist_code"]
FIELDS = {"rule_id": pa.string(), "contract_id": pa.string(), "severity": pa.string(), "amount": pa.float64(),
          "fee_ocur_time": pa.string(), **{k: pa.string() for k in KEYS}}
SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["waivers"],
    "properties": {"waivers": {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": ["id", "rule", "reason", "owner", "expires"],
        "properties": {
            "id": {"type": "string", "minLength": 1}, "rule": {"type": "string", "minLength": 1},
            "match": {"type": "object", "propertyNames": {"enum": KEYS}, "additionalProperties": {"type": ["string", "integer"]}},
            "when": {"type": "string"}, "reason": {"type": "string", "minLength": 1},
            "owner": {"type": "string", "minLength": 1},
            "expires": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}}}}},
}


@dataclass
class Waiver:
    id: str
    rule: str
    match: dict
    when: object
    reason: str
    owner: str
    expires: dt.date

    def info(self) -> dict:
        return {"id": self.id, "rule": self.rule, "reason": self.reason, "owner": self.owner,
                "expires": self.expires.isoformat()}


def load_waivers(path: Path | str) -> list[Waiver]:
    display = shown(path)
    data, loc = load_yaml(Path(path), display)
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data),
                    key=lambda e: loc.where(tuple(e.absolute_path))[0] or 0)
    if errors:
        e = errors[0]
        raise loc.error(tuple(e.absolute_path), f"{dotted(tuple(e.absolute_path))}: {e.message}")
    out, seen = [], set()
    for i, w in enumerate(data["waivers"]):
        if w["id"] in seen:
            raise loc.error(("waivers", i, "id"), f"waiver id {w['id']} is used twice")
        seen.add(w["id"])
        when = None
        if "when" in w:
            try:
                when = expr_mod.parse(w["when"], set(FIELDS))
            except expr_mod.ExprError as e:
                raise loc.error(("waivers", i, "when"), f"waivers[{i}].when: {e}", e.choices) from None
        out.append(Waiver(w["id"], w["rule"], {k: str(v) for k, v in w.get("match", {}).items()}, when,
                          w["reason"], w["owner"], dt.date.fromisoformat(w["expires"])))
    return out


def today_in_china() -> dt.date:
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


def apply_waivers(report, waivers: list[Waiver], today: dt.date | None = None) -> None:
    """Move waived findings from report.findings to report.waived; recount the rules."""
    today = today or today_in_china()
    findings = report.findings
    table = pa.table({name: pa.array([getattr(f, name) for f in findings], type=typ) for name, typ in FIELDS.items()})
    con = duckdb.connect()
    con.register("f", table.append_column("_i", pa.array(range(len(findings)), pa.int64())))
    waived_by: dict[int, Waiver] = {}
    summary = []
    for w in waivers:
        conds = ["f.rule_id = ?"] + [f"f.{k} = ?" for k in w.match]
        if w.when is not None:
            conds.append(f"coalesce({w.when.sql('f')}, FALSE)")
        hits = [r[0] for r in con.execute(f"SELECT _i FROM f WHERE {' AND '.join(conds)}",
                                          [w.rule, *w.match.values()]).fetchall()]
        expired = w.expires < today
        if not expired:
            for i in hits:
                waived_by.setdefault(i, w)
        summary.append({**w.info(), "status": "expired" if expired else "active", "matched": len(hits),
                        "message": (f"expired on {w.expires}: no longer applies to its {len(hits)} finding(s)"
                                    if expired else None)})
    con.close()
    report.findings = [f for i, f in enumerate(findings) if i not in waived_by]
    report.waived = []
    for i, w in sorted(waived_by.items()):
        findings[i].waiver = w.info()
        report.waived.append(findings[i])
    report.waivers = summary
    for r in report.rules:
        mine = [f for f in report.waived if f.rule_id == r.rule_id and f.contract_version == r.contract_version
                and f.contract_id == r.contract_id]
        if mine:
            r.waived = len(mine)
            r.findings -= len(mine)
            r.amount = round(r.amount - sum(f.amount for f in mine), 2)
            if r.findings == 0 and r.status == "fail":
                r.status = "waived"
