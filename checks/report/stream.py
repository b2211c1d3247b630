"""Findings serialised by DuckDB, never one Python object per finding.

`json_array(con, out, columns)` appends to the open binary file `out` a JSON array with one
object per finding, whose keys are the aliases of the SELECT list `columns` over the findings
view `f` (which carries `_i`, the finding's position, and `waived`). DuckDB writes the array to
a temporary file with COPY, which is then copied in: the whole path is C++ and streaming.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile

import pyarrow as pa
import pyarrow.compute as pc

from ..duck import connect
from .spool import release, slices


CHUNK = 50_000  # findings per COPY: DuckDB holds a chunk's JSON (some 700 bytes a finding) before writing it


class FindingsDB:
    """The findings table (with `_i`, `waived` and extra columns) and a DuckDB connection that
    serialises it in chunks: each chunk is registered as `f` in turn, so memory stays flat."""

    def __init__(self, con, table: pa.Table, in_order: bool = True):
        self.con, self.table = con, table
        # whether rows leave in table order by themselves (preserve_insertion_order), or must be sorted
        self.order_by = "" if in_order else " ORDER BY f._i"

    def chunks(self):
        for start in range(0, max(self.table.num_rows, 1), CHUNK):
            self.con.register("f", self.table.slice(start, CHUNK))
            yield
            release()   # the pages of a findings file this chunk touched (report/spool.py)


@contextlib.contextmanager
def findings_db(table: pa.Table, home=None, **extra: pa.Array):
    """A FindingsDB over `table` plus `_i` (position), `waived` and `extra` columns; on a cursor
    of `home` (a checks.duck.Home) if given, which keeps no insertion order: rows are sorted."""
    tmp = tempfile.mkdtemp(prefix="claimcheck-") if home is None else None
    if home is None:
        con = connect(config={"temp_directory": tmp})
        con.execute("SET memory_limit = '512MB'")
        con.execute("SET preserve_insertion_order = true")  # rows leave in table order: no sort needed
    else:
        con = home.cursor()
    t = table.append_column("_i", pa.array(range(table.num_rows), pa.int64()))
    t = t.append_column("waived", pc.is_valid(table["waiver"]))
    for name, arr in extra.items():
        t = t.append_column(name, arr)
    try:
        yield FindingsDB(con, t, in_order=home is None)
    finally:
        if home is None:
            con.close()
        else:
            home.release(con)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def per_rule(table: pa.Table, values: dict[tuple, object], typ: pa.DataType) -> pa.Array:
    """An array aligned with `table`: values[(contract_id, contract_version, rule_id)] for each row.
    Keyed a chunk at a time, so that only a chunk's key text is ever held."""
    keys = list(values)
    known = pa.array(["\x1f".join(k) for k in keys], pa.string())
    text = lambda t, c: pc.cast(t[c], pa.string())  # noqa: E731
    parts = []
    for t in slices(table, CHUNK):
        row_key = pc.binary_join_element_wise(text(t, "contract_id"), text(t, "contract_version"), text(t, "rule_id"),
                                              "\x1f")
        index = pc.index_in(row_key, value_set=known).cast(pa.int32())
        parts.extend(index.chunks if isinstance(index, pa.ChunkedArray) else [index])
    index = pa.concat_arrays(parts) if parts else pa.array([], pa.int32())
    return pa.DictionaryArray.from_arrays(index, pa.array([values[k] for k in keys], typ))  # no copy per row


def json_array(db: FindingsDB, out, columns: str, where: str = "TRUE") -> int:
    """Write a JSON array to binary file `out`, one object per finding: `columns` is a SELECT list
    over `f` whose aliases are the object's keys (JSON-typed columns nest). Return the count."""
    out.write(b"[")
    n = json_elements(db, out, columns, where)
    out.write(b"\n]" if n else b"]")
    return n


def json_elements(db: FindingsDB, out, columns: str, where: str = "TRUE", first: bool = True) -> int:
    """The objects of json_array without the brackets (`first`: whether none precede them)."""
    total = 0
    fd, tmp = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        path = tmp.replace("'", "''")
        for _ in db.chunks():
            n = db.con.sql(f"SELECT count(*) FROM f WHERE {where}").fetchall()[0][0]
            if not n:
                continue
            db.con.execute(f"COPY (SELECT {columns} FROM f WHERE {where}{db.order_by}) TO '{path}' "
                           "(FORMAT json, ARRAY true)")
            size = os.path.getsize(tmp)
            with open(tmp, "rb") as fh:
                # DuckDB writes "[\n\t{…},\n\t{…}\n]\n": copy what lies between the brackets
                fh.seek(1)
                if not (first and total == 0):
                    out.write(b",")
                remaining = size - 1 - 3
                while remaining > 0:
                    chunk = fh.read(min(1 << 20, remaining))
                    out.write(chunk)
                    remaining -= len(chunk)
            total += n
    finally:
        os.unlink(tmp)
    return total
