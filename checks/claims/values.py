"""Value checks of the claim-line contract, run with pandera on bounded record batches."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import InputError
from .fields import FIELDS

BATCH_ROWS = 131_072
SHOW = 3

_finite = pa.Check(lambda s: np.isfinite(s.astype("float64")), name="finite number",
                   error="must be a finite number")


def _checked(name: str, typ: pa_.DataType) -> bool:
    """Columns a value check can fail on: required ones, patterned ones, and floating numbers."""
    f = FIELDS[name]
    return f.required or bool(f.pattern) or (f.family == "number" and pa_.types.is_floating(typ))


def _schema(columns: list[str], types: dict) -> pa.DataFrameSchema:
    cols = {}
    for name in columns:
        f = FIELDS[name]
        checks = []
        if f.pattern:
            checks.append(pa.Check.str_matches(f.pattern, error=f"must match {f.pattern}"))
        if f.required and f.family in ("code", "text"):
            checks.append(pa.Check.str_length(min_value=1, error="must not be blank"))
        if f.family == "number" and pa_.types.is_floating(types[name]):
            checks.append(_finite)  # integers and decimals cannot be NaN or infinite
        cols[name] = pa.Column(nullable=not f.required, checks=checks, required=True)
    return pa.DataFrameSchema(cols, strict=False)


def _to_frame(batch: pa_.RecordBatch, first_row: int) -> pd.DataFrame:
    arrays = {}
    for name, arr in zip(batch.schema.names, batch.columns):
        fam = FIELDS[name].family
        if fam in ("code", "text"):
            arr = pc.utf8_trim_whitespace(pc.cast(arr, pa_.string()))
        elif fam == "number" and pa_.types.is_decimal(arr.type):
            arr = pc.cast(arr, pa_.float64())  # pandas would make Python Decimal objects
        arrays[name] = arr
    frame = pa_.table(arrays).to_pandas()
    frame.index = pd.RangeIndex(first_row + 1, first_row + 1 + len(frame))  # rows counted from 1
    return frame


def value_errors(cf, progress=None) -> list[InputError]:
    """Every value problem in one file, one error per (column, check), with example rows."""
    pf = pq.ParquetFile(cf.path)
    types = {f.name: f.type for f in pf.schema_arrow}
    columns = [c for c in cf.columns if c in FIELDS and _checked(c, types[c])]
    if not columns:
        return []
    schema = _schema(columns, types)
    seen: dict[tuple[str, str], list] = {}
    first = 0
    for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=columns):
        frame = _to_frame(batch, first)
        first += batch.num_rows
        if progress:
            progress(first)
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as err:
            fc = err.failure_cases
            for (col, check), grp in fc.groupby(["column", "check"], sort=False, dropna=False):
                entry = seen.setdefault((str(col), str(check)), [0, []])
                entry[0] += len(grp)
                for idx, val in zip(grp["index"], grp["failure_case"]):
                    if len(entry[1]) < SHOW:
                        entry[1].append((idx, val))
    out = []
    for (col, check), (count, examples) in seen.items():
        what = "must not be empty (null)" if check == "not_nullable" else check
        eg = "; ".join(f"row {int(r)}: {_show(v)}" for r, v in examples if r == r)
        out.append(InputError(cf.display, f"{count} value(s) fail '{what}'" + (f" (e.g. {eg})" if eg else ""),
                              col, int(examples[0][0]) if examples and examples[0][0] == examples[0][0] else None))
    return out


def _show(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "null"
    return repr(v)
