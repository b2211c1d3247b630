"""Benchmark the HTML report at 100,000 findings: file size, time to write it, and in real
headless Chromium the time to load and render it and to filter its table.

    python bench/bench_html.py [--findings 100000]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from conftest import diagnosis, table  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from checks import check  # noqa: E402
from checks.report.html_out import write_html  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    pq.write_table(table([diagnosis(i, price=61.0 + i % 9) for i in range(1, a.findings + 1)]), tmp / "many.parquet")
    report = check([str(tmp / "many.parquet")])
    path = tmp / "many.html"
    t0 = time.perf_counter()
    write_html(report, path)
    written = time.perf_counter() - t0
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={tmp / 'chrome'}"]:
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    loads, filters = [], []
    try:
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            driver.get(path.as_uri())
            WebDriverWait(driver, 60).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
            loads.append(time.perf_counter() - t0)
            driver.execute_script("document.getElementById('q').value = 'M00042';"
                                  "document.getElementById('q').oninput(); ")
            time.sleep(0.4)
            filters.append(driver.execute_script("return window.__filterMs"))
    finally:
        driver.quit()
    print(f"{len(report.findings):,} findings; HTML {path.stat().st_size / 1e6:.1f} MB (table embeds the first "
          f"20,000, charts and counts cover all), written in {written:.2f} s")
    print(f"Chromium: load and render median {statistics.median(loads):.2f} s over {a.repeat} loads; "
          f"search over the embedded rows median {statistics.median(filters):.1f} ms")


if __name__ == "__main__":
    main()
