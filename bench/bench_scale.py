"""Beyond one machine's comfort: DuckDB and Spark (local mode) at 10M lines, DuckDB at 100M.

    python bench/bench_scale.py [--lines 10000000] [--copies 10] [--memory-limit 2GB]
                                [--spark-master local[2]] [--spark-driver-memory 8g] [--skip spark|100m]

Every measurement is a separate `claimcheck check` process writing the findings as Parquet, timed
by wall clock, its peak memory the largest sum of the resident sets of the process and all its
descendants (the Spark JVM included), sampled every 0.1 s from /proc:

1. A realistic batch of --lines (the generator's planted rate, Jiangsu NIPT scenario, one Parquet
   file) checked by DuckDB (nothing cached) and by Spark in local mode: findings identical.
2. The same batch --copies times over, each copy's visits, persons and lines renamed so that none
   collides, written as a hive-partitioned dataset (one folder per region, the region taken out of
   the files as partitioned extracts are), checked by DuckDB under --memory-limit with a spill
   folder: the findings must be exactly --copies times those of one copy.

Prints a table of wall time, peak memory, lines per second and the ratios to DuckDB at --lines.
The data stays in bench/out (bench/out/scale_*), so a second run skips making it.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
CONTRACT = ROOT / "contracts" / "jiangsu-nipt"


def _tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(d))
        rss[int(d)] = int(fields[21]) * page
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


def run(cmd: list, env: dict | None = None) -> tuple[float, float, str]:
    """(wall s, peak MB of the process tree, stdout) of one command; exit 0, 1 or 3 expected."""
    t0 = time.perf_counter()
    p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                         env={**os.environ, **(env or {})})
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(p.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    if p.returncode not in (0, 1, 3):
        raise SystemExit(f"{' '.join(map(str, cmd[:4]))} failed ({p.returncode}): {err.decode()[-3000:]}")
    return wall, peak[0] / 2 ** 20, out.decode()


def findings_of(path: Path) -> list[tuple]:
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=["rule_id", "mdtrt_id", "feedetl_sn", "severity", "amount"])
    return sorted(zip(*(t.column(c).to_pylist() for c in t.column_names)))


def make_batch(path: Path, lines: int) -> Path:
    if not path.exists():
        t0 = time.perf_counter()
        subprocess.run([str(BIN / "claimcheck"), "sample", str(path), "--lines", str(lines), "--seed", "11",
                        "--scenario", "jiangsu-nipt@1.0.0"], check=True, stdout=subprocess.DEVNULL)
        print(f"made {path.name}: {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.0f} s")
    return path


def make_copies(batch: Path, folder: Path, copies: int) -> Path:
    """`copies` renamed copies of `batch` as one hive-partitioned dataset (mdtrtarea_admvs=…/)."""
    if (folder / "_SUCCESS").exists():
        return folder
    import duckdb

    shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    src = str(batch).replace("'", "''")
    for k in range(copies):
        con.execute(f"""COPY (SELECT * REPLACE (mdtrt_id || '-{k}' AS mdtrt_id, psn_no || '-{k}' AS psn_no)
                              FROM read_parquet('{src}'))
                        TO '{folder}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (mdtrtarea_admvs),
                                       APPEND, FILENAME_PATTERN 'copy{k}_{{uuid}}')""")
    (folder / "_SUCCESS").write_text("")
    files = list(folder.rglob("*.parquet"))
    size = sum(f.stat().st_size for f in files)
    print(f"made {folder.name}: {len(files)} files in {len({f.parent for f in files})} partition folders, "
          f"{size / 1e9:.2f} GB in {time.perf_counter() - t0:.0f} s")
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--memory-limit", default="2GB")
    ap.add_argument("--spark-master", default="local[2]")
    ap.add_argument("--spark-driver-memory", default="8g")
    ap.add_argument("--skip", action="append", default=[], choices=["spark", "100m"])
    args = ap.parse_args()
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    batch = make_batch(out / f"scale_nipt_{args.lines}.parquet", args.lines)
    work = Path(tempfile.mkdtemp(prefix="bench-scale-", dir=out))
    base = [BIN / "claimcheck", "check", "--contracts", CONTRACT, "-q"]
    rows = []

    def measure(name: str, lines: int, cmd: list, target: Path, env=None):
        wall, peak, _ = run(cmd + ["--findings", target], env)
        found = findings_of(target)
        rows.append((name, lines, wall, peak, len(found)))
        print(f"  {name}: {wall:.1f} s, peak {peak:,.0f} MB, {len(found):,} findings", flush=True)
        return found

    print(f"\nDuckDB and Spark at {args.lines:,} lines ({batch.stat().st_size / 1e6:.0f} MB)")
    duck = measure("DuckDB", args.lines, base + [batch], work / "duck.parquet", {"CLAIMCHECK_CACHE": "off"})
    if "spark" not in args.skip:
        spark = measure(f"Spark {args.spark_master}", args.lines,
                        base + [batch, "--engine", "spark", "--spark-master", args.spark_master,
                                "--spark-conf", f"spark.driver.memory={args.spark_driver_memory}",
                                "--spark-conf", f"spark.local.dir={work}"],
                        work / "spark.parquet")
        if spark != duck:
            raise SystemExit("Spark's findings differ from DuckDB's")
        print("  findings identical (rule, visit, line, severity, amount)")
    if "100m" not in args.skip:
        total = args.lines * args.copies
        folder = make_copies(batch, out / f"scale_copies_{args.lines}x{args.copies}", args.copies)
        spill = work / "spill"
        spill.mkdir()
        print(f"\nDuckDB at {total:,} lines, --memory-limit {args.memory_limit}, spilling to {spill}")
        many = measure(f"DuckDB --memory-limit {args.memory_limit}", total,
                       base + [folder, "--memory-limit", args.memory_limit, "--temp-dir", spill],
                       work / "copies.parquet", {"CLAIMCHECK_CACHE": "off"})
        expect = sorted((r, f"{m}-{k}", s, sev, a) for k in range(args.copies) for r, m, s, sev, a in duck)
        if many != expect:
            raise SystemExit(f"the {args.copies} copies' findings are not {args.copies} times one copy's")
        print(f"  findings are exactly {args.copies} x those of one copy")
    d_wall, d_peak = rows[0][2], rows[0][3]
    print(f"\n{'run':<34}{'lines':>13}{'wall s':>9}{'peak MB':>9}{'lines/s':>12}{'wall x':>8}{'peak x':>8}"
          f"{'findings':>10}")
    for name, lines, wall, peak, n in rows:
        print(f"{name:<34}{lines:>13,}{wall:>9.1f}{peak:>9,.0f}{lines / wall:>12,.0f}{wall / d_wall:>8.2f}"
              f"{peak / d_peak:>8.2f}{n:>10,}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
