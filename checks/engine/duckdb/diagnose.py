"""An error DuckDB raised while reading the claims, turned into an error naming the file.

A corrupt data page, a truncated file, or a value no cast can read surfaces only when the scan
reaches it, as a DuckDB exception about the query. Errors of reading (I/O, invalid input,
conversion) are claims that cannot be read: the file is found (from the message, or by reading
each file whole) and named. Anything else is a fault of ours and is not disguised.
"""
from __future__ import annotations

import duckdb

from ...claims.batch import glob_literal, sql_text
from ...duck import connect
from ...errors import InputError, InputErrors

READING = (duckdb.IOException, duckdb.InvalidInputException, duckdb.ConversionException,
           duckdb.OutOfRangeException, duckdb.SerializationException)


def reading_error(e: Exception) -> bool:
    return isinstance(e, READING)


def diagnose(batch, e: Exception) -> InputErrors:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    named = [cf for cf in batch.files if cf.name in str(e)]
    if not named:
        con = connect()
        for cf in batch.files:
            if not cf.path.is_file():
                continue  # data in memory (checks/claims/source.py): no file to blame
            path = sql_text(glob_literal(cf.name))
            try:
                con.execute(f"SELECT count(*) FROM (SELECT hash(COLUMNS(*)) FROM read_parquet({path}, "
                            f"hive_partitioning=false))").fetchall()
            except duckdb.Error as err:
                named.append(cf)
                msg = str(err).strip().splitlines()[0]
                break
        con.close()
    if not named:
        return InputErrors([InputError(", ".join(cf.display for cf in batch.files[:3]) +
                                       (" …" if len(batch.files) > 3 else ""),
                                       f"the claims could not be read: {msg}")])
    return InputErrors([InputError(cf.display, f"cannot be read whole (a corrupt or truncated page?): {msg}")
                        for cf in named])
