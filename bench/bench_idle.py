"""What a contract whose rules match no line of the batch adds to a run (issue 17's target: ≤ 5%).

    python bench/bench_idle.py [--lines 1000000] [--repeat 3] [--out bench/out]

A Jiangsu hospital's batch: the `hospital` profile (claimcheck sample) with only its Jiangsu lines
(mdtrtarea_admvs 32…) kept. Each run a separate `claimcheck check --findings` process, timed by
wall clock, the median of --repeat:
  own        --contract jiangsu-nipt --contract jiangsu-consumables (the contracts of its region)
  every      every bundled contract (the default): Jilin, Jiangxi and Fuzhou add rules of which
             no line of the batch is in scope (engine/idle.py plans them but does not run them)
and the ratio every / own. The findings of the two must be the same lines.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
CATALOGUE = ["--table", "sunshine_catalogue=contracts/jiangsu-consumables/sample_catalogue.csv"]
INSTITUTIONS = ["--table", "art_institutions=contracts/jilin-art/sample_art_institutions.csv"]


def batch(out: Path, lines: int) -> Path:
    whole = out / f"hospital-{lines}.parquet"
    if not whole.exists():
        subprocess.run([str(BIN / "claimcheck"), "sample", str(whole), "--lines", str(lines), "--profile", "hospital"],
                       check=True, capture_output=True)
    path = out / f"hospital-jiangsu-{lines}.parquet"
    if not path.exists():
        duckdb.sql(f"COPY (SELECT * FROM read_parquet('{whole}') WHERE starts_with(mdtrtarea_admvs, '32')) "
                   f"TO '{path}' (FORMAT parquet)")
    return path


def run(path: Path, findings: Path, contracts: list[str], repeat: int) -> float:
    tables = CATALOGUE + ([] if contracts else INSTITUTIONS)  # Jilin's table only where Jilin is on
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = subprocess.run([str(BIN / "claimcheck"), "check", str(path), "--findings", str(findings), *tables,
                            *[x for c in contracts for x in ("--contract", c)]], cwd=ROOT, capture_output=True)
        times.append(time.perf_counter() - t0)
        if r.returncode not in (0, 1):
            sys.exit(f"claimcheck exited {r.returncode}: {r.stderr.decode()[-2000:]}")
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    path = batch(a.out, a.lines)
    rows = pq.read_metadata(path).num_rows
    own = run(path, a.out / "idle-own.parquet", ["jiangsu-nipt", "jiangsu-consumables"], a.repeat)
    every = run(path, a.out / "idle-every.parquet", [], a.repeat)
    key = ["contract_id", "rule_id", "mdtrt_id", "feedetl_sn", "severity", "amount"]

    def policy(name: str) -> list:
        t = pq.read_table(a.out / name, columns=key).to_pylist()
        return sorted((tuple(r.values()) for r in t if r["contract_id"] != "data-quality"), key=str)
    mine, theirs = policy("idle-own.parquet"), policy("idle-every.parquet")
    print(f"hospital, Jiangsu lines only: {rows:,} lines, median of {a.repeat}")
    print(f"  Jiangsu's two contracts  {own:7.2f} s")
    print(f"  every bundled contract   {every:7.2f} s   ({every / own:.3f}x; target <= 1.05x)")
    print(f"  findings: {len(mine):,} and {len(theirs):,} (policy rules), "
          f"{'the same lines' if mine == theirs else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
