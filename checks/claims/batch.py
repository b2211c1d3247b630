"""Open a claim batch: find its Parquet files, map their columns, check their structure.

Structure (which column supplies which field, presence, type family) is read from each file's
Parquet schema and judged by pandera without reading data (checks/claims/structure.py). Values are
checked later, in the engine's one scan over the batch (checks/claims/values.py). The batch knows
how to read itself as SQL: every field normalised to one type, absent ones as NULL.
"""
from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError, InputErrors
from ..paths import library_path_or_same
from . import normal
from .columns import Source, resolve
from .discover import discover
from .fields import FIELDS, SQL_TYPE
from .structure import structure_errors


@dataclass
class ClaimFile:
    path: Path
    display: str
    rows: int
    columns: list[str]
    sources: dict[str, Source]
    partitions: dict[str, str] = field(default_factory=dict)
    empty: set[str] = field(default_factory=set)  # fields whose column holds no value at all
    sha256: str = ""
    fid: int = 0
    arrow_types: dict = field(default_factory=dict)  # file column -> Arrow type
    stats: dict = field(default_factory=dict)  # file column -> (min, max, null count), from the file's statistics

    @property
    def name(self) -> str:
        """The path as DuckDB and Arrow open it (and DuckDB reports it as `filename`)."""
        return library_path_or_same(self.path)


@dataclass
class Batch:
    files: list[ClaimFile]
    hive: bool
    column_map: dict[str, list[str]] = field(default_factory=dict)

    @property
    def lines(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def fields(self) -> set[str]:
        """Fields some file supplies with at least one value (an all-null column counts as absent)."""
        return {f for cf in self.files for f in cf.sources if f not in cf.empty}

    def missing_reason(self, name: str) -> str:
        fld = FIELDS[name]
        without = [cf.display for cf in self.files if name not in cf.sources]
        if len(without) == len(self.files):
            return f"column {name} ({fld.zh}) is not in the claim files"
        return f"column {name} ({fld.zh}) is empty (null) on every line"

    def partition_typed(self) -> set[str]:
        """Non-text fields supplied as text by partition folders."""
        return {f for cf in self.files for f, s in cf.sources.items()
                if s.partition and FIELDS[f].family not in ("code", "text")}

    def attach(self, con) -> None:
        """Make `source_sql()` readable on the engine's connection (files need nothing)."""

    def source_sql(self) -> str:
        """The lines as DuckDB reads them: every file by its literal name (never a glob pattern),
        with `filename`, `file_row_number` and `file_index`, and the partition folders' values
        taken from below the folder named (never from folders above it, as DuckDB's own hive
        reading would)."""
        quoted = [sql_text(f.name) for f in self.files]
        paths = ", ".join(sql_text(glob_literal(f.name)) for f in self.files)
        scan = (f"read_parquet([{paths}], filename=true, file_row_number=true, "
                f"union_by_name=true, hive_partitioning=false)")  # file_index: the position in self.files
        if not self.hive:
            return scan
        keys = list(self.files[0].partitions)
        cols = "".join(f", {sql_name(k)}" for k in keys)
        names = ", ".join(f"({p}, {cf.fid}{''.join(', ' + sql_text(cf.partitions[k]) for k in keys)})"
                          for p, cf in zip(quoted, self.files))
        picked = "".join(f", fx.{sql_name(k)}" for k in keys)
        return (f"(SELECT r.*, fx.fid AS file_index{picked} FROM {scan} r "
                f"JOIN (VALUES {names}) fx(name, fid{cols}) ON fx.name = r.filename)")

    def raw(self, name: str) -> str:
        """The field as read (before normalising): the file columns that supply it, coalesced."""
        cols = []
        for cf in self.files:
            src = cf.sources.get(name)
            if src and src.column.lower() not in (c.lower() for c in cols):
                cols.append(src.column)
        if not cols:
            return "NULL"
        quoted = [f'r."{c.replace(chr(34), chr(34) * 2)}"' for c in cols]
        return quoted[0] if len(quoted) == 1 else f"coalesce({', '.join(quoted)})"

    def value(self, name: str) -> str:
        """The field normalised: codes trimmed text, names as written (they are compared through
        normal.name), numbers DOUBLE, times local TIMESTAMP, absent NULL."""
        fld = FIELDS[name]
        typ = SQL_TYPE[fld.family]
        raw = self.raw(name)
        if raw == "NULL":
            return f"CAST(NULL AS {typ})"
        if fld.family == "code":
            return normal.value(name, raw)
        if fld.family == "text":
            return f"CAST({raw} AS VARCHAR)"
        cast = "TRY_CAST" if name in self.partition_typed() else "CAST"
        return f"{cast}({raw} AS {typ})"

    def start_hashing(self) -> None:
        """SHA-256 of every file, in a background thread (hashing releases the GIL): the engine
        scans meanwhile; `hashed()` waits for it."""
        def run():
            for cf in self.files:
                cf.sha256 = sha256(cf.path)
        self._hashing = ThreadPoolExecutor(max_workers=1)
        self._hashed = self._hashing.submit(run)

    def hashed(self) -> "Batch":
        if getattr(self, "_hashed", None) is not None:
            self._hashed.result()
            self._hashing.shutdown()
            self._hashed = None
        return self

    def display_of(self) -> dict[int, str]:
        return {cf.fid: cf.display for cf in self.files}


RESERVED = ("filename", "file_row_number", "file_index")  # what the reader adds to every line


def reserved_names(display: str, columns: list[str]) -> list[InputError]:
    """A column named as a column the reader adds would be taken for it (or clash with it): the
    line's file and row would be wrong. Such a column is refused, named, never read in its stead."""
    return [InputError(display, f"a column (or partition folder) named {c!r} clashes with the {c.lower()} claimcheck "
                       f"reads with every line to locate it; rename it (no national field is called "
                       f"{', '.join(RESERVED)})", c)
            for c in columns if c.lower() in RESERVED]


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def glob_literal(path: str) -> str:
    """A path for read_parquet that matches only itself: DuckDB expands `*`, `?` and `[...]` in
    every name it is given, so `claims[1].parquet` would read `claims1.parquet`."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in path)


def column_stats(pf: pq.ParquetFile) -> dict[str, tuple]:
    """{column: (min, max, nulls)} over every row group, from the file's own statistics; a value
    is None where some row group does not say (then nothing may be concluded from it)."""
    md = pf.metadata
    out = {}
    for j in range(md.num_columns):
        path = md.schema.column(j).path
        lo = hi = None
        nulls, known_min, known_nulls = 0, True, True
        for g in range(md.num_row_groups):
            st = md.row_group(g).column(j).statistics
            if st is None:
                known_min = known_nulls = False
                break
            if st.has_null_count:
                nulls += st.null_count
            else:
                known_nulls = False
            if st.has_min_max and known_min:
                try:
                    lo = st.min if lo is None or st.min < lo else lo
                    hi = st.max if hi is None or st.max > hi else hi
                except TypeError:
                    known_min = False
            elif st.num_values:
                known_min = False
        out[path] = (lo if known_min else None, hi if known_min else None, nulls if known_nulls else None)
    return out


def _empty_fields(pf: pq.ParquetFile, sources: dict[str, Source], stats: dict) -> set[str]:
    """Fields whose column is of type null, or null on every row by the file's own statistics."""
    rows, schema = pf.metadata.num_rows, pf.schema_arrow
    out = set()
    for name, src in sources.items():
        if src.partition:
            continue
        if pa.types.is_null(schema.field(src.column).type) or rows == 0:
            out.add(name)
        elif stats.get(src.column, (None, None, None))[2] == rows:
            out.add(name)
    return out


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def open_batch(paths: list[str], column_map: dict[str, list[str]] | None = None, cache: bool = True) -> Batch:
    """Find the claim files and check their structure; raise InputErrors listing every problem.
    A structure proven before (same schema, same mapping) is not judged again (engine/cache.py)."""
    from ..engine.cache import SurveyCache, folder

    structures = SurveyCache(folder() if cache else None, "structure")
    found = discover(paths)
    column_map = column_map or {}
    files, errors = [], []
    schemas_checked: dict[tuple, list[InputError]] = {}
    keys = {tuple(sorted(f.partitions)) for f in found}
    if len(keys) > 1:
        a = next(f for f in found if tuple(sorted(f.partitions)) == sorted(keys)[0])
        b = next(f for f in found if tuple(sorted(f.partitions)) == sorted(keys)[1])
        errors.append(InputError(b.display, f"partition folders differ: {b.display} lies under "
                                 f"{', '.join(sorted(b.partitions)) or 'no partition folder'} but {a.display} under "
                                 f"{', '.join(sorted(a.partitions)) or 'none'}; give one dataset at a time"))
    for i, fnd in enumerate(found):
        try:
            pf = pq.ParquetFile(library_path_or_same(fnd.path))
            schema = pf.schema_arrow
        except Exception as e:  # pyarrow raises several types for unreadable files
            errors.append(InputError(fnd.display, f"not a readable Parquet file ({type(e).__name__}: {e})"))
            continue
        sources, errs = resolve(fnd.display, list(schema.names), fnd.partitions, column_map, fnd.partition_dirs)
        errs += reserved_names(fnd.display, list(schema.names) + list(fnd.partitions))
        errors += errs
        if errs:
            continue
        key = (schema, tuple(sorted((k, s.column, s.partition) for k, s in sources.items())))
        if key not in schemas_checked:
            proven = structures.get(structures.schema_key(schema, sources)).get("ok") if structures.on else False
            schemas_checked[key] = [] if proven else structure_errors(fnd.display, schema, sources)
            if structures.on and not proven and not schemas_checked[key]:
                structures.put(structures.schema_key(schema, sources), {"ok": True})
        errs = [InputError(fnd.display, e.message, e.column, e.row) for e in schemas_checked[key]]
        errors += errs
        stats = column_stats(pf)
        cf = ClaimFile(fnd.path, fnd.display, pf.metadata.num_rows, list(schema.names), sources,
                       fnd.partitions, _empty_fields(pf, sources, stats), fid=len(files),
                       arrow_types={f.name: f.type for f in schema}, stats=stats)
        files.append(cf)
    if errors:
        raise InputErrors(errors)
    batch = Batch(files, bool(found and found[0].partitions), column_map)
    batch.start_hashing()
    return batch
