"""The national 3101/3102 answer (明细审核事前/事中分析服务的输出), as hospital systems parse it.

    answer = national_answer(report, message)   # a dict: the answer envelope
    write_nhsa(report, "answer.json")           # the same, streamed by DuckDB (`--nhsa-json`)

The envelope is `{infcode: 0, inf_refmsgid, refmsg_time, respond_time, err_msg, output: {result:
[…]}}` (../shared/NHSA_INTERFACE.md; its JSON Schema is checks/nhsa/answer.schema.json). One
result per finding:

| field | from |
| --- | --- |
| jr_id | a stable id: sha1 of contract, version, rule and line identity (first 32 hex) |
| rule_id | contract_id/rule_id, e.g. jiangsu-nipt/JS-1-price |
| rule_name | the rule's Chinese title |
| vola_cont | the finding's message: what is wrong, in words (500 characters at most) |
| patn_id, mdtrt_id | psn_no (a request's patn_id), mdtrt_id |
| vola_amt | money at stake (元, 2 decimals) |
| vola_amt_stas, sev_deg, vola_bhvr_type | the code map (checks/nhsa/codes.yaml, `--nhsa-codes`): amount stated or not, severity, rule kind |
| vola_evid | document number, section and the quoted words (500 characters at most) |
| task_id | the request's msgid; else the code map's task_id |
| judge_result_detail_dtos | the lines: `jrd_id`, `patn_id`, `mdtrt_id`, `rx_id` (a request's order rx_id, which is the line's feedetl_sn), `vola_item_type` (the line at fault; a line involved, such as the earlier payment of a frequency finding), `vola_amt` |

Data-quality findings are not audit results and are left out, as are waived ones. `inf_refmsgid`
is the request's msgid (so the HIS can match the answer), else an id made from the time.
"""
from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pyarrow as pa

from .said import finding_words
from .stream import findings_db, json_elements, per_rule
from .target import target

CODES_FILE = Path(__file__).resolve().parent.parent / "nhsa" / "codes.yaml"


def load_codes(path: str | Path | dict | None = None) -> dict:
    """The code map: the shipped defaults, overridden key by key by `path` (a YAML file or a dict)."""
    from ..errors import ContractError
    from ..yamlsrc import load_yaml

    codes, _ = load_yaml(CODES_FILE, "checks/nhsa/codes.yaml")
    if path is None:
        return codes
    if isinstance(path, dict):
        mine, loc = path, None
    else:
        mine, loc = load_yaml(Path(path), str(path))
    where = str(path) if loc is None else loc.file
    if not isinstance(mine, dict):
        raise ContractError(where, "a code map is a mapping: sev_deg, vola_bhvr_type, vola_amt_stas, "
                                   "vola_item_type, task_id")
    for key, value in mine.items():
        line, col = loc.where((key,)) if loc else (None, None)
        if key not in codes:
            raise ContractError(where, f"{key!r} is not a code of the answer", line, col, list(codes))
        if isinstance(codes[key], dict):
            if not isinstance(value, dict):
                raise ContractError(where, f"{key}: give a mapping ({', '.join(codes[key])})", line, col)
            unknown = [k for k in value if k not in codes[key] and key != "vola_bhvr_type"]
            if unknown:
                raise ContractError(where, f"{key}.{unknown[0]} is not known here", line, col, list(codes[key]))
            bad = [k for k, v in value.items() if not isinstance(v, (str, int)) or isinstance(v, bool)]
            if bad:
                raise ContractError(where, f"{key}.{bad[0]}: a code is text", line, col)
            codes[key] = {**codes[key], **{k: str(v) for k, v in value.items()}}
        else:
            if value is not None and not isinstance(value, (str, int)):
                raise ContractError(where, f"{key}: a code is text", line, col)
            codes[key] = "" if value is None else str(value)
    return codes


def _sql_text(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def _case(column: str, mapping: dict, default: str) -> str:
    whens = " ".join(f"WHEN {_sql_text(k)} THEN {_sql_text(v)}" for k, v in mapping.items() if k != "other")
    return f"CASE CAST({column} AS VARCHAR) {whens} ELSE {_sql_text(default)} END"


def _columns(codes: dict, task_id: str) -> str:
    jr = ("substr(sha1(f.contract_id || '|' || f.contract_version || '|' || f.rule_id || '|' || f.mdtrt_id "
          "|| '|' || f.feedetl_sn), 1, 32)")
    item = codes["vola_item_type"]
    amt = "round(coalesce(f.amount, 0), 2)"
    line1 = (f"struct_pack(jrd_id := {jr} || '-1', patn_id := f.psn_no, mdtrt_id := f.mdtrt_id, "
             f"rx_id := f.feedetl_sn, vola_item_type := {_sql_text(item['at_fault'])}, vola_amt := {amt})")
    line2 = (f"struct_pack(jrd_id := {jr} || '-2', patn_id := coalesce(f.related->>'psn_no', f.psn_no), "
             "mdtrt_id := f.related->>'mdtrt_id', rx_id := f.related->>'feedetl_sn', "
             f"vola_item_type := {_sql_text(item['involved'])}, vola_amt := CAST(0 AS DOUBLE))")
    stas = codes["vola_amt_stas"]
    return ", ".join([
        f"{jr} AS jr_id", "f.contract_id || '/' || f.rule_id AS rule_id", "left(f.rule_name, 200) AS rule_name",
        "left(f.words, 500) AS vola_cont", "f.psn_no AS patn_id", "f.mdtrt_id", f"{amt} AS vola_amt",
        f"CASE WHEN f.amount > 0 THEN {_sql_text(stas['stated'])} ELSE {_sql_text(stas['not_stated'])} END "
        "AS vola_amt_stas",
        f"{_case('f.severity', codes['sev_deg'], '')} AS sev_deg", "left(f.evid, 500) AS vola_evid",
        f"{_case('f.kind', codes['vola_bhvr_type'], codes['vola_bhvr_type'].get('other', ''))} AS vola_bhvr_type",
        f"{_sql_text(task_id)} AS task_id",
        f"CASE WHEN f.related IS NULL THEN [{line1}] ELSE [{line1}, {line2}] END AS judge_result_detail_dtos"])


def _time(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _envelope(report, message) -> dict:
    env = getattr(message, "envelope", None) or {}
    now = dt.datetime.now().astimezone()
    try:
        received = dt.datetime.fromisoformat(report.engine.get("checked_at", "")).astimezone()
    except (TypeError, ValueError):
        received = now
    return {"infcode": 0, "inf_refmsgid": env.get("msgid") or f"claimcheck{now:%Y%m%d%H%M%S%f}"[:30],
            "refmsg_time": _time(received), "respond_time": _time(now), "err_msg": ""}


def _write(report, out, message=None, codes=None, lang: str = "zh", home=None) -> int:
    codes = codes if isinstance(codes, dict) and "sev_deg" in codes else load_codes(codes)
    env = getattr(message, "envelope", None) or {}
    rules = {(r.contract_id, r.contract_version, r.rule_id): r for r in report.rules}
    t = report.table
    extra = {
        "rule_name": per_rule(t, {k: r.title for k, r in rules.items()}, pa.string()),
        "evid": per_rule(t, {k: f"{r.source['document']} {r.source['section']}：{r.source['quote']}"
                             for k, r in rules.items()}, pa.string()),
        "words": finding_words(t, report.rules, lang),  # 违规内容 in words, never a condition
    }
    head = json.dumps(_envelope(report, message), ensure_ascii=False)[:-1]
    with findings_db(t, home=home, **extra) as db:
        out.write(head.encode() + b', "output": {"result": [')
        n = json_elements(db, out, _columns(codes, env.get("msgid") or codes.get("task_id", "")),
                          "NOT f.waived AND f.severity <> 'data_quality'")
        out.write(b"\n]}}\n" if n else b"]}}\n")
    return n


def national_answer(report, message=None, codes=None, lang: str = "zh", home=None) -> dict:
    """The national 3101/3102 answer envelope for `report` (of `message`, the request checked, if
    any; default: the report's own); `codes`: a code-map file or dict over checks/nhsa/codes.yaml;
    `home`: a checks.duck.Home to write it in (a server worker's)."""
    buf = io.BytesIO()
    _write(report, buf, message if message is not None else getattr(report, "message", None), codes, lang, home)
    return json.loads(buf.getvalue())


def write_nhsa(report, path, codes=None, lang: str = "zh") -> None:
    with target(path, ".json") as tmp, open(tmp, "wb") as out:
        _write(report, out, getattr(report, "message", None), codes, lang)
