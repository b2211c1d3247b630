"""What the HTML report tests and bench/bench_html.py share: headless Chromium (Debian chromium +
chromedriver) and a large synthetic report whose findings table DuckDB builds in one query, as
the engine would (no Python object per finding).

The synthetic batch: three real Jiangsu/Fuzhou rules (a ceiling, a scope, an eligibility rule,
with their contract titles), twenty institutions, fee lines from 2024-11 to 2025-06 with findings
only in 2025-01, 2025-02 and 2025-05 (the other months have none), and one institution, TAIL,
whose findings are all at the end of the table, past any embedded rows, and the most money.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from checks.contract import load_contracts
from checks.report.model import FINDING_SCHEMA, Report, RuleResult

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
TAIL = ("H32999900001", "南京医科大学附属妇产医院（南京市妇幼保健院）产前诊断中心合作采血点")
RULES = [("jiangsu-nipt", "JS-1-price", "500.00", "520.00", "附件1 序号4", 20.0),
         ("jiangsu-nipt", "JS-8", "附件1 无创产前基因检测服务价格表（每行：机构 × 检测试剂医保代码）",
          "fixmedins_name=南京和睦妇产医院", "一、执行范围；附件3 说明", 500.0),
         ("fuzhou-nipt-subsidy", "FZ-1-risk", "risk_ratio(serum_risk) > 0.001 OR age_years(brdy, fee_ocur_time) >= 35",
          "brdy=1989-03-01, fee_ocur_time=2025-05-04 09:00:00, serum_risk=1:2000", "三、(二)2(2)", 1200.0)]
MONTHS = ("2025-01", "2025-02", "2025-05")
FEE_DATES = ["2024-11-03", "2025-06-28"]


def browser(user_dir: Path, width: int = 1400, height: int = 1000):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
              "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--hide-scrollbars", f"--user-data-dir={user_dir}", f"--window-size={width},{height}"]:
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


def open_report(driver, path: Path, fragment: str = "", width: int | None = None) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    if width:
        driver.set_window_size(width, 1000)
    driver.get(path.as_uri() + fragment)
    WebDriverWait(driver, 60).until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1")


def screenshots(tmp_path_factory) -> Path:
    """Where the browser tests save their PNGs: $CLAIMCHECK_SCREENSHOTS, else a temporary folder."""
    where = os.environ.get("CLAIMCHECK_SCREENSHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        return Path(where)
    return tmp_path_factory.mktemp("screenshots")


def synthetic_report(n: int) -> Report:
    """A report of `n` findings (n >= 1,000), built as one Arrow table by DuckDB."""
    versions = {c.id: c for c in load_contracts() if c.id in ("jiangsu-nipt", "fuzhou-nipt-subsidy")}
    cases = " ".join(f"WHEN {k} THEN '{v}'" for k, v in enumerate(m for m in MONTHS))
    pick = lambda i: "CASE r " + " ".join(f"WHEN {k} THEN '{x[i]}'" for k, x in enumerate(RULES)) + " END"  # noqa: E731
    tail_from = n - max(1, n // 200)
    sql = f"""
        SELECT CASE WHEN i >= {tail_from} THEN 0 ELSE i % 3 END AS r, i FROM range({n}) t(i)"""
    sql = f"""
        SELECT {pick(1)} AS rule_id, {pick(0)} AS contract_id,
               CASE WHEN r = 2 THEN '{versions['fuzhou-nipt-subsidy'].version}' ELSE '1.0.0' END AS contract_version,
               'violation' AS severity,
               CASE r WHEN 0 THEN 'ceiling' WHEN 1 THEN 'scope' ELSE 'eligibility' END AS kind,
               printf('JSNV%08d', i) AS mdtrt_id, '0001' AS feedetl_sn, printf('P%07d', i // 2) AS psn_no,
               CASE WHEN i >= {tail_from} THEN '{TAIL[0]}' ELSE printf('H320106%05d', i % 20) END AS fixmedins_code,
               CASE WHEN i >= {tail_from} THEN '{TAIL[1]}' ELSE printf('南京市第%d人民医院', i % 20 + 1) END
                   AS fixmedins_name,
               'CJ30303033341300103001' AS hilist_code, '无创产前基因检测服务' AS hilist_name,
               printf('%s-%02dT09:30:00', CASE i % 3 {cases} END, i % 28 + 1) AS fee_ocur_time,
               'engine message ' || {pick(1)} AS message, {pick(2)} AS expected, {pick(3)} AS actual,
               CASE WHEN i >= {tail_from} THEN 10000.0 ELSE CAST({pick(5)} AS DOUBLE) END AS amount, 'batch/2025.parquet' AS file, CAST(i + 1 AS BIGINT) AS row,
               {pick(4)} AS citation, CAST(NULL AS VARCHAR) AS related, CAST(NULL AS VARCHAR) AS waiver
        FROM ({sql}) ORDER BY r, i"""
    con = duckdb.connect()
    table = con.sql(sql).to_arrow_table().cast(FINDING_SCHEMA)
    con.register("findings", table)
    per = {r: (c, a) for r, c, a in con.sql("SELECT rule_id, count(*), round(sum(amount), 2) FROM findings "
                                            "GROUP BY ALL").fetchall()}
    rules = []
    for cid, rid, *_ in RULES:
        v = versions[cid]
        rule = next(x for x in v.rules if x.id == rid)
        c, a = per[rid]
        rules.append(RuleResult(rid, cid, v.version, rule.title, rule.title_en, rule.kind, rule.severity, "fail",
                                c * 3, c, a, rule.source.as_dict()))
    contracts = [dict(v.summary(), lines_in_force=n * 3) for v in versions.values()]
    inputs = [{"file": "batch/2025.parquet", "rows": n * 3, "sha256": "0" * 64, "fee_dates": FEE_DATES}]
    return Report(contracts=contracts, inputs=inputs, lines=n * 3, rules=rules, table=table,
                  engine={"name": "duckdb", "checked_at": "2025-07-01T01:30:00+00:00"})
