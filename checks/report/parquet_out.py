"""Every finding as a row of a Parquet file (waived ones too, with their waiver), for large outputs."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..paths import library_path_or_same
from .target import target


def write_findings(report, path) -> None:
    t = report.table
    t = t.append_column("waived", pc.is_valid(t["waiver"]).cast(pa.bool_()))
    with target(path, ".parquet") as tmp:
        pq.write_table(t, library_path_or_same(tmp), compression="zstd")
