"""The national 3101/3102 message in, the national answer out: the service's one seam to the
message layer.

`read_message`, `check_message` and `national_answer` are all the service calls. Where the
project's message layer (checks.nhsa.message / checks.report.nhsa) is installed they defer to it;
otherwise the mapping below is used: the fields that feed claim columns, as NHSA_INTERFACE.md
names them.

| claim column | from |
| --- | --- |
| psn_no, gend, brdy | patient_dtos[].patn_id, gend, brdy |
| mdtrt_id, fixmedins_code, fixmedins_name, mdtrtarea_admvs, insutype, med_type | fsi_encounter_dtos[]: mdtrt_id, medins_id, medins_name, medins_admdvs (else the envelope's mdtrtarea_admvs), insutype, med_type |
| insuplc_admdvs | the envelope's insuplc_admdvs |
| main_diag_code | the diagnosis with maindise_flag 1, else dscg_main_dise_codg |
| feedetl_sn | fsi_order_dtos[].rx_id (so a finding's line is the order's rx_id) |
| hilist_code, hilist_name, cnt, pric, det_item_fee_sumamt | hilist_code, hilist_name, cnt, pric, sumamt |
| fulamt_ownpay_amt, preselfpay_amt, list_type | ownpay_amt, selfpay_amt, hilist_type |
| fee_ocur_time | drord_begn_date, else the encounter's adm_date |

Context columns kept beside the claim columns: patn_id, rx_id, curr_drord_flag (an order with 0 is
an earlier one sent along: frequency rules count it, it gets no finding of its own).
"""
from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ClaimcheckError


class MessageError(ClaimcheckError):
    """A request that is not a national message: names the JSON path and what was expected."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message


@dataclass
class Message:
    table: pa.Table
    envelope: dict = field(default_factory=dict)
    infno: str | None = None
    trig_scen: str | None = None
    rule_ids: list = field(default_factory=list)


def _list(obj, path: str, required: bool = True) -> list:
    if obj is None:
        if required:
            raise MessageError(path, "missing; expected a list of objects")
        return []
    if isinstance(obj, dict):  # some vendors send one object where a list belongs
        obj = [obj]
    if not isinstance(obj, list):
        raise MessageError(path, f"expected a list of objects, got {type(obj).__name__}")
    for i, x in enumerate(obj):
        if not isinstance(x, dict):
            raise MessageError(f"{path}[{i}]", f"expected an object, got {type(x).__name__}")
    return obj


def _text(d: dict, key: str, path: str, required: bool = False) -> str | None:
    v = d.get(key)
    if v is None or v == "":
        if required:
            raise MessageError(f"{path}.{key}", "missing; expected a text value")
        return None
    if isinstance(v, (dict, list)) or isinstance(v, bool):
        raise MessageError(f"{path}.{key}", f"expected a text or number value, got {type(v).__name__}")
    return str(v).strip()


def _number(d: dict, key: str, path: str) -> float | None:
    v = d.get(key)
    if v is None or v == "":
        return None
    if isinstance(v, bool) or isinstance(v, (dict, list)):
        raise MessageError(f"{path}.{key}", f"expected a number, got {type(v).__name__}")
    try:
        return float(v)
    except (TypeError, ValueError):
        raise MessageError(f"{path}.{key}", f"expected a number, got {v!r}") from None


def _time(d: dict, key: str, path: str) -> dt.datetime | None:
    v = _text(d, key, path)
    if v is None:
        return None
    try:
        return dt.datetime.fromisoformat(v.replace("/", "-"))
    except ValueError:
        raise MessageError(f"{path}.{key}", f"expected yyyy-MM-dd or yyyy-MM-dd HH:mm:ss, got {v!r}") from None


SCHEMA = pa.schema([
    ("mdtrt_id", pa.string()), ("feedetl_sn", pa.string()), ("psn_no", pa.string()), ("gend", pa.string()),
    ("brdy", pa.timestamp("us")), ("insutype", pa.string()), ("med_type", pa.string()),
    ("insuplc_admdvs", pa.string()), ("mdtrtarea_admvs", pa.string()), ("fixmedins_code", pa.string()),
    ("fixmedins_name", pa.string()), ("fee_ocur_time", pa.timestamp("us")), ("hilist_code", pa.string()),
    ("hilist_name", pa.string()), ("list_type", pa.string()), ("cnt", pa.float64()), ("pric", pa.float64()),
    ("det_item_fee_sumamt", pa.float64()), ("fulamt_ownpay_amt", pa.float64()), ("preselfpay_amt", pa.float64()),
    ("main_diag_code", pa.string()), ("patn_id", pa.string()), ("rx_id", pa.string()),
    ("curr_drord_flag", pa.string())])


def _fallback_read(obj, where: str) -> Message:
    if not isinstance(obj, dict):
        raise MessageError(where, f"expected a JSON object (the request envelope), got {type(obj).__name__}")
    envelope = {k: v for k, v in obj.items() if k != "input"}
    data, path = obj, where
    if "input" in obj:
        if not isinstance(obj["input"], dict):
            raise MessageError(f"{where}.input", "expected an object holding data")
        data, path = obj["input"].get("data"), f"{where}.input.data"
        if not isinstance(data, dict):
            raise MessageError(path, "missing; expected an object holding patient_dtos")
    rows = []
    for i, p in enumerate(_list(data.get("patient_dtos"), f"{path}.patient_dtos")):
        pp = f"{path}.patient_dtos[{i}]"
        patn = _text(p, "patn_id", pp, required=True)
        for j, e in enumerate(_list(p.get("fsi_encounter_dtos"), f"{pp}.fsi_encounter_dtos")):
            ep = f"{pp}.fsi_encounter_dtos[{j}]"
            diags = _list(e.get("fsi_diagnose_dtos"), f"{ep}.fsi_diagnose_dtos", required=False)
            main = next((_text(d, "dise_codg", f"{ep}.fsi_diagnose_dtos[{k}]") for k, d in enumerate(diags)
                         if str(d.get("maindise_flag", "")) == "1"), None) or _text(e, "dscg_main_dise_codg", ep)
            adm = _time(e, "adm_date", ep)
            for k, o in enumerate(_list(e.get("fsi_order_dtos"), f"{ep}.fsi_order_dtos", required=False)):
                op = f"{ep}.fsi_order_dtos[{k}]"
                rows.append({
                    "mdtrt_id": _text(e, "mdtrt_id", ep, required=True), "feedetl_sn": _text(o, "rx_id", op, True),
                    "psn_no": patn, "gend": _text(p, "gend", pp), "brdy": _time(p, "brdy", pp),
                    "insutype": _text(e, "insutype", ep), "med_type": _text(e, "med_type", ep),
                    "insuplc_admdvs": _text(envelope, "insuplc_admdvs", where),
                    "mdtrtarea_admvs": _text(e, "medins_admdvs", ep) or _text(envelope, "mdtrtarea_admvs", where),
                    "fixmedins_code": _text(e, "medins_id", ep) or _text(envelope, "fixmedins_code", where),
                    "fixmedins_name": _text(e, "medins_name", ep) or _text(envelope, "fixmedins_name", where),
                    "fee_ocur_time": _time(o, "drord_begn_date", op) or adm,
                    "hilist_code": _text(o, "hilist_code", op, True), "hilist_name": _text(o, "hilist_name", op),
                    "list_type": _text(o, "hilist_type", op), "cnt": _number(o, "cnt", op),
                    "pric": _number(o, "pric", op), "det_item_fee_sumamt": _number(o, "sumamt", op),
                    "fulamt_ownpay_amt": _number(o, "ownpay_amt", op),
                    "preselfpay_amt": _number(o, "selfpay_amt", op), "main_diag_code": main, "patn_id": patn,
                    "rx_id": _text(o, "rx_id", op), "curr_drord_flag": _text(o, "curr_drord_flag", op) or "1"})
    if not rows:
        raise MessageError(f"{path}.patient_dtos", "no fsi_order_dtos line in any encounter: nothing to audit")
    infno = _text(envelope, "infno", where)
    return Message(pa.Table.from_pylist(rows, SCHEMA), envelope, infno, _text(data, "trig_scen", path),
                   [str(r) for r in (data.get("rule_ids") or []) if isinstance(r, (str, int))])


def read_message(obj, where: str = "request") -> Message:
    try:
        from ..nhsa.message import read_message as project_read  # the message layer, where installed
    except ImportError:
        return _fallback_read(obj, where)
    m = project_read(obj, where=where)
    data = ((obj.get("input") or {}).get("data") or {}) if isinstance(obj, dict) else {}
    return Message(m.table, getattr(m, "envelope", {}) or {}, getattr(m, "infno", None),
                   str(data.get("trig_scen")) if data.get("trig_scen") is not None else None)


def check_message(msg: Message, run, folder: str | None = None):
    """Run `run(paths)` (the library's check with the service's loaded contracts) on the message's
    lines, written once as a Parquet file in a private temporary folder."""
    with tempfile.TemporaryDirectory(prefix="claimcheck-msg-", dir=folder) as tmp:
        path = Path(tmp) / "message.parquet"
        pq.write_table(msg.table, path, compression="NONE")
        return run([str(path)])


def national_answer(report, msg: Message | None = None, refmsgid: str = "") -> dict:
    """The national answer envelope for `report`: infcode 0, output.result[] in the national shape;
    findings on context lines (curr_drord_flag 0) are left out; waived ones are listed apart."""
    from ..report.nhsa_out import write_nhsa

    with tempfile.TemporaryDirectory(prefix="claimcheck-answer-") as tmp:
        out = Path(tmp) / "answer.json"
        write_nhsa(report, str(out))
        found = json.loads(out.read_text(encoding="utf-8"))["output"]["result"]
    context = set()
    if msg is not None and "curr_drord_flag" in msg.table.column_names:
        t = msg.table.to_pydict()
        context = {(m, s) for m, s, f in zip(t["mdtrt_id"], t["feedetl_sn"], t["curr_drord_flag"]) if f == "0"}
    result = []
    for r in found:
        lines = r.pop("judge_result_detail_dlist", [])
        if (r["mdtrt_id"], lines[0]["feedetl_sn"] if lines else None) in context:
            continue
        r["task_id"] = refmsgid
        r["judge_result_detail_dtos"] = [
            {"jrd_id": d["jr_detl_id"], "patn_id": r["patn_id"], "mdtrt_id": d["mdtrt_id"], "rx_id": d["feedetl_sn"],
             "vola_item_type": d["vola_item_type"], "vola_amt": d["vola_amt"]} for d in lines]
        result.append(r)
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).strftime("%Y%m%d%H%M%S")
    return {"infcode": 0, "inf_refmsgid": refmsgid, "refmsg_time": now, "respond_time": now, "err_msg": "",
            "output": {"result": result, "waived": waived_results(report)}}


def waived_results(report) -> list[dict]:
    """The findings a waiver accepted: rule, line and the waiver's id and reason (not warnings)."""
    t = report.table
    if not t.num_rows or "waiver" not in t.column_names:
        return []
    out = []
    for row in t.filter(t["waiver"].is_valid()).select(
            ["contract_id", "rule_id", "mdtrt_id", "feedetl_sn", "waiver"]).to_pylist():
        w = json.loads(row["waiver"])
        out.append({"rule_id": f"{row['contract_id']}/{row['rule_id']}", "mdtrt_id": row["mdtrt_id"],
                    "rx_id": row["feedetl_sn"], "waiver_id": w["id"], "reason": w["reason"], "owner": w["owner"],
                    "expires": w["expires"]})
    return out
