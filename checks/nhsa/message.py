"""The national 3101/3102 audit request (明细审核事前/事中分析) as claim lines.

    msg = read_message(json.load(fh))          # a full request envelope, or a bare `input` object
    report = checks.check(msg)                 # judged like any batch; findings name msg rows

A hospital system sends patients → encounters (就诊) → orders (处方/医嘱明细, one fee line each),
with the encounter's diagnoses and operations (../shared/NHSA_INTERFACE.md). Every order becomes
one claim line with national field names (the mapping is `LINE` in checks/nhsa/fields.py),
plus three context columns: `patn_id`, `rx_id` and `curr_drord_flag` (1 = a line of this request,
0 = an earlier line sent along so that rules across visits can count it; such lines get no
findings of their own). What a message cannot carry (胎次 fetts, the money split of a settled
line, serum risk …) stays empty: a rule that needs it is "not judged" with that reason, or takes
the fallback it takes for extracts without the column.

The message is read strictly: an unknown field, a string where a list belongs, a value of the wrong
type or a missing required value raises InputErrors naming the JSON path
(`input.data.patient_dtos[0].fsi_encounter_dtos[1].fsi_order_dtos[3].pric: expected a number, got
'abc'`). Field names in camel case (`encounterDtos`, `patnId`, as Hainan's variant writes them) are
read as their snake-case names; `fsi_encounter_dtos` given as one object is read as a list of one.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ..errors import InputError, InputErrors
from ..suggest import did_you_mean

from .fields import (ALIASES, ANY, HILIST_LV, L, L1, LINE, N, O, SCHEMA, T, _DATA, _DIAGNOSE,
                     _ENCOUNTER, _ENVELOPE, _OPERATION, _ORDER, _PATIENT, _REQUIRED)

_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?:[ T]?(\d{2}):?(\d{2})(?::?(\d{2}))?(?:\.\d+)?)?")


@dataclass
class Message:
    """One request (or several, read from JSON Lines) as claim lines."""
    table: pa.Table                                   # SCHEMA: claim columns + patn_id, rx_id, curr_drord_flag
    envelope: dict = field(default_factory=dict)      # the envelope's fields (not `input`), or {}
    infno: str | None = None
    data: dict = field(default_factory=dict)          # input.data without patient_dtos (trig_scen, rule_ids …)
    diagnoses: dict = field(default_factory=dict)     # mdtrt_id -> every diagnosis code of the encounter
    where: str = "request"                            # how the message is named in errors and reports
    count: int = 1                                    # requests it holds

    @property
    def context_rows(self) -> list[int]:
        """1-based rows of lines sent as context (curr_drord_flag 0): they get no findings."""
        flags = self.table.column("curr_drord_flag").to_pylist()
        return [i + 1 for i, f in enumerate(flags) if f == "0"]

    @staticmethod
    def concat(messages: list["Message"], where: str) -> "Message":
        if len(messages) == 1:
            return messages[0]
        diag = {}
        for m in messages:
            diag.update(m.diagnoses)
        first = messages[0] if messages else Message(SCHEMA.empty_table())
        return Message(pa.concat_tables([m.table for m in messages]) if messages else SCHEMA.empty_table(),
                       first.envelope, first.infno, first.data, diag, where, len(messages))


def _snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return ALIASES.get(s, s)


def _at(at) -> str:
    """A JSON path: `at` as written, or (parent path, key)."""
    if isinstance(at, tuple):
        path, key = at
        return f"{path}.{key}" if path else str(key)
    return at


class _Reader:
    def __init__(self, where: str):
        self.where, self.errors, self.failed = where, [], set()

    def fail(self, path: str, message: str) -> None:
        self.failed.add(path)
        self.errors.append(InputError(self.where, f"{path}: {message}" if path else message))

    def obj(self, value, path: str, spec: dict) -> dict | None:
        """The object's fields by their national names, each of its type; unknown names are errors."""
        if not isinstance(value, dict):
            self.fail(path, f"expected an object, got {_kind(value)}")
            return None
        out = {}
        for key in getattr(value, "repeated", ()):
            self.fail(f"{path}.{key}" if path else str(key), "given more than once (which one is meant?)")
        for key, v in value.items():
            typ = spec.get(key)
            if typ == T and type(v) is str:  # the common case, first: a national name, text as the HIS sends it
                out[key] = v.strip() or None
                continue
            name = key if typ is not None else _snake(str(key))
            at = (path, key)  # the JSON path, written out only when something is wrong there
            if name not in spec:
                self.fail(_at(at), f"unknown field{did_you_mean(str(key), spec)} (known here: {', '.join(spec)})")
                continue
            out[name] = self.value(v, at, spec[name])
        return out

    def value(self, v, at, typ: str):
        if v is None or typ == ANY:
            return v
        if typ == T and type(v) is str:  # the common case, first: text as the HIS sends it
            return v.strip() or None
        if typ in (L, L1):
            ok = isinstance(v, list) or (typ == L1 and isinstance(v, dict))
            return v if ok else self.fail(_at(at), f"expected a list, got {_kind(v)}")
        if typ == O:
            return v if isinstance(v, dict) else self.fail(_at(at), f"expected an object, got {_kind(v)}")
        if isinstance(v, str) and not v.strip():
            return None  # an empty value, as extracts leave them
        if typ == T:
            if isinstance(v, bool) or not isinstance(v, (str, int)):
                return self.fail(_at(at), f"expected text, got {_kind(v)}")
            return str(v).strip()
        if typ == N:
            if not isinstance(v, bool) and isinstance(v, (int, float)):
                try:
                    return float(v)
                except OverflowError:
                    return float("inf")  # refused as not finite with the other values of its column
            if isinstance(v, str):
                try:
                    x = float(v)
                    if x == x and abs(x) != float("inf"):
                        return x
                except ValueError:
                    pass
            return self.fail(_at(at), f"expected a number, got {_kind(v)}")
        m = _DATE.fullmatch(v.strip()) if isinstance(v, str) else None
        try:
            parts = [int(g) for g in m.groups() if g is not None] if m else None
            return dt.datetime(*parts) if parts else self.fail(
                _at(at), f"expected a date or time (yyyy-MM-dd HH:mm:ss), got {_kind(v)}")
        except ValueError as e:
            return self.fail(_at(at), f"not a valid date or time {v!r} ({e})")

    def items(self, value, path: str, spec: dict, one_object_ok: bool = False) -> list[tuple[str, dict]]:
        if value is None:
            return []
        if isinstance(value, dict) and one_object_ok:
            value = [value]
        if not isinstance(value, list):
            return []  # already reported by value()
        out = []
        for i, x in enumerate(value):
            o = self.obj(x, f"{path}[{i}]", spec)
            if o is not None:
                out.append((f"{path}[{i}]", o))
        return out


def _kind(v) -> str:
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, bool):
        return f"{str(v).lower()} (a boolean)"
    text = repr(v) if not isinstance(v, str) else repr(v if len(v) <= 40 else v[:40] + "…")
    return text


def read_message(obj, where: str = "request") -> Message:
    """A parsed 3101/3102 request (the envelope, or its bare `input` object) as claim lines;
    raise InputErrors naming every JSON path that is wrong."""
    rd = _Reader(where)
    envelope, prefix = {}, ""
    if isinstance(obj, dict) and "input" in obj:
        envelope = rd.obj({k: v for k, v in obj.items()}, "", _ENVELOPE) or {}
        inp, prefix = envelope.pop("input", None), "input"
    else:
        inp = obj
    data = None
    if inp is not None or not rd.errors:
        got = rd.obj(inp, prefix, {"data": O})
        if got is not None and got.get("data") is None and "data" not in (inp or {}):
            rd.fail(prefix, "no `data` object: a 3101/3102 request's input is {\"data\": {\"patient_dtos\": [...]}}")
        data = rd.obj(got.get("data"), f"{prefix}.data" if prefix else "data", _DATA) if got and got.get("data") is not None else None
    rows, diagnoses = [], {}
    if data is not None:
        dpath = f"{prefix}.data" if prefix else "data"
        if data.get("patient_dtos") is None:
            rd.fail(dpath, "patient_dtos is missing: a request names at least one patient (patient_dtos[])")
        for ppath, p in rd.items(data.get("patient_dtos"), f"{dpath}.patient_dtos", _PATIENT):
            encounters = p.get("fsi_encounter_dtos")
            if isinstance(p.get("fsi_encounter_dtos"), dict):
                encounters = [encounters]
            for epath, e in rd.items(encounters, f"{ppath}.fsi_encounter_dtos", _ENCOUNTER):
                _encounter(rd, envelope, p, ppath, e, epath, rows, diagnoses)
    if rd.errors:
        raise InputErrors(rd.errors)
    table = pa.Table.from_pylist(rows, schema=SCHEMA) if rows else SCHEMA.empty_table()
    rest = {k: v for k, v in (data or {}).items() if k != "patient_dtos"}
    return Message(table, envelope, envelope.get("infno"), rest, diagnoses, where)


def _encounter(rd: _Reader, env: dict, p: dict, ppath: str, e: dict, epath: str, rows: list, diagnoses: dict):
    diags = [d for _, d in rd.items(e.get("fsi_diagnose_dtos"), f"{epath}.fsi_diagnose_dtos", _DIAGNOSE)]
    rd.items(e.get("fsi_operation_dtos"), f"{epath}.fsi_operation_dtos", _OPERATION)
    mains = sorted((d for d in diags if d.get("maindise_flag") == "1" and d.get("dise_codg")),
                   key=lambda d: d.get("inout_dise_type") != "2")
    main = mains[0]["dise_codg"] if mains else e.get("dscg_main_dise_codg")
    every = [d["dise_codg"] for d in diags if d.get("dise_codg")]
    if e.get("mdtrt_id"):
        diagnoses[e["mdtrt_id"]] = list(dict.fromkeys(([main] if main else []) + every))
    for opath, o in rd.items(e.get("fsi_order_dtos"), f"{epath}.fsi_order_dtos", _ORDER):
        line = {
            "mdtrt_id": e.get("mdtrt_id"), "feedetl_sn": o.get("rx_id"), "psn_no": p.get("patn_id"),
            "insutype": e.get("insutype"), "med_type": e.get("med_type"),
            "mdtrtarea_admvs": e.get("medins_admdvs") or env.get("mdtrtarea_admvs"),
            "insuplc_admdvs": p.get("poolarea") or env.get("insuplc_admdvs"),
            "fixmedins_code": e.get("medins_id") or env.get("fixmedins_code"),
            "fixmedins_name": e.get("medins_name") or env.get("fixmedins_name"),
            "fee_ocur_time": o.get("drord_begn_date") or e.get("adm_date"),
            "hilist_code": o.get("hilist_code"), "hilist_name": o.get("hilist_name"), "cnt": o.get("cnt"),
            "pric": o.get("pric"), "det_item_fee_sumamt": o.get("sumamt"), "fulamt_ownpay_amt": o.get("ownpay_amt"),
            "gend": p.get("gend"), "brdy": p["brdy"].date() if p.get("brdy") else None, "main_diag_code": main,
            "list_type": o.get("hilist_type"),
            "chrgitm_lv": HILIST_LV.get(o.get("hilist_lv"), o.get("hilist_lv")) if o.get("hilist_lv") else None,
            "patn_id": p.get("patn_id"), "rx_id": o.get("rx_id"), "curr_drord_flag": o.get("curr_drord_flag") or "1",
        }
        for col, (owner, name) in _REQUIRED.items():
            at = {"patient": ppath, "encounter": epath, "order": opath}[owner]
            if line[col] is None and f"{at}.{name}" not in rd.failed:
                rd.fail(f"{at}.{name}", f"is missing or empty; a claim line needs it ({col}"
                        + (f"; {LINE[col]}" if "else" in LINE[col] else "") + ")")
        if line["curr_drord_flag"] not in ("0", "1"):
            rd.fail(f"{opath}.curr_drord_flag", f"expected 1 (this request's line) or 0 (an earlier line), "
                                                f"got {line['curr_drord_flag']!r}")
        rows.append(line)


def looks_like_message(obj) -> bool:
    """A parsed JSON value shaped like a 3101/3102 request (envelope or bare input)."""
    return isinstance(obj, dict) and ("input" in obj or "data" in obj or "infno" in obj)


def read_message_file(path: str | Path, display: str | None = None, text: str | None = None) -> Message:
    """One request (a JSON document) or many (JSON Lines, one request a line) from a file."""
    display = display or str(path)
    if text is None:
        try:
            raw = Path(path).read_bytes()
        except OSError as e:
            raise InputErrors([InputError(display, f"cannot be read ({e.strerror or e})")]) from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise InputErrors([InputError(display, f"is not UTF-8 text ({e.reason} at byte {e.start}); "
                                          "a 3101 request is UTF-8 JSON")]) from None
    try:
        return read_message(_loads(text, display), display)
    except _NotOne:
        pass
    messages, errors = [], []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            messages.append(read_message(_loads(line, f"{display} line {n}", n), f"{display} line {n}"))
        except InputErrors as e:
            errors += e.errors
    if errors:
        raise InputErrors(errors)
    if not messages:
        raise InputErrors([InputError(display, "holds no request (an empty file)")])
    return Message.concat(messages, display)


class _NotOne(Exception):
    pass


def _loads(text: str, display: str, line: int | None = None):
    try:
        return json.loads(text, object_pairs_hook=json_object, parse_int=json_int)
    except RecursionError:
        raise InputErrors([InputError(display, "JSON nested too deeply to be a 3101 request "
                                      "(a request is at most six levels deep)")]) from None
    except json.JSONDecodeError as e:
        if line is None and e.msg == "Extra data":
            raise _NotOne() from None  # more than one document: JSON Lines
        where = f"column {e.colno}" if line else f"line {e.lineno} column {e.colno}"
        raise InputErrors([InputError(display, f"not valid JSON at {where}: {e.msg}")]) from None


class _Object(dict):
    """A JSON object that remembers the keys it was given more than once."""
    repeated: tuple = ()


def json_object(pairs) -> dict:
    out = _Object(pairs)
    if len(out) != len(pairs):
        seen: set = set()
        out.repeated = tuple(dict.fromkeys(k for k, _ in pairs if k in seen or seen.add(k)))
    return out


def json_int(text: str):
    """A JSON integer; one too long for an int (Python refuses over 4,300 digits) as a float (inf)."""
    return int(text) if len(text) <= 300 else float(text)
