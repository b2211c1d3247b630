"""The HTML report as a billing manager reads it, in real headless Chromium: one test per thing
the manager must be able to read, each measured in the DOM and saved as a screenshot
($CLAIMCHECK_SCREENSHOTS keeps them; otherwise a temporary folder).

Reports: the bundled sample batches with hand-built lines (a rule left without its table, lines
with an empty value a rule reads, a long institution name, hostile text), a synthetic report of
120,000 findings written by the real writer, and a real `claimcheck sample --profile
findings-heavy` batch checked by the CLI.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest

from checks import check
from checks.report.html_out import CAP, write_html
from checks.report.json_out import write_json
from conftest import ROOT, diagnosis, line, table
from html_kit import CHROMIUM, DRIVER, FEE_DATES, MONTHS, TAIL, browser, open_report, screenshots, synthetic_report

if not (CHROMIUM and DRIVER):
    pytest.skip("Debian chromium and chromium-driver are not installed (.ci/run installs them)",
                allow_module_level=True)

from selenium.webdriver.common.by import By  # noqa: E402

LONG_NAME = "南京医科大学附属妇产医院（南京市妇幼保健院）产前诊断中心江北院区"
CHECKED_AT = "2025-03-01T01:30:00+00:00"   # 09:30 in Beijing
LINES_JS = """var r = document.createRange(); r.selectNodeContents(arguments[0]);
var tops = {}; Array.prototype.forEach.call(r.getClientRects(), function (b) { tops[Math.round(b.top)] = 1; });
return Object.keys(tops).length;"""


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
    """The sample batches, hand-built lines, and no sunshine_catalogue table (so CS-1, CS-2 cannot run)."""
    d = tmp_path_factory.mktemp("sample")
    hand = [line(800, fixmedins_name=LONG_NAME, fixmedins_code="H32010200777", price=520.0),
            line(801, chrgitm_lv=None), line(802, chrgitm_lv=None),
            diagnosis(803, price=65.0, fixmedins_name="恶意\u202e医院\x1b[31m")]
    pq.write_table(table(hand), d / "hand.parquet")
    files = [ROOT / "sample_claims" / f"{n}.parquet" for n in
             ("jiangsu-nipt-1.0.0", "jiangsu-consumables-1.0.0", "fuzhou-nipt-subsidy-1.0.0")]
    report = check([str(p) for p in files] + [str(d / "hand.parquet")])
    report.engine["checked_at"] = CHECKED_AT
    write_html(report, d / "zh.html")
    write_html(report, d / "en.html", "en")
    write_json(report, d / "r.json")
    return d, report, json.loads((d / "r.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    d = tmp_path_factory.mktemp("big")
    report = synthetic_report(120_000)
    write_html(report, d / "big.html")
    return d / "big.html", report


def texts(driver, css):
    return [x.text for x in driver.find_elements(By.CSS_SELECTOR, css)]


def rule_row(driver, rule_id):
    driver.execute_script("var s = document.getElementById('f-rule'); s.value = arguments[0]; s.onchange();", rule_id)
    return driver.find_element(By.CSS_SELECTOR, "#findings tbody tr")


def search(driver, text):
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(text)
    time.sleep(0.4)  # the search box waits 120 ms for typing to stop
    return int(driver.find_element(By.ID, "count").get_attribute("data-matches"))


def shot(el, shots, name):
    el.parent.execute_script("arguments[0].scrollIntoView()", el)
    path = shots / f"{name}.png"
    assert el.screenshot(str(path)) and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def test_rule_titles_stand_beside_rule_ids_in_charts_and_tables(driver, sample, shots):
    d, report, _ = sample
    open_report(driver, d / "zh.html", width=1400)
    labels = driver.find_elements(By.CSS_SELECTOR, ".by-rule .bar-label")
    assert len(labels) == sum(1 for r in report.rules if r.findings)
    label = next(x for x in labels if x.find_element(By.CSS_SELECTOR, ".rid").text == "JS-1-price")
    assert label.text == "JS-1-price 中选产前诊断机构检测服务收费不得高于本单位中选价格"
    assert driver.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", label)
    assert "中选产前诊断机构检测服务收费不得高于" in rule_row(driver, "JS-1-price").find_element(By.CSS_SELECTOR,
                                                                                   ".c-rule").text
    rules_cell = driver.find_element(By.CSS_SELECTOR, "#rules tr[data-rule='JS-1-price'] .c-rule")
    assert "中选产前诊断机构检测服务收费不得高于" in rules_cell.text
    shot(driver.find_element(By.CSS_SELECTOR, ".by-rule"), shots, "1-rule-titles-chart")
    shot(driver.find_element(By.CSS_SELECTOR, "#findings tbody tr"), shots, "1-rule-titles-row")


@pytest.mark.parametrize("rule_id, words, source", [
    ("FZ-1-risk", "不符合「补助限血清学筛查高风险或临界风险（>1:1000）或 35 周岁及以上的孕妇」：出生日期 19", "三、(二)2(2)"),
    ("JS-8", "机构 南京和睦妇产医院", "附件3 说明"),
    ("JS-1-price", "单价 520.00 元，上限 500.00 元（附件1 序号", "附件1 序号"),
])
def test_a_finding_reads_as_words_and_opens_onto_its_policy_source_never_a_condition(driver, sample, shots, rule_id,
                                                                                     words, source):
    d, _, _ = sample
    open_report(driver, d / "zh.html", width=1400)
    row = rule_row(driver, rule_id)
    said = row.find_element(By.CSS_SELECTOR, ".words").text
    assert said.startswith(words)
    raw = row.find_element(By.CSS_SELECTOR, "details.raw")
    raw.find_element(By.TAG_NAME, "summary").click()
    assert source in raw.text and "政策依据" in raw.text
    for text in (said, raw.text):  # no function call, column=value or SQL, even when opened
        assert not re.search(r"[a-z_]+\(|[a-z_]+=| OR | IN ", text), text
    shot(row, shots, f"2-words-{rule_id}")


@pytest.mark.parametrize("width", [1024, 1400])
def test_severity_labels_stay_on_one_line(driver, sample, shots, width):
    d, _, _ = sample
    open_report(driver, d / "zh.html", width=width)
    labels = driver.find_elements(By.CSS_SELECTOR, "#findings .sev, #rules .sev")
    assert len(labels) > 40
    for el in labels:
        assert driver.execute_script(LINES_JS, el) == 1, el.text
        one = driver.execute_script("var s = getComputedStyle(arguments[0]); return parseFloat(s.lineHeight) + "
                                    "parseFloat(s.paddingTop) + parseFloat(s.paddingBottom);", el)
        assert el.size["height"] <= one + 1, (el.text, el.size, one)
    shot(driver.find_element(By.CSS_SELECTOR, "#findings tbody"), shots, f"3-severity-{width}")


def test_institution_names_are_whole_with_their_code_beside(driver, sample, shots):
    d, _, _ = sample
    open_report(driver, d / "zh.html", width=1400)
    label = next(x for x in driver.find_elements(By.CSS_SELECTOR, ".by-inst .bar-label") if "H32010200777" in x.text)
    assert label.text == f"{LONG_NAME} H32010200777"
    assert driver.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", label)
    # its one line: the unknown-institution suspect and the price above every row of 附件1 beside it
    assert search(driver, "H32010200777") == 2
    cell = driver.find_element(By.CSS_SELECTOR, "#findings tbody tr .c-inst")
    assert cell.text.replace("\n", " ") == f"{LONG_NAME} H32010200777"
    name = cell.find_element(By.CSS_SELECTOR, ".iname")
    assert driver.execute_script("return arguments[0].scrollWidth <= arguments[0].parentNode.clientWidth", name)
    assert driver.execute_script(LINES_JS, name) <= 3
    shot(driver.find_element(By.CSS_SELECTOR, ".by-inst"), shots, "4-institutions-chart")
    shot(cell.find_element(By.XPATH, ".."), shots, "4-institution-row")


def test_times_are_china_local_time_not_utc(driver, sample, shots):
    d, report, _ = sample
    open_report(driver, d / "zh.html", width=1400)
    local = dt.datetime.fromisoformat(CHECKED_AT).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert local == "2025-03-01 09:30"
    header = driver.find_element(By.ID, "generated").text
    assert f"生成于 {local}（北京时间）" in header and "T01:30" not in header and "+00:00" not in header
    times = texts(driver, "#findings tbody .c-time")
    assert times and all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", t) for t in times), times[:3]
    assert "2025-03-01 09:30" in times  # the hand-built lines were billed at 09:30 China time
    shot(driver.find_element(By.TAG_NAME, "header"), shots, "5-time-header")
    shot(driver.find_element(By.CSS_SELECTOR, "#findings tbody tr"), shots, "5-time-row")


def test_thousands_separators_everywhere(driver, big, shots):
    path, report = big
    open_report(driver, path, width=1400)
    numbers = (texts(driver, ".num") + texts(driver, "#rules td.r") + texts(driver, ".bar-val") +
               texts(driver, ".mval") + texts(driver, "#findings .c-amount") + [driver.find_element(By.ID, "count").text] +
               texts(driver, "#inputs td.r") + texts(driver, "#contracts td.r"))
    assert "120,000" in numbers and "360,000" in numbers
    bare = [t for t in numbers if re.search(r"(?<![\d,.])\d{4,}", t.replace("2025-", "").replace("2024-", ""))]
    assert bare == [], bare
    assert re.search(r"\d{1,3}(,\d{3})+\.\d{2}", driver.find_element(By.ID, "n-amount").text)
    shot(driver.find_element(By.CSS_SELECTOR, ".cards"), shots, "6-thousands-cards")
    shot(driver.find_element(By.CSS_SELECTOR, ".pager"), shots, "6-thousands-pager")


def test_months_without_findings_appear_in_the_trend(driver, big, shots):
    path, _ = big
    open_report(driver, path, width=1400)
    cols = driver.find_elements(By.CSS_SELECTOR, ".months .mcol")
    months = [c.get_attribute("data-month") for c in cols]
    assert months == ["2024-11", "2024-12", "2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    assert months[0] == FEE_DATES[0][:7] and months[-1] == FEE_DATES[1][:7]
    empty = [c.get_attribute("data-month") for c in cols if c.get_attribute("data-n") == "0"]
    assert empty == [m for m in months if m not in MONTHS]
    assert all(c.size["width"] > 20 for c in cols)
    assert texts(driver, ".months .mlbl") == months
    assert [t for t, c in zip(texts(driver, ".months .mval"), cols) if c.get_attribute("data-n") == "0"] == ["0"] * 5
    shot(driver.find_element(By.CSS_SELECTOR, ".months-wrap"), shots, "7-months")


def test_the_rules_that_could_not_judge_box_speaks_the_report_language(driver, sample, shots):
    d, report, _ = sample
    unjudged = {r.rule_id: r for r in report.rules if r.status != "error" and r.lines_not_judged}
    assert "JS-6-class" in unjudged and {"CS-1", "CS-2"} <= {r.rule_id for r in report.errors()}
    open_report(driver, d / "zh.html", width=1400)
    box = driver.find_element(By.ID, "incomplete")
    assert box.find_element(By.TAG_NAME, "h2").text == "未能运行或未能判断全部行的规则"
    items = {x.get_attribute("data-rule"): x.text for x in box.find_elements(By.TAG_NAME, "li")}
    assert set(items) == {r.rule_id for r in report.incomplete()}
    assert "未能运行" in items["CS-1"] and "参考表 sunshine_catalogue" in items["CS-1"] and "--table" in items["CS-1"]
    n = unjudged["JS-6-class"].lines_not_judged
    assert f"{n} 行未能判断" in items["JS-6-class"] and "收费项目等级（chrgitm_lv）为空" in items["JS-6-class"]
    assert "检测服务和诊断服务按乙类支付" in items["JS-6-class"]
    english = re.compile(r"could not|is empty|lines in scope|supplied by the user|not given")
    assert not [k for k, v in items.items() if english.search(v)], items
    shot(box, shots, "8-incomplete-zh")
    open_report(driver, d / "en.html", width=1400)
    box = driver.find_element(By.ID, "incomplete")
    assert box.find_element(By.TAG_NAME, "h2").text == "rules that could not run or could not judge every line"
    en = {x.get_attribute("data-rule"): x.text for x in box.find_elements(By.TAG_NAME, "li")}
    assert f"{n} lines not judged" in en["JS-6-class"] and "Detection and diagnosis" in en["JS-6-class"]
    assert "could not run" in en["CS-1"] and "--table sunshine_catalogue=PATH" in en["CS-1"] and "未能" not in en["CS-1"]
    shot(box, shots, "8-incomplete-en")


@pytest.mark.parametrize("width", [1280, 1920])
def test_the_page_uses_its_width(driver, sample, shots, width):
    d, _, _ = sample
    open_report(driver, d / "zh.html", width=width)
    inner = driver.execute_script("return document.documentElement.clientWidth")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= inner
    for css in ("main", "#findings-section", ".by-rule", "#rules"):
        w = driver.find_element(By.CSS_SELECTOR, css).size["width"]
        assert w >= 0.9 * inner, (css, w, inner)
    table = driver.find_element(By.ID, "findings").size["width"]
    assert table >= 0.9 * inner
    driver.set_window_size(width, 2400)
    shot(driver.find_element(By.TAG_NAME, "body"), shots, f"9-width-{width}")


def test_more_findings_than_embedded_say_how_to_get_the_rest_and_count_them_all(driver, big, shots):
    path, report = big
    total, money = report.table.num_rows, sum(r.amount for r in report.rules)
    open_report(driver, path, width=1400)
    cap = driver.find_element(By.ID, "cap").text
    assert "--findings" in cap and "--json" in cap and f"{total:,}" in cap and f"{CAP:,}" in cap
    assert driver.find_element(By.ID, "n-findings").text == f"{total:,}"
    assert driver.find_element(By.ID, "n-amount").text == f"{money:,.2f}"
    by_rule = driver.find_elements(By.CSS_SELECTOR, ".by-rule .bar-row[data-n]")
    assert sum(int(x.get_attribute("data-n")) for x in by_rule) == total
    assert round(sum(float(x.get_attribute("data-money")) for x in by_rule), 2) == round(money, 2)
    tail = next(x for x in driver.find_elements(By.CSS_SELECTOR, ".by-inst .bar-row[data-n]") if TAIL[0] in x.text)
    assert int(tail.get_attribute("data-n")) == 600  # every one of them past the embedded rows
    assert driver.execute_script("return JSON.parse(document.getElementById('data').textContent).rows.length") == CAP
    assert "(共 120,000, 表中嵌入 20,000)" in driver.find_element(By.ID, "count").text
    assert search(driver, TAIL[0]) == 0
    embedded = {x.get_attribute("value") for x in driver.find_elements(By.CSS_SELECTOR, "#f-rule option")}
    assert {"JS-1-price", "JS-8", "FZ-1-risk"} <= embedded
    shot(driver.find_element(By.ID, "cap"), shots, "10-cap-note")
    shot(driver.find_element(By.CSS_SELECTOR, ".by-inst"), shots, "10-institutions-from-every-finding")


def test_a_real_findings_heavy_run_embeds_what_it_can_and_points_to_the_parquet(driver, tmp_path, shots):
    exe = [str(Path(sys.executable).parent / "claimcheck")]
    batch = tmp_path / "heavy.parquet"
    subprocess.run(exe + ["sample", str(batch), "--lines", "50000", "--profile", "findings-heavy"], check=True,
                   capture_output=True)
    p = subprocess.run(exe + ["check", str(batch), "--table", f"sunshine_catalogue={ROOT}/contracts/jiangsu-consumables/"
                              "sample_catalogue.csv", "--table",
                              f"art_institutions={ROOT}/contracts/jilin-art/sample_art_institutions.csv",
                              "--html", str(tmp_path / "r.html"), "--json",
                              str(tmp_path / "r.json"), "--findings", str(tmp_path / "f.parquet"), "-q"],
                       capture_output=True, text=True)
    assert p.returncode == 1, p.stderr
    s = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["summary"]
    assert s["findings"] > CAP and pq.read_metadata(tmp_path / "f.parquet").num_rows == s["findings"]
    open_report(driver, tmp_path / "r.html", width=1400)
    assert driver.find_element(By.ID, "n-findings").text == f"{s['findings']:,}"
    assert driver.find_element(By.ID, "n-amount").text == f"{s['amount']:,.2f}"
    assert "--findings" in driver.find_element(By.ID, "cap").text
    by_rule = driver.find_elements(By.CSS_SELECTOR, ".by-rule .bar-row[data-n]")
    assert sum(int(x.get_attribute("data-n")) for x in by_rule) == s["findings"]
    shot(driver.find_element(By.CSS_SELECTOR, ".by-rule"), shots, "10-real-run-by-rule")
