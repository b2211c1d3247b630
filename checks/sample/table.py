"""The batch's Parquet schema, and the two ways a chunk's lines become Arrow: columns of numpy
arrays (vectorised builders) and lists of row dicts (the scenario modules)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

SCHEMA = pa.schema([
    ("mdtrt_id", pa.string()), ("feedetl_sn", pa.string()), ("setl_id", pa.string()), ("psn_no", pa.string()),
    ("gend", pa.string()), ("brdy", pa.date32()), ("insutype", pa.string()), ("med_type", pa.string()),
    ("insuplc_admdvs", pa.string()), ("mdtrtarea_admvs", pa.string()), ("fixmedins_code", pa.string()),
    ("fixmedins_name", pa.string()), ("price_class", pa.string()), ("fee_ocur_time", pa.timestamp("s")),
    ("hilist_code", pa.string()), ("hilist_name", pa.string()), ("list_type", pa.string()),
    ("chrgitm_lv", pa.string()), ("cnt", pa.float64()), ("pric", pa.decimal128(12, 2)),
    ("det_item_fee_sumamt", pa.decimal128(14, 2)), ("fulamt_ownpay_amt", pa.decimal128(14, 2)),
    ("overlmt_amt", pa.decimal128(14, 2)), ("preselfpay_amt", pa.decimal128(14, 2)),
    ("inscp_scp_amt", pa.decimal128(14, 2)), ("fetts", pa.string()), ("main_diag_code", pa.string()),
    ("subsidy_amt", pa.decimal128(12, 2)), ("serum_risk", pa.string()), ("poverty_flag", pa.bool_()),
    ("medins_list_codg", pa.string()),  # a column no contract knows: carried along
])


def column(name: str, values) -> pa.Array:
    """One column from a numpy array (NaN / NaT / None are null) or an Arrow array."""
    typ = SCHEMA.field(name).type
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values if values.type == typ else values.cast(typ)
    if pa.types.is_decimal(typ):  # every amount is already rounded to cents: the cast is exact
        arr = np.round(np.asarray(values, dtype=float), 2)
        return pa.array(arr, type=pa.float64(), from_pandas=True).cast(typ, safe=False)
    if pa.types.is_timestamp(typ):
        return pa.array(np.asarray(values, dtype="datetime64[s]"), type=typ, from_pandas=True)
    if pa.types.is_date(typ):
        return pa.array(np.asarray(values, dtype="datetime64[D]"), type=typ, from_pandas=True)
    return pa.array(values, type=typ, from_pandas=True)


def from_columns(cols: dict) -> pa.Table:
    return pa.Table.from_arrays([column(n, cols[n]) for n in SCHEMA.names], schema=SCHEMA)


def from_rows(rows: list[dict]) -> pa.Table:
    """Row dicts (keys as in SCHEMA, missing keys null) as a table."""
    cols = {}
    for field in SCHEMA:
        vals = [r.get(field.name) for r in rows]
        typ = field.type
        if pa.types.is_decimal(typ) or typ == pa.float64():
            cols[field.name] = np.array([np.nan if v is None else v for v in vals], dtype=float)
        elif pa.types.is_string(typ):
            cols[field.name] = pa.array([None if v is None else str(v) for v in vals], type=typ)
        else:
            cols[field.name] = pa.array(vals, type=typ)
    return from_columns(cols)
