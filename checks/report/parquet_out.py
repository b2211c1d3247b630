"""Every finding as a row of a file (waived ones too, with their waiver): Parquet for programs and
large outputs; CSV or XLSX (sheet_out.py) for people, chosen by the target's suffix."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..paths import library_path_or_same
from .spool import slices
from .target import target

ROW_GROUP = 262_144

SUFFIXES = (".parquet", ".csv", ".xlsx")


def write_findings(report, path, lang: str = "zh") -> None:
    suffix = "" if str(path) == "-" else Path(path).suffix.lower()
    if suffix in (".csv", ".xlsx"):
        from .sheet_out import write_csv, write_xlsx
        return (write_csv if suffix == ".csv" else write_xlsx)(report, path, lang)
    t = report.table
    t = t.append_column("waived", pc.is_valid(t["waiver"]).cast(pa.bool_()))
    with target(path, ".parquet") as tmp, pq.ParquetWriter(library_path_or_same(tmp), t.schema,
                                                           compression="zstd") as out:
        for group in slices(t, ROW_GROUP):   # one row group at a time
            out.write_table(group)
