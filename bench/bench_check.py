"""Benchmark `claimcheck check` against hand-written single-pass DuckDB SQL for the same rules.

Part 1, the same rules: a Jiangsu NIPT batch (default 1,000,000 lines) from `claimcheck sample
--scenario jiangsu-nipt@1.0.0`, checked, as separate processes each measured by wall time and
peak RSS (os.wait4), median of --repeat runs, by
  claimcheck   the full CLI with the jiangsu-nipt contract: pandera validation, engine, JSON report
  handwritten  bench/handwritten.py: the same 16 rules as one DuckDB statement, no validation
with the ratios of the two measured in this run, claimcheck's phase timings and a findings parity
check. Part 2: every bundled contract (45 rules) over a batch of the same size covering all five
regimes, its findings compared with what the generator planted.

    python bench/bench_check.py [--lines 1000000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import csv
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
CONTRACTS = HERE.parent / "contracts"


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
    batch = make(a.out / f"nipt_{a.lines}.parquet", a.lines, ["--scenario", "jiangsu-nipt@1.0.0"])
    report = a.out / "report.json"
    runs = {"claimcheck": [], "handwritten": []}
    phases = []
    for _ in range(a.repeat):
        w, m, _ = measure([str(BIN / "claimcheck"), "check", str(batch), "--json", str(report), "--show", "0",
                           "--contracts", str(CONTRACTS / "jiangsu-nipt")])
        runs["claimcheck"].append((w, m))
        phases.append(json.loads(report.read_text(encoding="utf-8"))["engine"])
        w, m, out = measure([sys.executable, str(HERE / "handwritten.py"), str(batch), "--contracts", "jiangsu-nipt"])
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

    every = make(a.out / f"all_{a.lines}.parquet", a.lines, [])
    all_runs = []
    for _ in range(a.repeat):
        all_runs.append(measure([str(BIN / "claimcheck"), "check", str(every), "--json", str(report), "--show", "0",
                                 "--table", f"sunshine_catalogue={CONTRACTS / 'jiangsu-consumables/sample_catalogue.csv'}"]))
    r = json.loads(report.read_text(encoding="utf-8"))
    got = {(v["rule_id"], v["mdtrt_id"], v["feedetl_sn"]) for v in r["violations"]}
    with open(every.with_suffix(".expected.csv"), encoding="utf-8") as fh:
        planted = {tuple(row) for row in list(csv.reader(fh))[1:]}
    print(f"\nall five contracts: {len(r['rules'])} rules over {r['summary']['lines']:,} lines of all regimes: "
          f"wall {statistics.median(x[0] for x in all_runs):.2f} s, "
          f"peak RSS {statistics.median(x[1] for x in all_runs):.0f} MB, {len(got)} findings; "
          f"planted {len(planted)}: {'identical' if got == planted else 'DIFFERENT'}")
    if got != planted:
        raise SystemExit(1)


def make(path: Path, lines: int, extra: list[str]) -> Path:
    if not path.exists():
        t0 = time.perf_counter()
        subprocess.run([str(BIN / "claimcheck"), "sample", str(path), "--lines", str(lines), "--seed", "11",
                        "--planted", str(path.with_suffix(".expected.csv")), *extra],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"generated {path.name}: {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")
    return path


if __name__ == "__main__":
    main()
