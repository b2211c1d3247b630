"""Waivers: findings a team has accepted, with a reason, an owner and an expiry date.

    waivers:
      - id: W-2025-007
        rule: JS-5
        match: {fixmedins_code: H32010600001}      # any of the finding's keys (all must be equal)
        when: amount <= 30                          # optional condition over the finding's fields
        reason: 诊察费与诊断报告分属两次就诊，医保局已书面确认
        owner: 医保办 张三
        expires: 2099-12-31

A waived finding is counted and shown apart and does not make the exit code 1. A waiver past its
expiry date (in China time) no longer applies: its findings are reported as usual, and the report
says the waiver expired.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from . import expr as expr_mod
from .duck import connect
from .paths import shown
from .report.spool import release
from .suggest import closest, did_you_mean
from .yamlsrc import dotted, load_yaml, schema_validator

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


def parse_rule_ref(text: str) -> tuple[str | None, str, str | None]:
    """'JS-5', 'JS-5@1.0.0' or 'jiangsu-nipt/JS-5@1.0.0' -> (contract, rule id, version)."""
    contract, _, rest = text.rpartition("/")
    rule, _, version = rest.partition("@")
    return contract or None, rule, version or None


def _matches_rule(ref: tuple, contract_id: str, version: str, rule_id: str) -> bool:
    c, r, v = ref
    return (rule_id.lower() == r.lower() and (c is None or c.lower() == contract_id.lower())
            and (v is None or v == version))


def load_waivers(path: Path | str, contracts=None) -> list[Waiver]:
    display = shown(path)
    data, loc = load_yaml(Path(path), display)
    errors = sorted(schema_validator(SCHEMA).iter_errors(data),
                    key=lambda e: loc.where(tuple(e.absolute_path))[0] or 0)
    if errors:
        e = errors[0]
        raise loc.error(tuple(e.absolute_path), f"{dotted(tuple(e.absolute_path))}: {e.message}")
    known = [(c.id, c.version, r.id) for c in (contracts or []) for r in c.rules]
    out, seen = [], set()
    for i, w in enumerate(data["waivers"]):
        if w["id"] in seen:
            raise loc.error(("waivers", i, "id"), f"waiver id {w['id']} is used twice")
        seen.add(w["id"])
        ref = parse_rule_ref(w["rule"])
        if contracts is not None and not any(_matches_rule(ref, *k) for k in known):
            names = sorted({f"{r}@{v}" for _, v, r in known})
            raise loc.error(("waivers", i, "rule"), f"waivers[{i}].rule: no rule {w['rule']!r} in the contracts"
                            f"{did_you_mean(ref[1], sorted({r for _, _, r in known}))}", closest(w["rule"], names))
        when = None
        if "when" in w:
            try:
                when = expr_mod.parse(w["when"], set(FIELDS))
            except expr_mod.ExprError as e:
                raise loc.error(("waivers", i, "when"), f"waivers[{i}].when: {e}", e.choices) from None
        try:
            expires = dt.date.fromisoformat(w["expires"])
        except ValueError as e:
            raise loc.error(("waivers", i, "expires"), f"waivers[{i}].expires: {w['expires']!r} is not a date ({e})") \
                from None
        out.append(Waiver(w["id"], w["rule"], {k: str(v) for k, v in w.get("match", {}).items()}, when,
                          w["reason"], w["owner"], expires))
    return out


def today_in_china() -> dt.date:
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


def apply_waivers(report, waivers: list[Waiver], today: dt.date | None = None) -> None:
    """Mark the findings waivers accept (column `waiver`); recount the rules."""
    today = today or today_in_china()
    table = report.table
    con = connect()
    con.register("f", table.append_column("_i", pa.array(range(table.num_rows), pa.int64())))
    con.execute("CREATE TEMP TABLE hits (_i BIGINT, w INTEGER)")
    summary = []
    for k, w in enumerate(waivers):
        c, r, v = parse_rule_ref(w.rule)
        conds = ["lower(f.rule_id) = lower(?)"] + ([f"lower(f.contract_id) = lower(?)"] if c else []) + \
                (["f.contract_version = ?"] if v else []) + [f"f.{key} = ?" for key in w.match]
        params = [r] + ([c] if c else []) + ([v] if v else []) + list(w.match.values())
        if w.when is not None:
            conds.append(f"coalesce({w.when.sql('f')}, FALSE)")
        where = " AND ".join(conds)
        n = con.execute(f"SELECT count(*) FROM f WHERE {where}", params).fetchall()[0][0]
        expired = w.expires < today
        if not expired:
            con.execute(f"INSERT INTO hits SELECT _i, {k} FROM f WHERE {where} AND _i NOT IN (SELECT _i FROM hits)",
                        params)
        summary.append({**w.info(), "status": "expired" if expired else "active", "matched": n,
                        "message": (f"expired on {w.expires}: no longer applies to its {n} finding(s)"
                                    if expired else None)})
    infos = pa.table({"w": pa.array(range(len(waivers)), pa.int32()),
                      "info": [json.dumps(w.info(), ensure_ascii=False) for w in waivers]})
    con.register("infos", infos)
    # only the waiver column is made anew: the other columns stay where they are (in memory, or
    # in a findings file, report/spool.py), never copied
    waiver = con.sql("""SELECT i.info AS waiver FROM f LEFT JOIN hits h ON h._i = f._i
                        LEFT JOIN infos i ON i.w = h.w ORDER BY f._i""").to_arrow_table()["waiver"]
    at = table.schema.get_field_index("waiver")
    report.table = table.set_column(at, table.schema.field(at), waiver.cast(table.schema.field(at).type))
    per_rule = {(c, v, r): (n, a) for c, v, r, n, a in con.sql(
        "SELECT f.contract_id, f.contract_version, f.rule_id, count(*), sum(f.amount) FROM f JOIN hits h "
        "ON h._i = f._i GROUP BY ALL").fetchall()}
    con.close()
    release()   # the pages of a findings file the waivers' conditions read (report/spool.py)
    report.waivers = summary
    for r in report.rules:
        n, amount = per_rule.get((r.contract_id, r.contract_version, r.rule_id), (0, 0.0))
        if n:
            r.waived = n
            r.findings -= n
            r.amount = round(r.amount - amount, 2)
            if r.findings == 0 and r.status == "fail":
                r.status = "waived"
