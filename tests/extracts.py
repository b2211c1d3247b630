"""Hand-written claim extracts (tests/fixtures/extracts/*.csv) written to Parquet the way the
systems that make them would: an Oracle-based hospital system (upper-case names, CHAR-padded codes,
NUMBER as decimals) and a data warehouse (Chinese headers, integer codes, floating money).

The CSV text is kept as written (padding included); empty cells become nulls.
"""
from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent / "fixtures" / "extracts"
DEC = pa.decimal128(12, 2)

ORACLE = {  # NUMBER(12,2) money, VARCHAR2/CHAR codes, DATE as timestamp
    **{c: DEC for c in ["CNT", "PRIC", "DET_ITEM_FEE_SUMAMT", "FULAMT_OWNPAY_AMT", "OVERLMT_AMT",
                        "PRESELFPAY_AMT", "INSCP_SCP_AMT"]},
    "INSUTYPE": pa.int64(), "FEE_OCUR_TIME": pa.timestamp("s"),
}
WAREHOUSE = {  # integer code columns, double money, millisecond timestamps
    **{c: pa.float64() for c in ["数量", "单价", "金额", "全自费", "超限价", "先行自付", "政策范围内"]},
    "险种类型": pa.int32(), "医疗类别": pa.int32(), "胎次": pa.int32(), "费用发生时间": pa.timestamp("ms"),
}


def _cast(value: str, typ: pa.DataType):
    if value == "":
        return None
    if pa.types.is_decimal(typ):
        return Decimal(value)
    if pa.types.is_integer(typ):
        return int(value)
    if pa.types.is_floating(typ):
        return float(value)
    if pa.types.is_timestamp(typ):
        return dt.datetime.fromisoformat(value)
    return value


def build(name: str, types: dict, out: Path, rows=None) -> Path:
    """Write HERE/<name>.csv as Parquet at `out` with the given column types (text otherwise)."""
    with open(HERE / f"{name}.csv", encoding="utf-8", newline="") as fh:
        data = list(csv.DictReader(fh))
    if rows is not None:
        data = [rows(r) for r in data]
    cols = {}
    for col in data[0]:
        typ = types.get(col, pa.string())
        cols[col] = pa.array([_cast(r[col], typ) for r in data], type=typ)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(cols), out)
    return out


def expected() -> set[tuple[str, str, str, str]]:
    with open(HERE / "expected.csv", encoding="utf-8") as fh:
        return {(r["rule_id"], r["mdtrt_id"], r["feedetl_sn"], r["severity"]) for r in csv.DictReader(fh)}
