"""Benchmark the history ledger: recording and checking a 1,000,000-line batch against a
10,000,000-line ledger.

1. Settled claims: 10M lines that frequency limits count (NIPT detection and diagnosis in Jiangsu,
   ART items in Jilin, subsidised NIPT in Fuzhou), synthesised with DuckDB SQL, seeded into a
   ledger with `claimcheck history import` (timed).
2. The batch: `claimcheck sample --lines 1000000` (all five regimes).
3. As separate processes, median of --repeat runs, wall time and peak RSS:
     no ledger      claimcheck check BATCH
     dry run        claimcheck check BATCH --history LEDGER --dry-run   (counts 10M earlier lines)
     record         claimcheck check BATCH --history COPY               (counts, then records)
   each on a fresh copy of the 10M ledger where it writes, with ratios to the no-ledger run.

    python bench/bench_history.py [--ledger-lines 10000000] [--lines 1000000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from bench_check import BIN, CONTRACTS, make, measure

HERE = Path(__file__).resolve().parent

SETTLED = """
COPY (
  SELECT 'H' || lpad(CAST(i AS VARCHAR), 10, '0') AS mdtrt_id, '1' AS feedetl_sn,
         'HP' || lpad(CAST(i % {persons} AS VARCHAR), 9, '0') AS psn_no, '310' AS insutype, '51' AS med_type,
         CASE k WHEN 0 THEN '320102' WHEN 1 THEN '320102' WHEN 2 THEN '220102' ELSE '350102' END AS mdtrtarea_admvs,
         CASE k WHEN 3 THEN '350102' ELSE NULL END AS insuplc_admdvs,
         'H000000001' AS fixmedins_code,
         CASE k WHEN 0 THEN '江苏省人民医院(江苏省妇幼保健院)' WHEN 1 THEN '江苏省人民医院(江苏省妇幼保健院)'
                WHEN 2 THEN '吉林大学第一医院' ELSE '福州市第一医院' END AS fixmedins_name,
         TIMESTAMP '2025-01-02 08:00:00' + INTERVAL (i % 300) DAY AS fee_ocur_time,
         CASE k WHEN 0 THEN 'CJ30303033340301303001' WHEN 1 THEN '250700010-b'
                WHEN 2 THEN '3116000' || CAST(10 + i % 3 AS VARCHAR) ELSE 'FZNIPT0001' END AS hilist_code,
         '已结算项目' AS hilist_name, 1.0 AS cnt,
         CASE k WHEN 0 THEN 480.0 WHEN 1 THEN 60.0 WHEN 2 THEN 900.0 ELSE 1200.0 END AS pric,
         CASE k WHEN 0 THEN 480.0 WHEN 1 THEN 60.0 WHEN 2 THEN 900.0 ELSE 1200.0 END AS det_item_fee_sumamt,
         CASE k WHEN 0 THEN 333.0 WHEN 1 THEN 54.0 WHEN 2 THEN 810.0 ELSE 0.0 END AS inscp_scp_amt,
         CASE k WHEN 3 THEN 500.0 ELSE NULL END AS subsidy_amt,
         CAST(1 + (i // {persons}) AS VARCHAR) AS fetts, '02' AS chrgitm_lv, '0' AS refd_setl_flag
  FROM (SELECT i, i % 4 AS k FROM range({n}) t(i))
) TO '{out}' (FORMAT parquet, COMPRESSION zstd)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ledger-lines", type=int, default=10_000_000)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    settled = a.out / f"settled_{a.ledger_lines}.parquet"
    if not settled.exists():
        duckdb.sql(SETTLED.format(n=a.ledger_lines, persons=a.ledger_lines // 2, out=settled))
    ledger = a.out / f"ledger_{a.ledger_lines}.duckdb"
    if not ledger.exists():
        t0 = time.perf_counter()
        w, m, out = measure([str(BIN / "claimcheck"), "history", "import", str(settled), "--ledger", str(ledger)])
        print(f"history import of {a.ledger_lines:,} settled lines: {w:.1f} s, peak RSS {m:.0f} MB; "
              f"ledger {ledger.stat().st_size / 1e6:.0f} MB — {out.strip()}")
    batch = make(a.out / f"all_{a.lines}.parquet", a.lines, [])
    table = ["--table", f"sunshine_catalogue={CONTRACTS / 'jiangsu-consumables/sample_catalogue.csv'}"]
    base = [str(BIN / "claimcheck"), "check", str(batch), "--show", "0", *table]
    report = a.out / "history_report.json"
    runs = {"no ledger": [], "dry run": [], "record": []}
    engine = []
    for _ in range(a.repeat):
        runs["no ledger"].append(measure(base))
        runs["dry run"].append(measure([*base, "--history", str(ledger), "--dry-run"]))
        copy = a.out / "ledger_copy.duckdb"
        shutil.copyfile(ledger, copy)
        runs["record"].append(measure([*base, "--history", str(copy), "--json", str(report)]))
        engine.append(json.loads(report.read_text(encoding="utf-8")))
        copy.unlink()
    r = engine[-1]
    med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in runs.items()}
    print(f"\nbatch {r['summary']['lines']:,} lines, ledger {a.ledger_lines:,} lines; median of {a.repeat} runs")
    print(f"{'':<11}{'wall s':>8}{'peak RSS MB':>13}{'vs no ledger':>14}")
    for k, (w, m) in med.items():
        print(f"{k:<11}{w:>8.2f}{m:>13.0f}{w / med['no ledger'][0]:>13.2f}x")
    h = r["history"]
    print(f"recorded {h['recorded']:,} lines as batch #{h['batch_seq']} over {h['earlier_lines']:,} earlier lines; "
          f"record phase {statistics.median(e['engine']['record_s'] for e in engine):.2f} s; "
          f"findings {r['summary']['findings']:,}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
