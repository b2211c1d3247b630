"""The HTML report as a manager acts on it, in real headless Chromium, with screenshots kept
($CLAIMCHECK_SCREENSHOTS, else a temporary folder):

- a one-sentence conclusion (money, visits, the three rules that account for most) and a next step;
- money split into violation / suspect / waived, on the cards and in every subtotal;
- subtotals by rule, institution and month from every finding, not the embedded ones, and each
  row, chart bar and month column filters the findings table when clicked;
- sortable columns, labelled filters, a CSV export of the rows filtered;
- printed on A4 landscape nothing is cut, and at 390 px (a phone) nothing needs a sideways scroll.
"""
from __future__ import annotations

import base64
import csv
import io
import urllib.parse

import pyarrow.compute as pc
import pytest

from checks import check
from checks.report.html_out import write_html
from conftest import ROOT
from html_kit import CHROMIUM, DRIVER, TAIL, browser, open_report, screenshots, synthetic_report

if not (CHROMIUM and DRIVER):
    pytest.skip("Debian chromium and chromium-driver are not installed (.ci/run installs them)",
                allow_module_level=True)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.print_page_options import PrintOptions  # noqa: E402

CAT = {"sunshine_catalogue": str(ROOT / "contracts/jiangsu-consumables/sample_catalogue.csv"),
       "art_institutions": str(ROOT / "contracts/jilin-art/sample_art_institutions.csv")}
A4_LANDSCAPE_PX = round((297 - 2 * 9) / 25.4 * 96)  # the printable width at 96 px an inch, 9 mm margins


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    d = browser(tmp_path_factory.mktemp("chrome"))
    yield d
    d.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return screenshots(tmp_path_factory)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """All sample batches, one JS-1-price finding waived."""
    d = tmp_path_factory.mktemp("sample")
    waivers = d / "w.yaml"
    waivers.write_text("waivers:\n  - {id: W-1, rule: JS-1-price, match: {mdtrt_id: JSNV00000059}, reason: 已确认, "
                       "owner: 医保办, expires: 2099-12-31}\n", encoding="utf-8")
    report = check([str(ROOT / "sample_claims")], tables=CAT, waivers=waivers)
    assert report.summary()["waived"] == 1
    write_html(report, d / "zh.html")
    write_html(report, d / "en.html", "en")
    return d, report


def num(text: str) -> float:
    return float(text.replace(",", ""))


def money_by(report, severity=None, waived=False):
    t = report.table
    mask = pc.is_valid(t["waiver"]) if waived else pc.and_(pc.is_null(t["waiver"]),
                                                           pc.equal(pc.cast(t["severity"], "string"), severity))
    return round(pc.sum(t.filter(mask)["amount"]).as_py() or 0.0, 2)


def test_the_conclusion_says_money_visits_the_top_rules_and_what_to_do(driver, sample, shots):
    d, report = sample
    open_report(driver, d / "zh.html")
    said = driver.find_element(By.CSS_SELECTOR, "#conclusion .said").text
    at_stake = money_by(report, "violation") + money_by(report, "suspect")
    visits = pc.count_distinct(report.active["mdtrt_id"]).as_py()
    assert f"{visits:,} 次就诊" in said and f"涉及 {at_stake:,.2f} 元" in said
    per = {}
    for f in report.findings:
        per[f.rule_id] = per.get(f.rule_id, 0) + f.amount
    top = sorted(per, key=lambda r: -per[r])[:3]
    titles = {r.rule_id: r.title for r in report.rules}
    assert [said.index(f"「{titles[r]}」") for r in top] == sorted(said.index(f"「{titles[r]}」") for r in top)
    assert driver.find_element(By.CSS_SELECTOR, "#conclusion .next").text.startswith("下一步：")
    shot = shots / "manager-1-conclusion.png"
    assert driver.find_element(By.ID, "conclusion").screenshot(str(shot))


def test_money_is_split_into_violation_suspect_and_waived(driver, sample):
    d, report = sample
    open_report(driver, d / "en.html")
    got = {k: num(driver.find_element(By.ID, f"m-{k}").text) for k in ("violation", "suspect", "waived")}
    assert got == {"violation": money_by(report, "violation"), "suspect": money_by(report, "suspect"),
                   "waived": money_by(report, waived=True)}
    assert got["waived"] == 20.0
    row = driver.find_element(By.CSS_SELECTOR, "#sub-rule tr[data-v='JS-1-price']")
    cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
    assert num(cells[-1]) == 20.0  # the waived money of the rule, in its own column


def test_subtotals_count_every_finding_not_the_embedded_ones(driver, tmp_path, shots):
    report = synthetic_report(30_000)
    write_html(report, tmp_path / "big.html")
    open_report(driver, tmp_path / "big.html")
    row = driver.find_element(By.CSS_SELECTOR, f"#sub-inst tr[data-v='{TAIL[0]}']")
    cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
    tail = 30_000 // 200
    assert num(cells[1]) == tail and num(cells[2]) == tail * 10_000.0
    months = {r.get_attribute("data-v"): num(r.find_elements(By.TAG_NAME, "td")[1].text)
              for r in driver.find_elements(By.CSS_SELECTOR, "#sub-month tr[data-f]")}
    assert sum(months.values()) == 30_000 and set(months) == {"2025-01", "2025-02", "2025-05"}


def test_a_click_on_a_subtotal_a_bar_or_a_month_filters_the_table(driver, sample, shots):
    d, report = sample
    open_report(driver, d / "zh.html")
    driver.find_element(By.CSS_SELECTOR, "#sub-rule tr[data-v='JL-class']").click()
    assert driver.find_element(By.ID, "f-rule").get_attribute("value") == "JL-class"
    rules = {x.text for x in driver.find_elements(By.CSS_SELECTOR, "#findings tbody .c-rule .rid")}
    assert rules == {"JL-class"}
    driver.find_element(By.ID, "clear").click()
    bar = driver.find_element(By.CSS_SELECTOR, ".by-inst .bar-row[data-f='inst']")
    code = bar.get_attribute("data-v")
    driver.execute_script("arguments[0].scrollIntoView()", bar)
    bar.click()
    shown = [x.text for x in driver.find_elements(By.CSS_SELECTOR, "#findings tbody .c-inst .code")]
    assert shown and set(shown) == {code}
    assert int(driver.find_element(By.ID, "count").get_attribute("data-matches")) == \
        sum(1 for f in report.findings if f.fixmedins_code == code)
    driver.find_element(By.ID, "clear").click()
    col = next(c for c in driver.find_elements(By.CSS_SELECTOR, ".mcol") if c.get_attribute("data-n") != "0")
    month = col.get_attribute("data-month")
    driver.execute_script("arguments[0].scrollIntoView(); arguments[0].click()", col)
    times = [x.text for x in driver.find_elements(By.CSS_SELECTOR, "#findings tbody .c-time")]
    assert times and all(t.startswith(month) for t in times)
    assert month in driver.current_url


def test_columns_sort_and_filters_are_labelled(driver, sample):
    d, report = sample
    open_report(driver, d / "en.html")
    for f in ("q", "f-rule", "f-sev", "f-inst", "f-month"):
        label = driver.find_element(By.CSS_SELECTOR, f"label[for='{f}']")
        assert label.text.split("\n")[0].strip()
    rule_option = driver.find_element(By.CSS_SELECTOR, "#f-rule option[value='JL-class']").text
    assert "ART items are paid as class B" in rule_option  # the rule's title, not its slug alone
    head = driver.find_element(By.CSS_SELECTOR, "#findings th.c-amount")
    head.click()
    amounts = [num(x.text) for x in driver.find_elements(By.CSS_SELECTOR, "#findings tbody .c-amount")]
    assert amounts == sorted(amounts, reverse=True) and head.get_attribute("aria-sort") == "descending"
    head.click()
    amounts = [num(x.text) for x in driver.find_elements(By.CSS_SELECTOR, "#findings tbody .c-amount")]
    assert amounts == sorted(amounts)


def test_the_csv_export_holds_the_rows_filtered_with_a_bom(driver, sample):
    d, report = sample
    open_report(driver, d / "zh.html")
    driver.execute_script("var s = document.getElementById('f-rule'); s.value = 'JL-3'; s.onchange();")
    link = driver.find_element(By.ID, "export")
    driver.execute_script("arguments[0].onclick.call(arguments[0])", link)
    href = link.get_attribute("href")
    assert href.startswith("data:text/csv;charset=utf-8,")
    text = urllib.parse.unquote(href.split(",", 1)[1])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert len(rows) - 1 == sum(1 for f in report.findings if f.rule_id == "JL-3") and rows[1][0] == "JL-3"
    assert rows[1][1] == "明确违规" and "第 2 次" in rows[1][10]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_printed_on_a4_landscape_nothing_is_cut(driver, sample, shots, lang, tmp_path):
    d, _ = sample
    open_report(driver, d / f"{lang}.html", width=A4_LANDSCAPE_PX)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        width = driver.execute_script("return document.documentElement.clientWidth")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width
        cut = driver.execute_script("""
            var w = document.documentElement.clientWidth, out = [];
            document.querySelectorAll('td, th, .bar-row, .mcol, .card').forEach(function (x) {
              var b = x.getBoundingClientRect();
              if (b.width && (b.right > w + 1 || b.left < -1)) out.push(x.className + ' ' + x.textContent.slice(0, 40));
            });
            document.querySelectorAll('.scroll, .months-wrap').forEach(function (x) {
              if (x.scrollWidth > x.clientWidth + 1) out.push('scrolls: ' + x.className);
            });
            return out;""")
        assert cut == []
        assert not driver.find_element(By.CSS_SELECTOR, ".filters").is_displayed()
        driver.set_window_size(A4_LANDSCAPE_PX, 2400)
        assert driver.find_element(By.TAG_NAME, "body").screenshot(str(shots / f"manager-print-a4-{lang}.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    opts = PrintOptions()
    opts.orientation, opts.page_width, opts.page_height = "landscape", 21.0, 29.7
    pdf = base64.b64decode(driver.print_page(opts))
    assert pdf[:5] == b"%PDF-"
    (shots / f"manager-print-a4-{lang}.pdf").write_bytes(pdf)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_phone_at_390_px_reads_without_a_sideways_scroll(driver, sample, shots, lang):
    d, _ = sample
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        open_report(driver, d / f"{lang}.html")
        assert driver.execute_script("return document.documentElement.clientWidth") == 390
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
        out = driver.execute_script("""
            var out = [];
            document.querySelectorAll('#conclusion, .card, #findings tbody td, #sub-rule td, .bar-row').forEach(function (x) {
              var b = x.getBoundingClientRect(); if (b.width && b.right > 391) out.push(x.className + ' ' + x.textContent.slice(0, 30));
            });
            return out;""")
        assert out == []
        amount = driver.find_element(By.CSS_SELECTOR, "#findings tbody tr .c-amount")
        assert amount.is_displayed() and amount.rect["x"] + amount.rect["width"] <= 390
        for css, name in (("#conclusion", "conclusion"), (".cards", "cards"), ("#findings-section", "findings")):
            el = driver.find_element(By.CSS_SELECTOR, css)
            driver.execute_script("arguments[0].scrollIntoView()", el)
            assert el.screenshot(str(shots / f"manager-phone-390-{lang}-{name}.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_one_language_per_report_in_what_the_report_itself_says(driver, tmp_path):
    """The report's own prose (conclusion, cards, subtotals, filters, an expired waiver) is in its
    language; Chinese in an English report is the claims' and the documents' own text, marked so."""
    import re

    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - {id: W-OLD, rule: JS-1-price, match: {mdtrt_id: JSNV00000059}, reason: 已确认, "
                       "owner: 医保办, expires: 2025-01-31}\n", encoding="utf-8")
    report = check([str(ROOT / "sample_claims/jiangsu-nipt-1.0.0.parquet")], ROOT / "contracts/jiangsu-nipt",
                   waivers=waivers)
    cjk = re.compile(r"[\u4e00-\u9fff]")
    ours = "#conclusion, .card .lbl, #subtotals h2, #subtotals h3, #subtotals th, #clear, #export"
    for lang in ("zh", "en"):
        write_html(report, tmp_path / f"{lang}.html", lang)
        open_report(driver, tmp_path / f"{lang}.html")
        expired = driver.find_element(By.XPATH, "//li[b[text()='W-OLD']]").text
        if lang == "zh":
            assert "已于 2025-01-31 过期" in expired and "expired" not in expired
        else:
            assert "expired on 2025-01-31" in expired and not cjk.search(expired.split("):", 1)[1])
            texts = [x.text for x in driver.find_elements(By.CSS_SELECTOR, ours)] + [
                x.text.split("\n")[0] for x in driver.find_elements(By.CSS_SELECTOR, ".filters label")]
            prose = [re.sub(r"“[^”]*”", "", t) for t in texts]  # rule titles are quoted, as the contract gives them
            assert texts and [t for t in prose if cjk.search(t)] == []
            notes = driver.find_elements(By.CSS_SELECTOR, "#rules ul[lang='zh-CN']")
            assert notes, "the contract's Chinese notes are marked as Chinese"
