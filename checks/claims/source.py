"""Every way claims come in, as one kind of thing the engine reads: a Batch.

A Batch knows its files (or its one in-memory table), which column supplies which field, and
`source_sql()`: the relation the engine scans, with `file_index`, `file_row_number` and `filename`
beside the claim columns. `attach(con)` makes that relation readable on the engine's connection
(a Parquet batch needs nothing; an in-memory table is registered, without a copy). So the engine
never asks where the lines came from:

| given | read as |
| --- | --- |
| paths of Parquet files or folders | `open_batch` (checks/claims/batch.py), the files themselves |
| a 3101/3102 request (`.json`, `.jsonl`), or a parsed `Message` | its claim lines (checks/nhsa/message.py), in memory |
| CSV or JSON Lines of claim lines | read by DuckDB with the claim schema imposed (checks/claims/text.py), in memory |
| `-` | standard input: Parquet, an Arrow IPC stream, or a 3101 request |
| a pyarrow Table or RecordBatch, a pandas DataFrame | registered with DuckDB as it is, up to SPOOL_FROM lines; larger, written to a Parquet file in the temp folder (see SPOOL_FROM) |
| a RecordBatchReader, or any object with `__arrow_c_stream__` (polars, DuckDB relations, …) | streamed into a Parquet file in the temp folder: a stream is read once, the engine reads its source several times, and a stream may be larger than memory |

A row is a line's position in the data (from 1), as a row of a file is.
"""
from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError, InputErrors, UsageError
from .batch import Batch, ClaimFile, open_batch, reserved_names
from .columns import resolve
from .structure import structure_errors

ROW = "__claimcheck_row"  # the line's position (from 0), added beside the table's own columns
# From this many lines a Table (or DataFrame) is written to Parquet before it is judged rather than
# registered as it is. DuckDB evaluates a function of a Parquet column's dictionary-encoded text once
# per distinct value, but of Arrow's plain text once per line, and the engine normalises every code
# and name it reads. Measured at 1,000,000 lines (bench/bench_inputs.py): registered, 1.6x the file;
# written first (0.8 s), within the file plus its decode. At 300,000 lines the two are even, and a
# request of a few hundred lines (the service) is not worth a file.
SPOOL_FROM = 250_000
ROW_GROUP = 131_072  # lines per row group of a spooled file: DuckDB reads row groups in parallel


@dataclass
class MemoryBatch(Batch):
    """One in-memory Arrow table, registered with DuckDB under `view` (no copy)."""
    data: pa.Table | None = None
    view: str = "claims_in_memory"
    context_rows: list[int] = field(default_factory=list)  # rows (from 1) that get no findings of their own
    diagnoses: dict = field(default_factory=dict)          # mdtrt_id -> every diagnosis (from a message)

    def attach(self, con) -> None:
        con.register(self.view, self.data)

    def source_sql(self) -> str:
        name = self.files[0].display.replace("'", "''")
        return (f"(SELECT *, 0 AS file_index, {ROW} AS file_row_number, '{name}' AS filename "
                f"FROM {self.view})")

    def start_hashing(self) -> None:
        pass  # no file to hash: nothing of it is cached


@dataclass
class Opened:
    """A batch and what must be removed once it is judged (a spooled stream)."""
    batch: Batch
    message: object = None
    spool: str | None = None
    cacheable: bool = True

    def close(self) -> None:
        if self.spool:
            import shutil
            shutil.rmtree(self.spool, ignore_errors=True)


def open_table(table: pa.Table, display: str, column_map: dict | None = None) -> MemoryBatch:
    """An Arrow table as a batch: columns resolved and structure checked as for a file."""
    column_map = column_map or {}
    errors = reserved_names(display, [c for c in table.column_names if c != ROW])
    if ROW in table.column_names:
        errors.append(InputError(display, f"a column named {ROW!r} clashes with the line position claimcheck "
                                 "adds; rename it", ROW))
    if errors:
        raise InputErrors(errors)
    sources, errors = resolve(display, table.column_names, {}, column_map)
    if not errors:
        errors = structure_errors(display, table.schema, sources)
    if errors:
        raise InputErrors(errors)
    rows = table.num_rows
    import numpy as np
    data = table.append_column(ROW, pa.array(np.arange(rows, dtype=np.int64)))
    stats, empty = {}, set()
    for f, s in sources.items():
        col = table.column(s.column)
        stats[s.column] = (None, None, col.null_count)
        if pa.types.is_null(col.type) or col.null_count == rows:
            empty.add(f)
    cf = ClaimFile(Path(display), display, rows, table.column_names, sources, empty=empty, fid=0,
                   arrow_types={f.name: f.type for f in table.schema}, stats=stats)
    return MemoryBatch([cf], False, column_map, data=data)


def _stream_to_parquet(reader: pa.RecordBatchReader, temp_dir: str | None, display: str = "stream") -> tuple[str, str]:
    folder = tempfile.mkdtemp(prefix="claimcheck-stream-", dir=temp_dir)
    path = os.path.join(folder, "stream.parquet")
    lines = 0
    try:
        with pq.ParquetWriter(path, reader.schema, compression="lz4") as w:
            for rb in reader:
                w.write_batch(rb, row_group_size=ROW_GROUP)
                lines += rb.num_rows
    except Exception as e:  # the stream's own failure (its producer raised), or the temp folder's
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(e, OSError):
            raise InputErrors([InputError(display, f"writing it to the temp folder {folder} failed after {lines:,} "
                                          f"line(s): {e.strerror or e}; give --temp-dir a folder with room")]) from None
        raise InputErrors([InputError(display, f"the stream failed after {lines:,} line(s): "
                                      f"{type(e).__name__}: {e}")]) from None
    return folder, path


def _spooled(reader, display: str, column_map, temp_dir) -> Opened:
    folder, path = _stream_to_parquet(reader, temp_dir, display)
    return _spool_file(folder, path, display, column_map)


def _table(table: pa.Table, display: str, column_map, temp_dir) -> Opened:
    """A Table registered as it is, or, from SPOOL_FROM lines, spooled as a stream is."""
    if table.num_rows < SPOOL_FROM:
        return Opened(open_table(table, display, column_map), cacheable=False)
    return _spooled(table.to_reader(), display, column_map, temp_dir)


def _spool_file(folder: str, path: str, display: str, column_map) -> Opened:
    """The Parquet file a stream was written to, shown under the stream's name; removed on close."""
    import shutil
    try:
        batch = open_batch([path], column_map, cache=False)
    except InputErrors as e:
        shutil.rmtree(folder, ignore_errors=True)
        raise InputErrors([InputError(display, x.message, x.column, x.row) for x in e.errors]) from None
    batch.hashed()
    for cf in batch.files:
        cf.display = display
    return Opened(batch, spool=folder, cacheable=False)


def open_source(data, column_map: dict | None = None, cache: bool = True, temp_dir: str | None = None,
                name: str | None = None, encoding: str | None = None, stdin=None) -> Opened:
    """The batch for any supported input (see the module's table); raise InputErrors when unreadable."""
    from ..nhsa.message import Message

    column_map = column_map or {}
    if isinstance(data, Message):
        return _message(data, column_map, name)
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if isinstance(data, pa.Table):
        return _table(data, name or "table", column_map, temp_dir)
    if type(data).__module__.startswith("pandas") and hasattr(data, "columns"):
        labels = [str(c) for c in data.columns]
        twice = sorted({c for c in labels if labels.count(c) > 1})
        if twice:
            raise InputErrors([InputError(name or "DataFrame", f"column {c!r} appears more than once: name each "
                                          "column once", c) for c in twice])
        try:
            table = pa.Table.from_pandas(data, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, TypeError) as e:
            raise InputErrors([InputError(name or "DataFrame", f"cannot be read as Arrow columns: {e}")]) from None
        return _table(table, name or "DataFrame", column_map, temp_dir)
    if isinstance(data, pa.RecordBatchReader):
        return _spooled(data, name or "stream", column_map, temp_dir)
    if hasattr(data, "__arrow_c_stream__"):
        return _spooled(pa.RecordBatchReader.from_stream(data), name or type(data).__name__, column_map, temp_dir)
    if isinstance(data, (str, os.PathLike)):
        data = [data]
    try:
        data = list(data)
    except TypeError:
        data = [None]
    if not all(isinstance(p, (str, os.PathLike)) for p in data):
        raise UsageError(f"cannot check {type(data).__name__!s} data: give a path (or a list of paths), a pyarrow "
                         "Table, RecordBatch or RecordBatchReader, a pandas DataFrame, anything with "
                         "__arrow_c_stream__, or a checks.nhsa.Message")
    paths = [str(p) for p in data]
    if "-" in paths:
        if len(paths) > 1:
            raise UsageError("- (standard input) is read alone: name no other claim file beside it")
        if stdin is None and sys.stdin.isatty():
            raise UsageError("- reads the claims from standard input, which is a terminal here: pipe them in "
                             "(extractor | claimcheck check -), as Parquet, an Arrow IPC stream or a 3101 request")
        return _stdin(stdin or sys.stdin.buffer, column_map, temp_dir, name or "stdin")
    from .text import TEXT_SUFFIXES, open_text
    texts = [p for p in paths if Path(p).suffix.lower() in TEXT_SUFFIXES and not Path(p).is_dir()]
    if texts:
        if len(texts) != len(paths):
            raise UsageError(f"{texts[0]}: give CSV, JSON Lines or 3101 requests in a run of their own, "
                             "not beside Parquet files")
        return open_text(texts, column_map, encoding)
    if encoding:
        raise UsageError(f"--encoding {encoding} is for CSV and JSON Lines claim files; {paths[0]} is read as "
                         "Parquet, whose text is always UTF-8")
    return Opened(open_batch(paths, column_map, cache=cache))


def _message(msg, column_map, name) -> Opened:
    batch = open_table(msg.table, name or msg.where, column_map)
    batch.context_rows = msg.context_rows
    batch.diagnoses = msg.diagnoses
    return Opened(batch, message=msg, cacheable=False)


def _stdin(fh, column_map, temp_dir, display) -> Opened:
    """Standard input: Parquet (read whole into a temporary file), an Arrow IPC stream, or a 3101
    request (JSON)."""
    head = fh.peek(8)[:8] if hasattr(fh, "peek") else b""
    if not head:
        raise InputErrors([InputError(display, "is empty: nothing was piped in (Parquet, an Arrow IPC stream "
                                      "or a 3101 request is read)")])
    if head.startswith(b"PAR1"):
        folder = tempfile.mkdtemp(prefix="claimcheck-stdin-", dir=temp_dir)
        path = os.path.join(folder, "stdin.parquet")
        with open(path, "wb") as out:
            while chunk := fh.read(1 << 20):
                out.write(chunk)
        return _spool_file(folder, path, display, column_map)
    if head.lstrip()[:1] in (b"{", b"["):
        from ..nhsa.message import read_message_file
        try:
            text = fh.read().decode("utf-8-sig", errors="strict")
        except UnicodeDecodeError as e:
            raise InputErrors([InputError(display, f"is not UTF-8 text ({e.reason} at byte {e.start}); "
                                          "a 3101 request is UTF-8 JSON")]) from None
        return _message(read_message_file(display, display, text=text), column_map, display)
    try:
        reader = pa.ipc.open_stream(fh)
    except (pa.ArrowInvalid, OSError) as e:
        raise InputErrors([InputError(display, "is neither Parquet, an Arrow IPC stream nor a 3101 request "
                                      f"(JSON): {e}")]) from None
    return _spooled(reader, display, column_map, temp_dir)
