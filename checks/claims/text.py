"""Claims as text: CSV and JSON Lines of claim lines, and 3101/3102 requests (.json, .jsonl).

CSV and JSON Lines are read by DuckDB with every column as text first, so that a code keeps its
leading zeros (`0010` stays `0010`); then the claim schema is imposed column by column: numbers,
times and dates are converted, and a value that does not convert is an error naming the file,
the line and the column (never a silent NULL). Empty cells are empty values. The typed lines are
written to a Parquet file in the temp folder, which the engine reads like any other.

Encoding: `encoding` ('gb18030', 'gbk', 'utf-8' …) when given; otherwise UTF-8 if the whole file
is valid UTF-8, else GB18030 (what many hospital systems still export). The file is converted to
UTF-8 first, in Python, for DuckDB reads UTF-8 only without extensions it would download.

A `.json` or `.jsonl` file whose first document is shaped like a 3101/3102 request (an envelope
with `input`, or a bare `{"data": …}`) is read as requests (checks/nhsa/message.py).
"""
from __future__ import annotations

import codecs
import json
import os
import tempfile
from pathlib import Path

from ..errors import InputError, InputErrors, UsageError
from .fields import FIELDS

TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".json", ".jsonl", ".ndjson"}
_TIMES = "['%Y-%m-%d %H:%M:%S', '%Y/%m/%d %H:%M:%S', '%Y%m%d%H%M%S', '%Y-%m-%d', '%Y/%m/%d', '%Y%m%d', '%Y-%m-%dT%H:%M:%S']"
_WORDS = {"number": "a number", "timestamp": "a time (yyyy-MM-dd HH:mm:ss)", "date": "a date (yyyy-MM-dd)",
          "boolean": "true or false"}


def open_text(paths: list[str], column_map: dict, encoding: str | None = None):
    from ..nhsa.message import Message, read_message_file
    from .source import _message

    kinds = {p: _kind(p) for p in paths}
    if any(k == "message" for k in kinds.values()):
        other = [p for p, k in kinds.items() if k != "message"]
        if other:
            raise UsageError(f"{other[0]}: 3101 requests and claim-line files are checked in separate runs")
        msgs = [read_message_file(p, p) for p in paths]
        msg = Message.concat(msgs, paths[0] if len(paths) == 1 else f"{paths[0]} …")
        return _message(msg, column_map, msg.where if len(paths) == 1 else paths[0])
    if len(paths) > 1:
        raise UsageError(f"{paths[1]}: CSV and JSON Lines claim files are checked one file a run")
    return open_lines(paths[0], column_map, encoding)


def _kind(path: str) -> str:
    from ..nhsa.message import looks_like_message

    suffix = Path(path).suffix.lower()
    if suffix not in (".json", ".jsonl", ".ndjson"):
        return "csv"
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16).decode("utf-8-sig", errors="replace")
    except OSError as e:
        raise InputErrors([InputError(path, f"cannot be read ({e.strerror or e})")]) from None
    first = next((line for line in head.splitlines() if line.strip()), "")
    try:
        doc = json.loads(first)
    except (ValueError, RecursionError):
        doc = None
    if isinstance(doc, dict) and not looks_like_message(doc):
        return "lines"  # a JSON object per line that is not a request: claim lines
    return "message" if suffix == ".json" or looks_like_message(doc) else "lines"


def _utf8_copy(path: str, encoding: str | None, folder: str) -> tuple[str, str]:
    """(a UTF-8 file DuckDB can read, the encoding it was read in)."""
    if encoding is None:
        dec = codecs.getincrementaldecoder("utf-8")()
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    dec.decode(chunk)
                dec.decode(b"", final=True)
            return path, "utf-8"
        except UnicodeDecodeError:
            encoding = "gb18030"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UsageError(f"--encoding {encoding!r} is not an encoding Python knows (try gb18030, gbk, utf-8)") from None
    out = os.path.join(folder, "utf8" + Path(path).suffix)
    line = 0
    try:
        with open(path, encoding=encoding, newline="") as src, open(out, "w", encoding="utf-8", newline="") as dst:
            for line, text in enumerate(src, 1):
                dst.write(text)
    except UnicodeDecodeError as e:
        raise InputErrors([InputError(path, f"line {line + 1}: not {encoding} text ({e.reason}); "
                                      "give the file's encoding with --encoding")]) from None
    return out, encoding


def open_lines(path: str, column_map: dict, encoding: str | None = None):
    """A CSV or JSON Lines file of claim lines, typed by the claim schema, as a batch."""
    import duckdb

    from ..duck import connect
    from .batch import glob_literal, sql_text
    from .columns import resolve
    from .source import _spool_file

    if not Path(path).is_file():
        raise InputErrors([InputError(path, "no such file")])
    folder = tempfile.mkdtemp(prefix="claimcheck-text-")
    try:
        readable, _ = _utf8_copy(path, encoding, folder)
        con = connect()
        src = sql_text(glob_literal(readable))  # a name is read as that file, never as a pattern
        json_lines = Path(path).suffix.lower() in (".jsonl", ".ndjson", ".json")
        scan = (f"read_json({src}, format='newline_delimited')" if json_lines else
                f"read_csv({src}, header=true, all_varchar=true, sample_size=-1)")
        try:
            described = con.sql(f"DESCRIBE SELECT * FROM {scan}").fetchall()
        except duckdb.Error as e:
            raise InputErrors([InputError(path, f"cannot be read as {'JSON Lines' if json_lines else 'CSV'}: "
                                          f"{str(e).splitlines()[0]}")]) from None
        names = [d[0] for d in described]
        json_typed = {d[0] for d in described if d[1] == "JSON"}  # numbers beside text, lists, objects
        if not json_lines:
            _no_repeated_header(path, readable)
        sources, errors = resolve(path, names, {}, column_map)
        if errors:
            raise InputErrors(errors)
        by_column = {s.column: f for f, s in sources.items()}
        typed, checks = [], []
        for c in names:
            col = '"' + c.replace('"', '""') + '"'
            text = f"json_extract_string({col}, '$')" if c in json_typed else f"CAST({col} AS VARCHAR)"
            raw = f"nullif(trim({text}), '')"
            fam = FIELDS[by_column[c]].family if c in by_column else "text"
            conv = {"number": f"TRY_CAST({raw} AS DOUBLE)",
                    "timestamp": f"coalesce(TRY_CAST({raw} AS TIMESTAMP), try_strptime({raw}, {_TIMES}))",
                    "date": f"coalesce(TRY_CAST({raw} AS DATE), CAST(try_strptime({raw}, {_TIMES}) AS DATE))",
                    "boolean": f"TRY_CAST({raw} AS BOOLEAN)"}.get(fam)
            if conv is None:
                typed.append(f"{text} AS {col}" if c in by_column else col)
                continue
            typed.append(f"{conv} AS {col}")
            checks.append((c, fam, raw, conv))
        rows = f"(SELECT *, row_number() OVER () AS _n FROM {scan})"
        errors = []
        for c, fam, raw, conv in checks:
            bad = con.sql(f"SELECT _n, {raw} FROM {rows} WHERE {raw} IS NOT NULL AND {conv} IS NULL "
                          f"ORDER BY _n LIMIT 3").fetchall()
            if bad:
                n = con.sql(f"SELECT count(*) FROM {rows} WHERE {raw} IS NOT NULL AND {conv} IS NULL").fetchall()[0][0]
                first = 1 if json_lines else 2
                eg = "; ".join(f"line {r + first - 1}: {v!r}" for r, v in bad)
                errors.append(InputError(path, f"{n:,} value(s) are not {_WORDS[fam]} (e.g. {eg})", c, bad[0][0]))
        if errors:
            raise InputErrors(errors)
        out = os.path.join(folder, "lines.parquet").replace("'", "''")
        con.execute("SET preserve_insertion_order = true")
        con.execute(f"COPY (SELECT {', '.join(typed)} FROM {scan}) TO '{out}' (FORMAT parquet)")
        con.close()
    except duckdb.Error as e:
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
        raise InputErrors([InputError(path, f"cannot be read as {'JSON Lines' if json_lines else 'CSV'}: "
                                      f"{str(e).splitlines()[0]}")]) from None
    except BaseException:
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return _spool_file(folder, os.path.join(folder, "lines.parquet"), path, column_map)


def _no_repeated_header(path: str, readable: str) -> None:
    """A CSV header naming one column twice is refused (DuckDB would rename the second silently)."""
    import csv
    with open(readable, encoding="utf-8-sig", newline="") as fh:
        try:
            header = next(csv.reader(fh), [])
        except csv.Error:
            return
    seen: dict = {}
    for i, name in enumerate(header, 1):
        key = name.strip().lower()
        if key in seen:
            raise InputErrors([InputError(path, f"the header names column {name.strip()!r} twice "
                                          f"(columns {seen[key]} and {i}): which one is meant?", name.strip())])
        seen[key] = i
