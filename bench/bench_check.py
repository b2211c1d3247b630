"""Benchmark `claimcheck check` against hand-written single-pass DuckDB SQL for the same rules.

Generates a batch (default 1,000,000 lines) with `claimcheck sample`, then runs, as separate
processes, each measured by wall time and peak RSS (os.wait4), median of --repeat runs:
  claimcheck   the full CLI: contracts, pandera validation, engine, JSON report
  handwritten  bench/handwritten.py: one DuckDB statement, no validation
and prints the ratios of the two, measured in this run, plus claimcheck's phase timings and a
findings parity check.

    python bench/bench_check.py [--lines 1000000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def measure(cmd: list[str]) -> tuple[float, float, str]:
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    out = p.stdout.read()
    err = p.stderr.read()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed ({code}): {err}")
    return wall, usage.ru_maxrss / 1024, out


def checksum(rows) -> str:
    return hashlib.sha256("\n".join("|".join(r) for r in sorted(rows)).encode()).hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    batch = a.out / f"batch_{a.lines}.parquet"
    if not batch.exists():
        t0 = time.perf_counter()
        subprocess.run([str(BIN / "claimcheck"), "sample", str(batch), "--lines", str(a.lines), "--seed", "11",
                        "--planted", str(batch.with_suffix(".expected.csv"))], check=True, stdout=subprocess.DEVNULL)
        print(f"generated {batch.name}: {batch.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")
    report = a.out / "report.json"
    runs = {"claimcheck": [], "handwritten": []}
    phases = []
    for _ in range(a.repeat):
        w, m, _ = measure([str(BIN / "claimcheck"), "check", str(batch), "--json", str(report), "--show", "0"])
        runs["claimcheck"].append((w, m))
        phases.append(json.loads(report.read_text(encoding="utf-8"))["engine"])
        w, m, out = measure([sys.executable, str(HERE / "handwritten.py"), str(batch)])
        runs["handwritten"].append((w, m))
    r = json.loads(report.read_text(encoding="utf-8"))
    ours = checksum((v["rule_id"], v["mdtrt_id"], v["feedetl_sn"]) for v in r["violations"])
    hand_n, hand_sum = out.split()[1], out.split()[3]

    med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in runs.items()}
    print(f"\nbatch: {r['summary']['lines']:,} lines, {batch.stat().st_size / 1e6:.1f} MB; "
          f"{len(r['rules'])} rules; median of {a.repeat} runs, each a separate process")
    print(f"{'':<13}{'wall s':>8}{'peak RSS MB':>13}{'findings':>10}")
    print(f"{'claimcheck':<13}{med['claimcheck'][0]:>8.2f}{med['claimcheck'][1]:>13.0f}{len(r['violations']):>10}")
    print(f"{'handwritten':<13}{med['handwritten'][0]:>8.2f}{med['handwritten'][1]:>13.0f}{hand_n:>10}")
    print(f"ratio claimcheck / handwritten: wall {med['claimcheck'][0] / med['handwritten'][0]:.2f}x, "
          f"peak RSS {med['claimcheck'][1] / med['handwritten'][1]:.2f}x")
    keys = ["contracts_s", "validate_s", "prepare_s", "scan_s", "findings_s"]
    print("claimcheck phases (median s): " +
          ", ".join(f"{k[:-2]} {statistics.median(p[k] for p in phases):.2f}" for k in keys))
    same = ours == hand_sum and int(hand_n) == len(r["violations"])
    print(f"findings parity: {'identical' if same else 'DIFFERENT'} ({ours} vs {hand_sum})")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
