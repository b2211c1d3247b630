"""Every shape of batch with every contract on (the user's default), as a user runs it.

    python bench/bench_profiles.py [--sizes 1000000,3000000,10000000]
        [--profiles realistic,findings-heavy,hospital,nipt-lab,art-clinic,bureau] [--repeat 1]
        [--skew 40000] [--out bench/out]

For each profile and size: a batch from `claimcheck sample --profile P` (kept in --out), then, each
a separate process timed by wall clock with its peak RSS from os.wait4 (median of --repeat):
  findings   `claimcheck check BATCH --findings F.parquet` with every bundled contract and the sample
             tables (sunshine_catalogue, art_institutions)
  json       the same with `--json R.json` (whose engine timings give the per-stage split)
  decode     DuckDB decoding and hashing every value of every line of the same file (the floor: no
             engine can judge a line it has not read)
  hand SQL   bench/handwritten.py: every contract's rules written by hand as DuckDB SQL, one
             statement, no validation or report (the baseline a competent engineer would write),
             at DuckDB's own memory limit (80% of RAM) and at claimcheck's default (512MB)
and the ratios to the floor and to the hand-written SQL. The findings counts of the two runs must
agree, and the hand-written SQL must find, rule by rule, the lines claimcheck finds (else exit 1).

The quadratic corner (--skew N): N NIPT lines of one person with an empty fetts against the
same N lines of N persons (JS-7's fallback pairs the lines of one psn_no); the ratio of the two.

"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
PROFILES = ["realistic", "findings-heavy", "hospital", "nipt-lab", "art-clinic", "bureau"]
TABLES = ["--table", "sunshine_catalogue=contracts/jiangsu-consumables/sample_catalogue.csv",
          "--table", "art_institutions=contracts/jilin-art/sample_art_institutions.csv"]
STAGES = ["survey_s", "scan_s", "counts_s", "findings_s"]


def peak_of_children() -> float:
    """Peak RSS (MB) of the last waited-for child: RUSAGE_CHILDREN's maximum only ever grows, so
    each measurement is a fresh process of this script's own (see measure())."""
    import resource
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def measure(cmd: list, repeat: int) -> tuple[float, float, str]:
    """Median wall time and peak RSS over `repeat` processes, each measured by a fresh helper."""
    runs = []
    for _ in range(repeat):
        helper = [sys.executable, __file__, "--measure-one", json.dumps([str(c) for c in cmd])]
        p = subprocess.run(helper, capture_output=True, text=True, cwd=ROOT)
        if p.returncode != 0:
            raise SystemExit(p.stderr[-2000:])
        runs.append(json.loads(p.stdout.splitlines()[-1]))
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), runs[-1][2]


def measure_one(cmd: list[str]) -> None:
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd[:4])} failed ({p.returncode}): {err.decode()[-2000:]}")
    print(json.dumps([wall, peak_of_children(), out.decode()[-4000:]]))


def make(out: Path, profile: str, lines: int) -> Path:
    path = out / f"{profile}-{lines}.parquet"
    if not path.exists():
        t0 = time.perf_counter()
        subprocess.run([BIN / "claimcheck", "sample", path, "--lines", str(lines), "--profile", profile, "--seed", "7"],
                       check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        print(f"# generated {path.name}: {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s",
              flush=True)
    return path


# every value of every column decoded and hashed (a count could be answered from the Parquet statistics)
DECODE = ("import duckdb,sys; c=duckdb.connect(); c.execute(\"SET memory_limit='512MB'\"); "
          "cols=[r[0] for r in c.sql(f\"DESCRIBE SELECT * FROM read_parquet('{sys.argv[1]}')\").fetchall()]; "
          "print(c.sql('SELECT bit_xor(hash(' + ', '.join(f'\"{x}\"' for x in cols) + ')), count(*) "
          "' + f\"FROM read_parquet('{sys.argv[1]}')\").fetchall()[0])")


def skewed(out: Path, n: int, one_person: bool) -> Path:
    """`n` Jiangsu NIPT detections with fetts empty, a day apart: of one psn_no, or each its own."""
    path = out / f"skew-{n}-{'one' if one_person else 'many'}.parquet"
    if path.exists():
        return path
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import line, table  # the tests' hand-built Jiangsu NIPT line

    rows = [line(k + 1, psn_no="0" if one_person else f"P{k:07d}", fetts=None,
                 fee_ocur_time=dt.datetime(2025, 1, 2, 9) + dt.timedelta(hours=k % 5000)) for k in range(n)]
    pq.write_table(table(rows), path)
    return path


def summary_of(report: Path) -> dict:
    """The report's summary and engine timings, read by a process of its own: findings-heavy 10M's
    JSON report is 4.2 GB, some 12 GB as Python objects, which held here squeezed every process
    measured after it (the hand SQL at DuckDB's own limit takes 80% of RAM)."""
    code = ("import json,sys; r=json.load(open(sys.argv[1], encoding='utf-8')); "
            "print(json.dumps({'summary': r['summary'], 'engine': r['engine']}))")
    p = subprocess.run([sys.executable, "-c", code, report], capture_output=True, text=True, check=True)
    return json.loads(p.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,3000000,10000000")
    ap.add_argument("--profiles", default=",".join(PROFILES))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--skew", type=int, default=40_000, help="lines of the quadratic corner (0: skip)")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--measure-one")
    a = ap.parse_args()
    if a.measure_one:
        return measure_one(json.loads(a.measure_one))
    a.out.mkdir(parents=True, exist_ok=True)
    cc = BIN / "claimcheck"
    print("| profile | lines | `--findings` s / MB | `--json` s / MB | decode floor s / MB | hand SQL s / MB | "
          "hand SQL at 512MB s / MB | findings × floor | json × floor | findings × hand SQL (own limit / 512MB) "
          "| stages (survey / scan / counts / findings s) | findings |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
    for size in [int(s) for s in a.sizes.split(",")]:
        for profile in a.profiles.split(","):
            batch = make(a.out, profile, size)
            fp, jp = a.out / f"{batch.stem}.findings.parquet", a.out / f"{batch.stem}.json"
            tf, mf, _ = measure([cc, "check", batch, *TABLES, "--findings", fp, "-q"], a.repeat)
            tj, mj, _ = measure([cc, "check", batch, *TABLES, "--json", jp, "-q"], a.repeat)
            td, md, _ = measure([sys.executable, "-c", DECODE, batch], a.repeat)
            th, mh, _ = measure([sys.executable, HERE / "handwritten.py", batch], a.repeat)
            tl, ml, _ = measure([sys.executable, HERE / "handwritten.py", batch, "--memory-limit", "512MB"], a.repeat)
            rep = summary_of(jp)
            found = rep["summary"]["findings"]
            assert pq.read_metadata(fp).num_rows == found, "the Parquet findings and the JSON report disagree"
            same = subprocess.run([sys.executable, HERE / "handwritten.py", batch, "--compare", fp],
                                  capture_output=True, text=True, cwd=ROOT)
            if same.returncode != 0:
                raise SystemExit(f"the hand-written SQL does not find what claimcheck finds on {batch.name}:\n"
                                 + same.stdout[-3000:] + same.stderr[-2000:])
            stages = " / ".join(f"{rep['engine'].get(s, 0):.1f}" for s in STAGES)
            print(f"| {profile} | {size:,} | {tf:.2f} / {mf:,.0f} | {tj:.2f} / {mj:,.0f} | {td:.2f} / {md:,.0f} | "
                  f"{th:.2f} / {mh:,.0f} | {tl:.2f} / {ml:,.0f} | {tf / td:.1f}× | {tj / td:.1f}× | "
                  f"{tf / th:.1f}× / {tf / tl:.1f}× | {stages} | {found:,} |",
                  flush=True)
    if a.skew:
        one, many = skewed(a.out, a.skew, True), skewed(a.out, a.skew, False)
        t1, m1, _ = measure([cc, "check", one, "--findings", a.out / "skew-one.findings.parquet", "-q"], a.repeat)
        t2, m2, _ = measure([cc, "check", many, "--findings", a.out / "skew-many.findings.parquet", "-q"], a.repeat)
        print(f"\nquadratic corner, {a.skew:,} NIPT lines, fetts empty: one psn_no {t1:.2f} s / {m1:,.0f} MB; "
              f"{a.skew:,} persons {t2:.2f} s / {m2:,.0f} MB; {t1 / t2:.2f}×")


if __name__ == "__main__":
    main()
