"""The HTML report in real headless Chromium (Debian chromium + chromedriver, installed by .ci/run):
it renders, its numbers match the JSON, filtering works, hostile claim text does not execute."""
from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from checks import check
from checks.report.html_out import write_html
from checks.report.json_out import write_json
from conftest import ROOT, diagnosis, line

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and DRIVER) and not os.environ.get("CI"):
    pytest.skip("Debian chromium and chromium-driver are not installed (.ci/run installs them)",
                allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

HOSTILE = ['<img src=x onerror="window.__pwned=1">', '</script><script>window.__pwned=2</script>',
           '{{data}}"><svg onload=window.__pwned=3>', '反转\u202e院医\x1b[31m红\x00']
CAT = {"sunshine_catalogue": str(ROOT / "contracts/jiangsu-consumables/sample_catalogue.csv"),
       "art_institutions": str(ROOT / "contracts/jilin-art/sample_art_institutions.csv")}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
              "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
              f"--user-data-dir={tmp_path_factory.mktemp('chrome')}", "--window-size=1400,1800"]:
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def built(tmp_path_factory, request):
    d = tmp_path_factory.mktemp("html")
    from conftest import table
    import pyarrow.parquet as pq

    hostile = [line(900 + i, fixmedins_name=h, hilist_name=h) for i, h in enumerate(HOSTILE)]
    hostile.append(diagnosis(950, price=70.0, hilist_name=HOSTILE[0]))
    pq.write_table(table(hostile), d / "hostile.parquet")
    report = check([str(ROOT / "sample_claims"), str(d / "hostile.parquet")], tables=CAT)
    write_html(report, d / "r.html")
    write_html(report, d / "en.html", "en")
    write_json(report, d / "r.json")
    return d, json.loads((d / "r.json").read_text(encoding="utf-8"))


def open_report(browser, path, fragment=""):
    browser.get(path.as_uri() + fragment)
    WebDriverWait(browser, 30).until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1")


def matches(browser):
    time.sleep(0.3)  # the search box waits 120 ms for typing to stop
    return int(browser.find_element(By.ID, "count").get_attribute("data-matches"))


def test_it_renders_and_its_numbers_match_the_json(browser, built, tmp_path):
    d, r = built
    open_report(browser, d / "r.html")
    s = r["summary"]
    assert browser.title == "医保费用合规检查报告"
    assert browser.find_element(By.ID, "n-findings").text == f"{s['findings']:,}"
    assert browser.find_element(By.ID, "n-amount").text == f"{s['amount']:,.2f}"
    assert browser.find_element(By.ID, "n-lines").text == f"{s['lines']:,}"
    rows = browser.find_elements(By.CSS_SELECTOR, "#rules tbody tr")
    assert len(rows) == len(r["rules"])
    assert sum(int(x.text.replace(",", "")) for x in browser.find_elements(By.CSS_SELECTOR, "#rules td.findings")) \
        == s["findings"]
    assert len(browser.find_elements(By.CSS_SELECTOR, ".chart")) == 3
    assert matches(browser) == s["findings"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#findings tbody tr")) == min(100, s["findings"])
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_filters_search_and_deep_links(browser, built):
    d, r = built
    by_rule = lambda rid: sum(v["rule_id"] == rid for v in r["violations"])
    open_report(browser, d / "r.html")
    Select(browser.find_element(By.ID, "f-rule")).select_by_value("JS-8")
    assert matches(browser) == by_rule("JS-8") >= 3
    Select(browser.find_element(By.ID, "f-rule")).select_by_index(0)
    Select(browser.find_element(By.ID, "f-sev")).select_by_value("suspect")
    assert matches(browser) == r["summary"]["findings_by_severity"]["suspect"]
    Select(browser.find_element(By.ID, "f-sev")).select_by_index(0)
    box = browser.find_element(By.ID, "q")
    box.send_keys("JSNV00000059")
    assert matches(browser) == 1
    assert "JS-1-price" in browser.find_element(By.CSS_SELECTOR, "#findings tbody tr").text
    open_report(browser, d / "r.html", "#rule=JL-INST")
    assert matches(browser) == by_rule("JL-INST") == 1


def test_hostile_claim_text_is_shown_not_run(browser, built):
    d, r = built
    open_report(browser, d / "r.html")
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.find_elements(By.CSS_SELECTOR, "main img, #findings svg") == []
    box = browser.find_element(By.ID, "q")
    box.send_keys("onerror")
    assert matches(browser) >= 2
    assert HOSTILE[0] in browser.find_element(By.ID, "findings").text
    assert browser.execute_script("return window.__pwned === undefined")
    page = browser.execute_script("return document.body.innerText")
    for ch in ("\u202e", "\x1b", "\x00"):  # control and bidi characters are shown as escapes, never passed
        assert ch not in page
    assert "反转\\u202e院医\\x1b[31m红\\x00" in page
    html = (d / "r.html").read_text(encoding="utf-8")
    data = html.split('<script type="application/json" id="data">', 1)[1].split("</script>", 1)[0]
    assert not set("<>&") & set(data) and "\u202e" not in html and "\x1b" not in html


def test_english(browser, built):
    d, _ = built
    open_report(browser, d / "en.html")
    assert browser.title == "Medical-insurance claim compliance report"
    assert "money at stake" in browser.find_element(By.TAG_NAME, "body").text


def test_a_hundred_thousand_findings_are_capped_and_stay_usable(browser, tmp_path):
    from conftest import table
    import pyarrow.parquet as pq

    n = 100_000
    rows = [diagnosis(i, price=61.0 + (i % 9)) for i in range(1, n + 1)]
    pq.write_table(table(rows), tmp_path / "many.parquet")
    report = check([str(tmp_path / "many.parquet")])
    assert len(report.findings) == n
    path = tmp_path / "many.html"
    write_html(report, path)
    open_report(browser, path)
    assert "20,000" in browser.find_element(By.ID, "cap").text and "100,000" in browser.find_element(By.ID, "cap").text
    assert browser.find_element(By.ID, "n-findings").text == "100,000"
    assert matches(browser) == 20_000
    assert "(共 100,000, 表中嵌入 20,000)" in browser.find_element(By.ID, "count").text
    browser.find_element(By.ID, "q").send_keys("M00042")
    assert matches(browser) == 1
