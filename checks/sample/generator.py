"""Generate a realistic claim batch: ordinary fee lines in bulk, plus policy scenarios with
planted violations. Writes Parquet (zstd) and, on request, the planted manifest as CSV
(rule_id, mdtrt_id, feedetl_sn): exactly the findings a correct checker reports.

Streaming: the batch is made in chunks of at most `chunk_lines` lines, each written as it is made,
so memory stays flat however many lines are asked for. Every chunk has the same shape (the
scenarios' share of lines and planted rate per line) and its own random stream; in a batch of more
than one chunk every id starts with the chunk's tag (C0000, C0001, …), so no visit or person spans
two chunks and no rule counts across them. A one-chunk batch has no tag: it is what earlier
versions wrote for the same size and seed. With `partition_lines`, OUT is a folder of Parquet files
(part-00000.parquet, …), each of whole chunks and about `partition_lines` lines; the lines are the
same as in one file of the same size, seed and chunk size.
"""
from __future__ import annotations

import csv
import math
import os
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..contract import load_contracts
from ..contract.retired import revision_of
from ..errors import UsageError
from . import fuzhou_subsidy, heavy, jiangsu_consumables, jiangsu_nipt, jiangxi_rmc, jilin_art
from .background import background
from .table import SCHEMA, from_columns, from_rows

# contract version -> (id prefix, scenario); each plants one line per rule that only that rule flags.
# A scenario keeps the name of the version it was written for (sample_claims/<id>-<version>.parquet);
# when that version is revised (checks/contract/retired.py) the scenario reads the newest revision's
# tables, and the revision is what judges its lines by default.
SCENARIOS = {
    "jiangsu-nipt@1.0.0": ("JSN", jiangsu_nipt.scenario),
    "jiangsu-consumables@1.0.0": ("JSC", jiangsu_consumables.scenario),
    "jiangxi-rmc@1.0.0": ("JXR", jiangxi_rmc.scenario),
    "fuzhou-nipt-subsidy@1.0.0": ("FZA", fuzhou_subsidy.scenario_2019),
    "fuzhou-nipt-subsidy@2.0.0": ("FZB", fuzhou_subsidy.scenario_2022),
    "jilin-art@1.0.0": ("JLA", jilin_art.scenario),
}
# realistic: ordinary lines and the scenarios; findings-heavy: HEAVY_SHARE of every chunk is
# overcharged NIPT detections (heavy.py), the rest as realistic
# The shapes of real batches (every contract's scenario scaled to a share of each chunk; the rest
# ordinary lines): a Jiangsu general hospital, a third-party NIPT lab, a Jilin reproductive
# centre, and a bureau's month of all five regions. Every scenario line is one of a clean case or
# a planted one, so the manifest stays exact.
MIXES = {
    "hospital": {"jiangsu-consumables@1.0.0": 0.25, "jiangsu-nipt@1.0.0": 0.01},
    "nipt-lab": {"jiangsu-nipt@1.0.0": 0.80, "fuzhou-nipt-subsidy@1.0.0": 0.05, "fuzhou-nipt-subsidy@2.0.0": 0.05},
    "art-clinic": {"jilin-art@1.0.0": 0.80},
    "bureau": {"jiangsu-nipt@1.0.0": 0.15, "jiangsu-consumables@1.0.0": 0.15, "jiangxi-rmc@1.0.0": 0.15,
               "fuzhou-nipt-subsidy@1.0.0": 0.05, "fuzhou-nipt-subsidy@2.0.0": 0.05, "jilin-art@1.0.0": 0.15},
}
PROFILES = ("realistic", "findings-heavy", *MIXES)
HEAVY_SHARE = 0.8
CALIBRATE = 200_000  # the batch size a scenario's lines per batch line are measured at
CHUNK_LINES = 250_000
ROW_GROUP = 256_000


@dataclass
class Generated:
    lines: int = 0
    planted: int = 0
    files: list[Path] = field(default_factory=list)
    omitted: set[str] = field(default_factory=set)  # scenarios some chunk was too small for


def spread(total: int, most: int) -> list[int]:
    """`total` split into as few near-equal parts of at most `most` as possible."""
    k = max(1, math.ceil(total / most))
    q, r = divmod(total, k)
    return [q + 1] * r + [q] * (k - r)


def layout(lines: int, chunk_lines: int, partition_lines: int | None) -> list[list[int]]:
    """Chunk sizes, grouped by output file: chunks first, then whole chunks into files."""
    chunks = spread(lines, min(chunk_lines, partition_lines or chunk_lines))
    files = math.ceil(lines / partition_lines) if partition_lines else 1
    out = [[] for _ in range(files)]
    for j, n in enumerate(chunks):
        out[j * files // len(chunks)].append(n)
    return out


class Chunks:
    """Makes one chunk at a time: its table and the findings planted in it."""

    def __init__(self, contracts: dict, names: list[str], explicit: bool, profile: str):
        missing = [n for n in names if n not in contracts]
        if profile == "findings-heavy" and "jiangsu-nipt@1.0.0" not in contracts:
            missing.append("jiangsu-nipt@1.0.0 (the findings-heavy profile)")
        if missing:
            raise UsageError(f"the contracts folder lacks {', '.join(missing)}, which the generator needs")
        self.contracts, self.names, self.explicit, self.profile = contracts, names, explicit, profile
        self.prefix = "".join(SCENARIOS[n][0] for n in names) if explicit else ""
        self.heavy = heavy.Institutions(contracts["jiangsu-nipt@1.0.0"].tables["attachment1"]) \
            if profile == "findings-heavy" else None
        self.mix = {n: share for n, share in MIXES.get(profile, {}).items() if n in names}
        self.density = {n: len(SCENARIOS[n][1](contracts, CALIBRATE, np.random.default_rng(0), "")[0]) / CALIBRATE
                        for n in self.mix}

    def scale(self, name: str, n: int, shrink: float) -> int:
        """The batch size to ask a scenario for so that it writes its share of `n` lines."""
        if name not in self.mix:
            return n
        return max(n, int(self.mix[name] * n * shrink / self.density[name]))

    def heavy_lines(self, n: int) -> int:
        return round(HEAVY_SHARE * n) if self.heavy else 0

    def scenario_rows(self, n: int, rng, tag: str) -> tuple[list[dict], set, set[str]]:
        """The scenarios for `n` lines, in order; one that no longer fits is left out."""
        shrink = 1.0
        while True:
            rows, planted, omitted = [], set(), set()
            for name in self.names:
                r, pl = SCENARIOS[name][1](self.contracts, self.scale(name, n, shrink), rng, tag)
                if len(rows) + len(r) > n:
                    omitted.add(name)
                    continue
                rows += r
                planted |= pl
            if not (omitted & set(self.mix)) or shrink < 0.01:
                return rows, planted, omitted
            shrink /= 2  # a mix's scenario overflowed the chunk: ask every scaled scenario for less

    def minimum(self) -> int:
        """The fewest lines per chunk that hold every named scenario (their size grows with the lines)."""
        def size(n):
            rng = np.random.default_rng(0)
            return sum(len(SCENARIOS[name][1](self.contracts, n, rng, "")[0]) for name in self.names)
        need = 1
        while size(need) > need:
            need = size(need)
        n = need
        while n - self.heavy_lines(n) < need:
            n += 1
        return n

    def too_few(self, n: int, single: bool) -> UsageError:
        names = ", ".join(self.names)
        if single:
            return UsageError(f"{n:,} lines are too few for scenario {names}: --lines {self.minimum():,} or more")
        return UsageError(f"chunks of {n:,} lines are too few for scenario {names}: it needs {self.minimum():,} "
                          "lines per chunk; make --chunk-lines (and --partition-lines) larger")

    def make(self, n: int, rng, tag: str) -> tuple[pa.Table, list[tuple[str, str, str]], set[str]]:
        k = self.heavy_lines(n)
        rows, planted, omitted = self.scenario_rows(n - k, rng, tag)
        if omitted and self.explicit:  # named on purpose: never left out
            raise self.too_few(n, single=not tag)
        parts = [from_columns(background(n - k - len(rows), rng, self.prefix, tag)), from_rows(rows)]
        found = sorted(planted)
        if k:
            cols, more = heavy.overcharged(self.heavy, k, rng, tag)
            parts.append(from_columns(cols))
            found = sorted(found + more)
        return pa.concat_tables(parts), found, omitted


def targets(out: Path, files: int, partitioned: bool) -> list[Path]:
    if not partitioned:
        if out.is_dir():
            raise UsageError(f"{out} is a folder; name a .parquet file, or add --partition-lines to write a folder")
        out.parent.mkdir(parents=True, exist_ok=True)
        return [out]
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} already exists{'' if out.is_dir() else ' as a file'}: with --partition-lines, "
                         "OUT must be a new or empty folder")
    out.mkdir(parents=True, exist_ok=True)
    return [out / f"part-{i:05d}.parquet" for i in range(files)]


def generate(out: Path, lines: int = 3000, seed: int = 20250301, planted_path: Path | None = None,
             contracts_dir=None, scenarios: list[str] | None = None, chunk_lines: int = CHUNK_LINES,
             partition_lines: int | None = None, profile: str = "realistic", progress=None) -> Generated:
    """Write `lines` fee lines to `out` (a file, or with `partition_lines` a folder of files):
    the scenarios' lines (all by default) and ordinary ones; `progress(lines_done)` after each chunk."""
    for name, value in (("--lines", lines), ("--chunk-lines", chunk_lines), ("--partition-lines", partition_lines)):
        if value is not None and value < 1:
            raise UsageError(f"{name} must be at least 1, not {value}")
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}; valid: {', '.join(PROFILES)}")
    for name in scenarios or []:
        if name not in SCENARIOS:
            raise UsageError(f"unknown scenario {name!r}; valid: {', '.join(SCENARIOS)}")
    loaded = load_contracts(contracts_dir, use_samples=True)
    newest = revision_of(loaded)
    contracts = {c.key: newest.get((c.id, c.version), c) for c in loaded}
    maker = Chunks(contracts, list(scenarios or SCENARIOS), scenarios is not None, profile)
    plan = layout(lines, chunk_lines, partition_lines)
    count = sum(len(f) for f in plan)
    smallest = min(min(f) for f in plan)
    if scenarios is not None and smallest < maker.minimum():  # before anything is written
        raise maker.too_few(smallest, single=count == 1)
    paths = targets(Path(out), len(plan), partition_lines is not None)
    width = max(4, len(str(count - 1)))
    result, index = Generated(files=paths), 0
    try:
        with open(planted_path, "w", newline="", encoding="utf-8") if planted_path else nullcontext() as fh:
            manifest = csv.writer(fh) if planted_path else None
            if manifest:
                manifest.writerow(["rule_id", "mdtrt_id", "feedetl_sn"])
            for path, chunks in zip(paths, plan):
                with complete(path) as partial, pq.ParquetWriter(partial, SCHEMA, compression="zstd") as writer:
                    for n in chunks:
                        tag = f"C{index:0{width}d}" if count > 1 else ""
                        rng = np.random.default_rng([seed, index] if count > 1 else seed)
                        table, found, omitted = maker.make(n, rng, tag)
                        writer.write_table(table, row_group_size=ROW_GROUP)
                        if manifest:
                            manifest.writerows(found)
                        result.lines += table.num_rows
                        result.planted += len(found)
                        result.omitted |= omitted
                        del table  # before the next chunk is made
                        index += 1
                        if progress:
                            progress(result.lines)
    except BaseException:  # the whole dataset or nothing: a part of one would check as a smaller month
        if partition_lines is not None:  # the folder was new or empty
            for path in paths:
                path.unlink(missing_ok=True)
        if planted_path:
            Path(planted_path).unlink(missing_ok=True)
        raise
    return result


@contextmanager
def complete(path: Path):
    """Write to a side name (not *.parquet: no reader picks up half a file); rename when done."""
    partial = path.with_name(path.name + ".partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
