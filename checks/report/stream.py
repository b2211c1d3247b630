"""Findings serialised by DuckDB, never one Python object per finding.

`json_array(con, out, columns)` appends to the open binary file `out` a JSON array with one
object per finding, whose keys are the aliases of the SELECT list `columns` over the findings
view `f` (which carries `_i`, the finding's position, and `waived`). DuckDB writes the array to
a temporary file with COPY, which is then copied in: the whole path is C++ and streaming.
"""
from __future__ import annotations

import contextlib
import os
import tempfile

import duckdb
import pyarrow as pa


@contextlib.contextmanager
def findings_db(table: pa.Table):
    """A DuckDB connection where `f` is the findings table with `_i` (position) and `waived`."""
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    con.register("src", table)
    con.execute("CREATE TEMP VIEW f AS SELECT *, row_number() OVER () - 1 AS _i, waiver IS NOT NULL AS waived FROM src")
    try:
        yield con
    finally:
        con.close()


def json_array(con, out, columns: str, where: str = "TRUE", order: str = "f._i", source: str = "f") -> int:
    """Write a JSON array to binary file `out`, one object per finding: `columns` is a SELECT list
    over `f` whose aliases are the object's keys (JSON-typed columns nest). Return the count."""
    out.write(b"[")
    n = json_elements(con, out, columns, where, order, source=source)
    out.write(b"\n]" if n else b"]")
    return n


def json_elements(con, out, columns: str, where: str = "TRUE", order: str = "f._i", first: bool = True,
                  source: str = "f") -> int:
    """The objects of json_array without the brackets (`first`: whether none precede them).
    `source` is the view read as `f` (the findings, or a view over them with more columns)."""
    n = con.sql(f"SELECT count(*) FROM {source} f WHERE {where}").fetchall()[0][0]
    if n == 0:
        return 0
    fd, tmp = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        path = tmp.replace("'", "''")
        con.execute(f"COPY (SELECT {columns} FROM {source} f WHERE {where} ORDER BY {order}) TO '{path}' "
                    f"(FORMAT json, ARRAY true)")
        size = os.path.getsize(tmp)
        with open(tmp, "rb") as fh:
            # DuckDB writes "[\n\t{…},\n\t{…}\n]\n": copy what lies between the brackets
            fh.seek(1)
            if not first:
                out.write(b",")
            remaining = size - 1 - 3
            while remaining > 0:
                chunk = fh.read(min(1 << 20, remaining))
                out.write(chunk)
                remaining -= len(chunk)
    finally:
        os.unlink(tmp)
    return n
