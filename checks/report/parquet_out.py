"""Every finding as a row of a Parquet file (waived ones too, with their waiver), for large outputs."""
from __future__ import annotations

import json
from dataclasses import asdict, fields

import pyarrow as pa
import pyarrow.parquet as pq

from .model import Finding

TYPES = {"amount": pa.float64(), "row": pa.int64()}


def write_findings(report, path) -> None:
    rows = [asdict(f) for f in report.findings] + [asdict(f) for f in report.waived]
    cols = {}
    for fld in fields(Finding):
        values = [r[fld.name] for r in rows]
        if fld.name in ("related", "waiver"):
            values = [json.dumps(v, ensure_ascii=False) if v is not None else None for v in values]
        cols[fld.name] = pa.array(values, type=TYPES.get(fld.name, pa.string()))
    cols["waived"] = pa.array([False] * len(report.findings) + [True] * len(report.waived))
    pq.write_table(pa.table(cols), path, compression="zstd")
