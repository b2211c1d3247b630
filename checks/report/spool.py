"""Findings kept on disk once they are many: an Arrow IPC file, mapped read-only.

The engine hands its findings over batch by batch (`Spool.add`), already in report order. Up to
SPOOL_AT of them stay in memory. Beyond that they go to an Arrow IPC file in the temporary folder,
which `Spool.table()` maps read-only and unlinks at once: the space is freed when the last table
reading it goes, whatever happens to the process. The table read from the map is an ordinary
pyarrow Table (every reader works unchanged) whose buffers are pages of the file.

Pages a reader touched count in the process's memory until it lets them go: writers that go
through every finding call `release()` after each chunk, which drops the pages from the process
(they are read again from the page cache if touched again). So memory follows the chunk a writer
holds, not the number of findings.
"""
from __future__ import annotations

import mmap
import os
import tempfile
import weakref

import pyarrow as pa

SPOOL_AT = 1 << 18   # findings held in memory before they go to disk

_MAPS: "weakref.WeakKeyDictionary[mmap.mmap, str | None]" = weakref.WeakKeyDictionary()
# the maps tables still read from, and the folder each file was written in


def release() -> None:
    """Drop the pages of every mapped findings file from the process (the data stays on disk)."""
    for mm in list(_MAPS):
        try:
            mm.madvise(mmap.MADV_DONTNEED)
        except (ValueError, OSError):   # closed, or a platform without madvise: nothing to drop
            pass


def slices(table: pa.Table, size: int):
    """`table` a slice of `size` rows at a time, the pages of a findings file each slice touched
    released once the caller is done with it."""
    for start in range(0, table.num_rows, size):
        yield table.slice(start, size)
        release()


def _maps_of(table: pa.Table) -> list[mmap.mmap]:
    spans = [(mm, b.address, b.address + b.size) for mm, b in ((mm, pa.py_buffer(mm)) for mm in list(_MAPS))]
    addresses = [buf.address for col in table.columns for chunk in col.chunks
                 for buf in chunk.buffers() if buf is not None and buf.size]
    return [mm for mm, lo, hi in spans if any(lo <= a < hi for a in addresses)]


def mapped(table: pa.Table) -> bool:
    """Whether `table` reads from a findings file (its buffers lie in a map)."""
    return bool(_maps_of(table))


def directory_of(table: pa.Table) -> str | None:
    """The folder the file `table` reads from was written in (what is derived from it, many
    rows too, goes there), or None (the system's temporary folder)."""
    maps = _maps_of(table)
    return _MAPS.get(maps[0]) if maps else None


class Spool:
    """Record batches of `schema` in, one Table out: in memory, or mapped from a file in `directory`
    (the system's temporary folder by default) once more than `at` rows came in."""

    def __init__(self, schema: pa.Schema, directory: str | None = None, at: int | None = None):
        self.schema, self.directory, self.at = schema, directory, SPOOL_AT if at is None else at
        self._held: list[pa.RecordBatch] = []
        self._rows = 0
        self._path = self._sink = self._writer = None

    def add(self, batch: pa.RecordBatch) -> None:
        if self._writer is not None:
            self._writer.write_batch(batch)
            return
        self._held.append(batch)
        self._rows += batch.num_rows
        if self._rows > self.at:
            self._open()

    def _open(self) -> None:
        fd, self._path = tempfile.mkstemp(prefix="claimcheck-findings-", suffix=".arrow", dir=self.directory)
        os.close(fd)
        self._sink = pa.OSFile(self._path, "wb")
        self._writer = pa.ipc.new_file(self._sink, self.schema)
        for b in self._held:
            self._writer.write_batch(b)
        self._held = []

    def table(self) -> pa.Table:
        """Every batch added, as one table (one chunk when held in memory)."""
        if self._writer is None:
            t = pa.Table.from_batches(self._held, self.schema).combine_chunks()
            self._held = []
            return t
        self._writer.close()
        self._sink.close()
        try:
            with open(self._path, "rb") as fh:
                mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        finally:
            self.discard()
        _MAPS[mm] = self.directory
        return pa.ipc.open_file(pa.py_buffer(mm)).read_all()

    def discard(self) -> None:
        """Close and remove the file, if one was opened (a mapped table keeps reading it)."""
        if self._writer is not None and self._sink is not None and not self._sink.closed:
            self._sink.close()
        if self._path is not None:
            try:
                os.unlink(self._path)
            except FileNotFoundError:
                pass
            self._path = None
