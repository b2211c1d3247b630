"""Benchmark claimcheck against Great Expectations and pandera on the same rules and the same batch.

The generator's Jiangsu NIPT batch (default 1,000,000 lines, `claimcheck sample --scenario
jiangsu-nipt@1.0.0 --seed 11`) is checked in one run, by separate processes each measured by wall
time and peak RSS (os.wait4), median of --repeat runs:
  claimcheck  `claimcheck check --json --allow-incomplete` with the jiangsu-nipt contract
              (validation, engine, JSON report): its 20 rules and the built-in DQ-MONEY
  gx          the suite `claimcheck export gx` writes for jiangsu-nipt 1.0.0, run with GX 1.x on
              pandas: pyarrow reads the file, checks.export.frame.prepare computes the frame
              (claimcheck's own SQL for normalised, derived and helper columns), GX validates it
              with result_format COMPLETE; its exported rules
  pandera     bench/pandera_rules.py: every rule hand-written as a pandera DataFrameSchema (pandas)
Each process writes its findings (rule, mdtrt_id, feedetl_sn, severity); the bench prints the
ratios to claimcheck and whether the three agree on the rules each implements, and exits 1 if not.

    python bench/bench_gx_pandera.py [--lines 1000000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
CONTRACT = ROOT / "contracts" / "jiangsu-nipt"


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process; its exit code must be 0 or 1."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(map(str, cmd[:3]))} failed ({code}): {err.decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def run_gx(suite_path: str, batch: str, out: str) -> None:
    """The GX process: read the batch, compute the frame, run the exported suite, write the findings."""
    import pyarrow.parquet as pq

    sys.path.insert(0, str(ROOT))
    from checks.export.gx_run import run_suite

    suite = json.loads(Path(suite_path).read_text(encoding="utf-8"))
    result = run_suite(suite, {Path(batch).name: pq.read_table(batch)})
    if result.errors:
        raise SystemExit(f"GX expectations raised: {result.errors}")
    rows = sorted((rule, m, s, sev) for rule, lines in result.findings.items() for (_, m, s), sev in lines.items())
    Path(out).write_text("".join(f"{r},{m},{s},{v}\n" for r, m, s, v in rows), encoding="utf-8")


def read(path: Path) -> set[tuple[str, ...]]:
    return {tuple(line.split(",")) for line in path.read_text(encoding="utf-8").splitlines()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    batch = a.out / f"nipt_{a.lines}.parquet"
    if not batch.exists():
        subprocess.run([str(BIN / "claimcheck"), "sample", batch, "--lines", str(a.lines), "--seed", "11",
                        "--scenario", "jiangsu-nipt@1.0.0"], check=True, stdout=subprocess.DEVNULL)
    gx_dir = a.out / "gx"
    subprocess.run([str(BIN / "claimcheck"), "export", "gx", "--out", gx_dir, "--contracts", CONTRACT],
                   check=True, stdout=subprocess.DEVNULL)
    suite = gx_dir / "jiangsu-nipt-1.0.0.json"
    meta = json.loads(suite.read_text(encoding="utf-8"))["meta"]["claimcheck"]
    exported = set(meta["exported_rules"])
    report, gx_out, pandera_out = a.out / "report.json", a.out / "gx_findings.csv", a.out / "pandera_findings.csv"
    cmds = {
        "claimcheck": [str(BIN / "claimcheck"), "check", str(batch), "--json", str(report), "--show", "0",
                       "--allow-incomplete", "--contracts", str(CONTRACT), "--contract", "jiangsu-nipt@1.0.0"],
        "gx": [sys.executable, str(HERE / "bench_gx_pandera.py"), "--run-gx", str(suite), str(batch), str(gx_out)],
        "pandera": [sys.executable, str(HERE / "pandera_rules.py"), str(batch), str(pandera_out)],
    }
    runs = {k: [] for k in cmds}
    for _ in range(a.repeat):
        for name, cmd in cmds.items():
            runs[name].append(run(cmd))
    med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in runs.items()}

    r = json.loads(report.read_text(encoding="utf-8"))
    ours = {(v["rule_id"], v["mdtrt_id"], v["feedetl_sn"], v["severity"]) for v in r["violations"]}
    found = {"claimcheck": ours, "gx": read(gx_out), "pandera": read(pandera_out)}
    every = {x["rule_id"] for x in r["rules"]}
    sys.path.insert(0, str(HERE))
    from pandera_rules import COUNT_RULES, GROUP_RULES, ROW_RULES
    hand = {k.split("/")[0] for k in (*ROW_RULES, *GROUP_RULES, *COUNT_RULES)}
    rules = {"claimcheck": every, "gx": exported, "pandera": every & hand}
    print(f"\nbatch: {r['summary']['lines']:,} lines, {batch.stat().st_size / 1e6:.1f} MB; "
          f"median of {a.repeat} runs, each a separate process")
    print(f"{'':<12}{'rules':>6}{'wall s':>9}{'peak RSS MB':>13}{'findings':>10}{'wall ×':>9}{'RSS ×':>8}")
    for name in cmds:
        w, m = med[name]
        print(f"{name:<12}{len(rules[name]):>6}{w:>9.2f}{m:>13.0f}{len(found[name]):>10}"
              f"{w / med['claimcheck'][0]:>9.1f}{m / med['claimcheck'][1]:>8.1f}")
    ok = True
    for name in ("gx", "pandera"):
        mine = {f for f in ours if f[0] in rules[name]}
        same = found[name] == mine
        ok &= same
        print(f"{name} vs claimcheck on its {len(rules[name])} rules ({', '.join(sorted(rules[name]))}): "
              + (f"identical findings ({len(mine)}, severities included)" if same else
                 f"DIFFERENT: only {name} {sorted(found[name] - mine)[:5]}, "
                 f"only claimcheck {sorted(mine - found[name])[:5]}"))
    print(f"not in the GX suite (not exportable): {', '.join(sorted(every - exported))}")
    print(f"not in pandera: {', '.join(sorted(every - hand)) or 'none'}")
    print(f"targets (issue 11): GX/claimcheck ≥ 20: {med['gx'][0] / med['claimcheck'][0]:.1f}; "
          f"pandera/claimcheck ≥ 5: {med['pandera'][0] / med['claimcheck'][0]:.1f}")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--run-gx":
        run_gx(*sys.argv[2:])
    else:
        main()
