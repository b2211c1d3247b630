"""Benchmark the HTML report at scale: file size, time to write it, and in real headless Chromium
the time to load and render it and to search its table.

    python bench/bench_html.py [--findings 100000 1000000] [--real 200000] [--repeat 5]

Each size is a synthetic findings table built by DuckDB (tests/html_kit.py: three real rules,
twenty institutions, eight fee months), written by the real writer; counts, charts and money
cover every finding, the table embeds the first CAP (every rule represented). With --real N,
also a `claimcheck sample --profile findings-heavy` batch of N lines checked by the library
(every contract, every rule kind's sentences).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from html_kit import browser, open_report, synthetic_report  # noqa: E402

from checks.report.html_out import CAP, write_html  # noqa: E402


def real_report(lines: int, tmp: Path):
    from checks import check

    batch = tmp / "heavy.parquet"
    subprocess.run([str(Path(sys.executable).parent / "claimcheck"), "sample", str(batch), "--lines", str(lines),
                    "--profile", "findings-heavy"], check=True, capture_output=True)
    cat = HERE.parent / "contracts/jiangsu-consumables/sample_catalogue.csv"
    return check([str(batch)], tables={"sunshine_catalogue": str(cat)})


def measure(report, repeat: int, tmp: Path, driver) -> dict:
    n = report.table.num_rows
    path = tmp / f"report-{n}.html"
    writes = []
    for _ in range(3):
        t0 = time.perf_counter()
        write_html(report, path)
        writes.append(time.perf_counter() - t0)
    loads, searches = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        open_report(driver, path)
        loads.append(time.perf_counter() - t0)
        driver.execute_script("document.getElementById('q').value = 'JSNV00000042';"
                              "document.getElementById('q').oninput();")
        time.sleep(0.4)
        searches.append(driver.execute_script("return window.__filterMs"))
    return {"findings": n, "mb": path.stat().st_size / 1e6, "write_s": statistics.median(writes),
            "load_s": statistics.median(loads), "search_ms": statistics.median(searches)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--real", type=int, default=0, help="also a real findings-heavy batch of this many lines")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    driver = browser(tmp / "chrome")
    try:
        rows = [dict(measure(synthetic_report(n), a.repeat, tmp, driver), what="synthetic") for n in a.findings]
        if a.real:
            rows.append(dict(measure(real_report(a.real, tmp), a.repeat, tmp, driver), what=f"real {a.real:,} lines"))
    finally:
        driver.quit()
    print(f"HTML report (table embeds {CAP:,}; counts, charts and money from every finding); medians: "
          f"write of 3, Chromium load+render and search of {a.repeat}")
    print(f"{'batch':<20} {'findings':>10} {'file MB':>8} {'write s':>8} {'load s':>7} {'search ms':>10}")
    for r in rows:
        print(f"{r['what']:<20} {r['findings']:>10,} {r['mb']:>8.1f} {r['write_s']:>8.2f} {r['load_s']:>7.2f} "
              f"{r['search_ms']:>10.1f}")


if __name__ == "__main__":
    main()
