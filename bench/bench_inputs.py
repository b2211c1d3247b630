"""In-memory input against the file path: the same batch as a pyarrow Table and as a Parquet file.

A pipeline that already holds its batch in memory (a pyarrow Table from its extractor) calls
`checks.check(table)`; before, it had to write a Parquet file and pass its path. Measured in one
process, alternating, median of --repeat runs, with the survey cache off (a file's values proven
before are not scanned again, which data in memory never has):
  file          checks.check([path])                     the engine reads the Parquet file
  table         checks.check(table)                      from SPOOL_FROM lines spooled to Parquet
  registered    the same, with spooling turned off         the Table registered with DuckDB as it is
  decode+table  pq.read_table(path), then checks.check   what a caller holding the file pays
  stream        checks.check(RecordBatchReader)          spooled to a temporary Parquet file
The target: `table` no slower than `file` plus the decode (pq.read_table alone, measured too).
Findings must be the same in every mode.

    python bench/bench_inputs.py [--lines 1000000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_check import make  # noqa: E402


def main() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    import checks

    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    path = make(a.out / f"all_{a.lines}.parquet", a.lines, [])
    tables = {"sunshine_catalogue": str(HERE.parent / "contracts/jiangsu-consumables/sample_catalogue.csv"),
              "art_institutions": str(HERE.parent / "contracts/jilin-art/sample_art_institutions.csv")}
    from checks.contract import load_contracts
    contracts = load_contracts(None, tables)
    table = pq.read_table(path)

    def findings(report):
        t = report.table
        return sorted(zip(*(t[c].to_pylist() for c in ("rule_id", "mdtrt_id", "feedetl_sn"))))

    from checks.claims import source

    def registered():
        keep, source.SPOOL_FROM = source.SPOOL_FROM, sys.maxsize
        try:
            return checks.check(table, contracts=contracts, cache=False)
        finally:
            source.SPOOL_FROM = keep

    modes = {
        "file": lambda: checks.check([str(path)], contracts=contracts, cache=False),
        "table": lambda: checks.check(table, contracts=contracts, cache=False),
        "registered": registered,
        "decode+table": lambda: checks.check(pq.read_table(path), contracts=contracts, cache=False),
        "stream": lambda: checks.check(pa.RecordBatchReader.from_batches(table.schema, table.to_batches()),
                                       contracts=contracts, cache=False),
        "decode only": lambda: pq.read_table(path),
    }
    times = {m: [] for m in modes}
    seen = {}
    for _ in range(a.repeat):
        for m, fn in modes.items():
            t0 = time.perf_counter()
            out = fn()
            times[m].append(time.perf_counter() - t0)
            if m != "decode only":
                seen[m] = findings(out)
    base = statistics.median(times["file"])
    print(f"{a.lines:,} lines, {path.stat().st_size / 1e6:.1f} MB Parquet, {table.nbytes / 1e6:.0f} MB in Arrow; "
          f"median of {a.repeat}")
    for m, ts in times.items():
        med = statistics.median(ts)
        print(f"  {m:<13} {med:7.2f} s   {med / base:5.2f}x file")
    same = len({tuple(v) for v in seen.values()}) == 1
    print(f"findings: {len(seen['file']):,} in every mode: {'same' if same else 'DIFFERENT'}")
    decode = statistics.median(times["decode only"])
    target = statistics.median(times["table"]) <= base + decode
    print(f"table <= file + decode ({base:.2f} + {decode:.2f} s): {'yes' if target else 'NO'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
