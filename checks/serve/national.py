"""The national 3101/3102 message in, the national answer out: the service's seam to the message
layer (checks/nhsa/message.py reads a request as claim lines; checks/report/nhsa_out.py writes
the answer). What the service adds: an error that is one `err_msg` line naming every JSON path,
the trigger scene, and the findings a waiver accepted listed apart (`output.waived`), so the HIS
that kept a warning through 3103 sees why it is not warned again.
"""
from __future__ import annotations

import json

from ..errors import ClaimcheckError, InputErrors
from ..nhsa.message import Message
from ..nhsa.message import read_message as _read


class MessageError(ClaimcheckError):
    """A request that is not a national message: every JSON path that is wrong, in one line."""


def read_message(obj, where: str = "request") -> Message:
    try:
        return _read(obj, where=where)
    except InputErrors as e:
        raise MessageError("; ".join(str(x) for x in e.errors[:10]) +
                           (f"; … ({len(e.errors)} errors in all)" if len(e.errors) > 10 else "")) from None


def trig_scen(msg: Message) -> str | None:
    v = (msg.data or {}).get("trig_scen")
    return str(v) if v is not None else None


def national_answer(report, msg: Message | None = None, home=None) -> dict:
    from ..report.nhsa_out import national_answer as answer
    out = answer(report, msg, home=home)
    out["output"]["waived"] = waived_results(report)
    return out


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
