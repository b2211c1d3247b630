"""The JSON report: a documented, stable shape (see README, "The JSON report").

The findings lists are written by DuckDB straight from the findings table (checks/report/stream.py);
the rest is small and written with the json module, which refuses NaN and infinity
(allow_nan=False), so no output can carry them.
"""
from __future__ import annotations

import json

from .model import FINDING_SCHEMA
from .said import finding_words
from .stream import findings_db, json_array
from .target import target

COLUMNS = ", ".join(f'CAST("{n}" AS JSON) AS "{n}"' if n in ("related", "waiver") else
                    'words AS "message"' if n == "message" else f'"{n}"' for n in FINDING_SCHEMA.names)


def _dump(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, allow_nan=False, default=str).encode("utf-8")


def write_json(report, path, lang: str = "zh") -> None:
    """`message` is each finding in words, in Chinese whatever `lang` (as the national platform's
    messages are); the precise values stay in `expected` and `actual`."""
    head = report.head_dict()
    active = COLUMNS.replace(', CAST("waiver" AS JSON) AS "waiver"', "")
    words = finding_words(report.table, report.rules, "zh")
    with target(path, ".json") as tmp, open(tmp, "wb") as out, findings_db(report.table, words=words) as db:
        out.write(b"{\n")
        for key in ("claimcheck_report", "summary", "contracts", "inputs", "engine", "history", "rules"):
            out.write(f'"{key}": '.encode() + _dump(head[key]) + b",\n")
        out.write(b'"violations": ')
        json_array(db, out, active, "NOT waived")
        out.write(b',\n"waived": ')
        json_array(db, out, COLUMNS, "waived")
        out.write(b',\n"waivers": ' + _dump(head["waivers"]) + b"\n}\n")
