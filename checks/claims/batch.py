"""Open a claim batch: find its Parquet files, check them against the claim-line contract.

Structure (column present, type family) is read from each file's Parquet schema without
reading data. Values (required fields not null or blank, region codes of six digits, numbers
finite) are checked with pandera, file by file in bounded record batches, so memory stays flat
however large the batch. (mdtrt_id, feedetl_sn) uniqueness across all files is one DuckDB
aggregate. Every problem found is reported, with file, column and row (counted from 1).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError, InputErrors, UsageError
from .fields import FIELDS, REQUIRED
from .values import value_errors

FAMILY_WORDS = {
    "code": "text or integer", "text": "text", "number": "integer, floating point or decimal",
    "timestamp": "timestamp or date", "date": "date or timestamp", "boolean": "boolean",
}


def _family_ok(t: pa.DataType, family: str) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    is_text = pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
    return {
        "code": is_text or pa.types.is_integer(t),
        "text": is_text,
        "number": pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t),
        "timestamp": pa.types.is_timestamp(t) or pa.types.is_date(t),
        "date": pa.types.is_timestamp(t) or pa.types.is_date(t),
        "boolean": pa.types.is_boolean(t),
    }[family]


@dataclass
class ClaimFile:
    path: Path
    display: str
    rows: int
    columns: list[str]
    hive: dict[str, str] = field(default_factory=dict)
    sha256: str = ""


@dataclass
class Batch:
    files: list[ClaimFile]
    hive: bool

    @property
    def lines(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def fields(self) -> set[str]:
        """Known fields present in every file of the batch."""
        sets = [set(f.columns) | set(f.hive) for f in self.files]
        return set.intersection(*sets) & set(FIELDS) if sets else set()

    def missing_reason(self, column: str) -> str:
        without = [f.display for f in self.files if column not in f.columns and column not in f.hive]
        if len(without) == len(self.files):
            return f"column {column} ({FIELDS[column].zh}) is not in the claim files"
        return (f"column {column} ({FIELDS[column].zh}) is missing from {len(without)} of "
                f"{len(self.files)} files (first: {without[0]})")

    def source_sql(self) -> str:
        paths = ", ".join("'" + str(f.path).replace("'", "''") + "'" for f in self.files)
        hive = "true, hive_types_autocast=false" if self.hive else "false"
        return (f"read_parquet([{paths}], filename=true, file_row_number=true, "
                f"union_by_name=true, hive_partitioning={hive})")

    def display_of(self) -> dict[str, str]:
        return {str(f.path): f.display for f in self.files}


def discover(paths: list[str]) -> tuple[list[tuple[Path, str, dict]], bool]:
    found, hive = [], False
    if not paths:
        raise UsageError("no claim files given: name Parquet files or directories")
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files = sorted(x for x in path.rglob("*.parquet") if x.is_file()
                           and not any(part.startswith((".", "_")) for part in x.relative_to(path).parts))
            if not files:
                raise InputError(p, "directory holds no .parquet files")
            for f in files:
                parts = dict(seg.split("=", 1) for seg in f.relative_to(path).parts[:-1] if "=" in seg)
                hive = hive or bool(parts)
                found.append((f, str(f), parts))
        elif path.is_file():
            found.append((path, p, {}))
        else:
            raise InputError(p, "no such file or directory")
    return found, hive


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def open_batch(paths: list[str], check_values: bool = True, progress=None) -> Batch:
    """Find and check the claim files; raise InputErrors listing every problem."""
    found, hive = discover(paths)
    files, errors = [], []
    for path, display, parts in found:
        try:
            pf = pq.ParquetFile(path)
            schema = pf.schema_arrow
        except Exception as e:  # pyarrow raises several types for unreadable files
            errors.append(InputError(display, f"not a readable Parquet file ({type(e).__name__}: {e})"))
            continue
        cf = ClaimFile(path, display, pf.metadata.num_rows, list(schema.names), parts)
        for name in REQUIRED:
            if name not in schema.names and name not in parts:
                errors.append(InputError(display, f"required column is missing ({FIELDS[name].zh})", name))
        for name in schema.names:
            f = FIELDS.get(name)
            if f and not _family_ok(schema.field(name).type, f.family):
                errors.append(InputError(display, f"type {schema.field(name).type} is not allowed; "
                                         f"valid: {FAMILY_WORDS[f.family]}", name))
        files.append(cf)
    if errors:
        raise InputErrors(errors)
    for cf in files:
        cf.sha256 = _sha256(cf.path)
    batch = Batch(files, hive)
    if check_values:
        total, done, errors = sum(cf.rows for cf in files), 0, []
        for cf in files:
            errors += value_errors(cf, progress and (lambda n, base=done: progress("validating", base + n, total)))
            done += cf.rows
        errors += duplicate_errors(batch)
        if errors:
            raise InputErrors(errors)
    return batch


def duplicate_errors(batch: Batch) -> list[InputError]:
    con = duckdb.connect()
    found = con.sql(f"""
        SELECT m, s, count(*) OVER () FROM (
            SELECT CAST(mdtrt_id AS VARCHAR) AS m, CAST(feedetl_sn AS VARCHAR) AS s
            FROM {batch.source_sql()} GROUP BY ALL HAVING count(*) > 1)
        ORDER BY m, s LIMIT 1""").fetchall()
    if not found:
        return []
    m, s, n = found[0]
    where = con.execute(f"""SELECT filename, file_row_number + 1 FROM {batch.source_sql()}
                            WHERE CAST(mdtrt_id AS VARCHAR) = ? AND CAST(feedetl_sn AS VARCHAR) = ?
                            ORDER BY 1, 2 LIMIT 3""", [m, s]).fetchall()
    names = batch.display_of()
    at = ", ".join(f"{names.get(f, f)} row {r}" for f, r in where)
    return [InputError(names.get(where[0][0], where[0][0]),
                       f"(mdtrt_id, feedetl_sn) must be unique: {n} pair(s) occur more than once, "
                       f"e.g. ({m}, {s}) at {at}", "mdtrt_id, feedetl_sn")]
