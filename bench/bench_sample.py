"""Benchmark `claimcheck sample`: wall time, peak RSS (os.wait4 of the process) and size on disk
at several batch sizes, each a separate process, so that memory is seen to stay flat as the batch
grows.

    python bench/bench_sample.py [--lines 1000000 3000000 10000000] [--profile findings-heavy]
                                 [--partition-lines 5000000] [--keep]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def run(cmd: list[str]) -> tuple[float, float, str]:
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    out, err = p.stdout.read(), p.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {err}")
    return wall, usage.ru_maxrss / 1024, out.strip()


def size_of(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*")) if path.is_dir() else path.stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    ap.add_argument("--profile", default="realistic")
    ap.add_argument("--partition-lines", type=int)
    ap.add_argument("--chunk-lines", type=int)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--keep", action="store_true", help="keep the generated batches")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    print(f"{'lines':>13}{'wall s':>9}{'lines/s':>11}{'peak RSS MB':>13}{'MB on disk':>12}{'planted':>11}")
    for n in a.lines:
        out = a.out / (f"sample_{a.profile}_{n}" + ("" if a.partition_lines else ".parquet"))
        planted = a.out / f"sample_{a.profile}_{n}.csv"
        shutil.rmtree(out, ignore_errors=True) if out.is_dir() else out.unlink(missing_ok=True)
        cmd = [str(BIN / "claimcheck"), "sample", str(out), "--lines", str(n), "--profile", a.profile,
               "--planted", str(planted)]
        if a.partition_lines:
            cmd += ["--partition-lines", str(a.partition_lines)]
        if a.chunk_lines:
            cmd += ["--chunk-lines", str(a.chunk_lines)]
        wall, rss, _ = run(cmd)
        k = sum(1 for _ in planted.open(encoding="utf-8")) - 1
        print(f"{n:>13,}{wall:>9.1f}{n / wall:>11,.0f}{rss:>13.0f}{size_of(out) / 1e6:>12.1f}{k:>11,}", flush=True)
        if not a.keep:
            shutil.rmtree(out) if out.is_dir() else out.unlink()
            planted.unlink()


if __name__ == "__main__":
    main()
