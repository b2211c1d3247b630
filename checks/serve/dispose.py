"""The 3103 call read: each disposition checked field by field (the JSON path named when wrong)
and matched to a result this server answered; a warning kept with a reason gives a waiver entry."""
from __future__ import annotations

import datetime as dt

from .guard import Failure
from .store import waiver_entry

WAYS = {"1": "继续执行", "2": "返回修改"}


def read_dispositions(obj, store, settings, refmsgid: str) -> tuple[list[dict], list[dict]]:
    """(rows to store, waiver entries to append) of a 3103 request; Failure naming the path otherwise."""
    def bad(path: str, message: str, kind: str = "malformed"):
        return Failure(400, f"{path}: {message}", kind, refmsgid)

    inp = obj.get("input") if isinstance(obj, dict) else None
    data = inp.get("data") if isinstance(inp, dict) else None
    if not isinstance(data, dict):
        raise bad("request.input.data", "missing; expected an object holding warn_type and warns")
    warns = data.get("warns")
    if not isinstance(warns, list) or not warns:
        raise bad("request.input.data.warns", "expected a non-empty list of {warn_rslt_id, dspo_way, dspo_way_rea}")
    if store is None:
        raise bad("request", "this server keeps no dispositions: start it with --waivers or --dispositions", "config")
    owner = str(obj.get("opter_name") or obj.get("opter") or "").strip() or "3103"
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    rows, entries = [], []
    for i, w in enumerate(warns):
        p = f"request.input.data.warns[{i}]"
        if not isinstance(w, dict):
            raise bad(p, "expected an object")
        jr, way, why = (str(w.get(k) or "").strip() for k in ("warn_rslt_id", "dspo_way", "dspo_way_rea"))
        if not jr:
            raise bad(f"{p}.warn_rslt_id", "missing; expected the jr_id of a result")
        if way not in WAYS:
            raise bad(f"{p}.dspo_way", f"{w.get('dspo_way')!r}; expected 1 (继续执行) or 2 (返回修改)")
        if way == "1" and not why:
            raise bad(f"{p}.dspo_way_rea", "required when dspo_way is 1 (the reason to go on)")
        found = store.result(jr)
        if found is None:
            raise bad(f"{p}.warn_rslt_id", f"no result {jr!r} was answered by this server", "unknown")
        entry = waiver_entry(jr, found, why, owner, settings.waiver_days) if way == "1" and settings.waivers else None
        if entry is not None:
            entries.append(entry)
        rows.append({"jr_id": jr, "warn_type": str(data.get("warn_type") or ""), "dspo_way": way,
                     "dspo_way_rea": why, "opter": str(obj.get("opter") or ""),
                     "opter_name": str(obj.get("opter_name") or ""), "msgid": refmsgid, "received_at": now,
                     "waiver_id": entry["id"] if entry is not None else None})
    return rows, entries
