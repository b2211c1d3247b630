"""The three targets of the findings-at-volume work, measured side by side in one run.

    python bench/bench_targets.py [--sizes 1000000,3000000,10000000] [--heavy 2000000] [--repeat 3]
                                  [--skip gx]

Every measurement is a separate process, timed by wall clock with its peak RSS from os.wait4,
the median of --repeat runs, on batches the generator makes (kept in bench/out):

1. Realistic batches (the generator's planted rate, Jiangsu NIPT scenario) of each --sizes:
   `claimcheck check --json` with the jiangsu-nipt contract, first with nothing cached (every value
   of the file checked) and then again (the survey cache keyed by the file's SHA-256), against
   bench/handwritten.py, the same rules as one hand-written DuckDB statement with no validation.
   Findings must be exactly those the generator planted (the hand-written statement, the first 16
   rules as first written, is the baseline for time). Target: within 1.5x of hand-written at 10M, peak RSS <= 1 GB and
   flat as the batch grows.
2. Findings-heavy batch (--heavy lines, over half of them findings): every output format in one
   run against the same check writing only --findings Parquet. Target: within 3x, RSS <= 2 GB.
3. Great Expectations (pandas) and pandera (pandas) on the same rules and a 1M batch
   (bench/bench_gx_pandera.py). Target: claimcheck at least 20x and 5x faster.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
CONTRACT = ROOT / "contracts" / "jiangsu-nipt"


def run(cmd: list, env: dict | None = None) -> tuple[float, float, str]:
    t0 = time.perf_counter()
    p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                         env={**os.environ, **(env or {})})
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1, 3):
        raise SystemExit(f"{' '.join(map(str, cmd[:3]))} failed ({code}): {err.decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024, out.decode()


def median(runs: list[tuple]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def make(path: Path, lines: int, *extra: str) -> Path:
    """A generated batch, with the findings planted in it beside it (PATH.planted.csv)."""
    if not path.exists() or not planted_of(path).exists():
        t0 = time.perf_counter()
        subprocess.run([str(BIN / "claimcheck"), "sample", str(path), "--lines", str(lines), "--seed", "11",
                        "--planted", str(planted_of(path)), *extra], check=True, stdout=subprocess.DEVNULL)
        print(f"generated {path.name}: {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")
    return path


def planted_of(batch: Path) -> Path:
    return batch.with_suffix(".planted.csv")


def planted(batch: Path) -> list[tuple]:
    import csv

    with open(planted_of(batch), encoding="utf-8", newline="") as f:
        return [(r["rule_id"], r["mdtrt_id"], r["feedetl_sn"]) for r in csv.DictReader(f)]


def checksum(rows) -> str:
    return hashlib.sha256("\n".join("|".join(r) for r in sorted(rows)).encode()).hexdigest()[:16]


def realistic(out: Path, sizes: list[int], repeat: int) -> list[str]:
    print("\n1. realistic batches (Jiangsu NIPT scenario), check --json vs hand-written single-pass SQL")
    print(f"{'lines':>12} {'':<24}{'wall s':>8}{'peak MB':>9}{'wall ×':>8}{'RSS ×':>7}{'findings':>10}")
    verdicts = []
    for n in sizes:
        batch = make(out / f"nipt_{n}.parquet", n, "--scenario", "jiangsu-nipt@1.0.0")
        report = out / f"nipt_{n}.json"
        check = [BIN / "claimcheck", "check", batch, "--contracts", CONTRACT, "--json", report, "-q"]
        cache = Path(tempfile.mkdtemp(prefix="bench-cache-", dir=out))
        run(check, {"CLAIMCHECK_CACHE": str(cache)})  # prime the cache for the warm runs
        cold = [run(check, {"CLAIMCHECK_CACHE": "off"}) for _ in range(repeat)]
        warm = [run(check, {"CLAIMCHECK_CACHE": str(cache)}) for _ in range(repeat)]
        hand = [run([sys.executable, HERE / "handwritten.py", batch, "--contracts", "jiangsu-nipt"]) for _ in range(repeat)]
        r = json.loads(report.read_text(encoding="utf-8"))
        ours = checksum((v["rule_id"], v["mdtrt_id"], v["feedetl_sn"]) for v in r["violations"]
                        if v["severity"] != "data_quality")
        hand_n = hand[-1][2].split()[1]
        hw, hm = median(hand)
        for name, runs in (("claimcheck (nothing cached)", cold), ("claimcheck (file proven)", warm),
                           ("hand-written SQL", hand)):
            w, m = median(runs)
            found = hand_n if runs is hand else len(r["violations"])
            print(f"{n:>12,} {name:<24}{w:>8.2f}{m:>9.0f}{w / hw:>8.2f}{m / hm:>7.2f}{found:>10}")
        expected = checksum(planted(batch))
        same = ours == expected
        print(f"{'':>12} findings {'exactly the planted ones' if same else 'NOT THE PLANTED ONES'} ({ours} vs "
              f"{expected}; the hand-written statement has the first 16 rules as first written, a baseline "
              f"for time); "
              f"claimcheck phases (last run): " + ", ".join(f"{k} {v}" for k, v in r["engine"].items()
                                                             if k.endswith("_s")))
        if not same:
            raise SystemExit(1)
        if n == max(sizes):
            cw, cm = median(cold)
            ww, wm = median(warm)
            verdicts.append(f"realistic {n:,}: cold {cw / hw:.2f}x, proven {ww / hw:.2f}x hand-written "
                            f"(target 1.5x); peak RSS {cm:.0f} MB (target 1024)")
    return verdicts


def heavy(out: Path, lines: int, repeat: int) -> list[str]:
    print(f"\n2. findings-heavy batch of {lines:,} lines: every output format vs --findings Parquet only")
    batch = make(out / f"heavy_{lines}.parquet", lines, "--profile", "findings-heavy")
    d = Path(tempfile.mkdtemp(prefix="bench-heavy-", dir=out))
    base = [BIN / "claimcheck", "check", batch, "--contracts", CONTRACT, "-q", "--show", "0"]
    only = [run([*base, "--findings", d / "f.parquet"]) for _ in range(repeat)]
    every = [run([*base, "--findings", d / "f.parquet", "--json", d / "r.json", "--sarif", d / "r.sarif",
                  "--nhsa-json", d / "r.nhsa.json", "--junit", d / "r.xml", "--html", d / "r.html", "--github"])
             for _ in range(repeat)]
    n = json.loads((d / "r.json").read_text(encoding="utf-8"))["summary"]["findings"]
    ow, om = median(only)
    ew, em = median(every)
    sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:,.0f} MB" for p in sorted(d.iterdir()))
    print(f"{'':<26}{'wall s':>8}{'peak MB':>9}")
    print(f"{'--findings only':<26}{ow:>8.2f}{om:>9.0f}")
    print(f"{'all seven formats':<26}{ew:>8.2f}{em:>9.0f}   ({n:,} findings; {sizes})")
    return [f"findings-heavy {lines:,} ({n:,} findings): all formats {ew / ow:.2f}x --findings only "
            f"(target 3x); peak RSS {em:.0f} MB (target 2048)"]


def gx_pandera(out: Path, repeat: int) -> list[str]:
    print("\n3. Great Expectations and pandera (pandas) on the same rules, 1,000,000 lines")
    p = subprocess.run([sys.executable, HERE / "bench_gx_pandera.py", "--lines", "1000000", "--repeat",
                        str(repeat), "--out", out], capture_output=True, text=True, cwd=ROOT)
    print(p.stdout.strip())
    if p.returncode:
        raise SystemExit(p.stderr[-2000:])
    return [line for line in p.stdout.splitlines() if line.startswith("targets")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,3000000,10000000")
    ap.add_argument("--heavy", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: realistic, heavy, gx")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    skip = set(filter(None, a.skip.split(",")))
    print(f"median of {a.repeat} runs, each a separate process; {os.cpu_count()} cores")
    verdicts = []
    if "realistic" not in skip:
        verdicts += realistic(a.out, [int(x) for x in a.sizes.split(",")], a.repeat)
    if "heavy" not in skip:
        verdicts += heavy(a.out, a.heavy, a.repeat)
    if "gx" not in skip:
        verdicts += gx_pandera(a.out, a.repeat)
    print("\ntargets:")
    for v in verdicts:
        print("  " + v)


if __name__ == "__main__":
    main()
