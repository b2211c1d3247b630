"""Findings in words (checks/report/words.py), the engine's reasons in Chinese, China local time,
the month span of the trend, which findings the HTML report embeds, and what its data may hold.

The finding dicts below are written by hand the way the engine writes them (expected and actual
as each rule kind's SQL renders them), not taken from a run.
"""
from __future__ import annotations

import json

import pyarrow as pa
import pytest

from checks.report.charts import month_range, months
from checks.report.html_labels import reason
from checks.report.html_out import pick, render_html
from checks.report.words import fee_time, local_time, pairs, sentence
from html_kit import synthetic_report

ELIG = {"kind": "eligibility", "expected": "risk_ratio(serum_risk) > 0.001 OR age_years(brdy, fee_ocur_time) >= 35",
        "actual": "brdy=1989-03-01, fee_ocur_time=2019-05-04 09:00:00, serum_risk=1:2000", "citation": "三、(二)2(2)",
        "message": "不符合支付条件 risk_ratio(serum_risk) > 0.001 …"}
CASES = [
    (ELIG, "补助限血清学筛查高风险或临界风险（>1:1000）或 35 周岁及以上的孕妇",
     "不符合「补助限血清学筛查高风险或临界风险（>1:1000）或 35 周岁及以上的孕妇」：出生日期 1989-03-01，"
     "费用发生时间 2019-05-04 09:00，血清学筛查风险 1:2000（费用发生时 30 周岁）（三、(二)2(2)）",
     "does not meet “T”: date of birth 1989-03-01, fee time 2019-05-04 09:00, serum screening risk 1:2000 "
     "(aged 30 when billed) (三、(二)2(2))"),
    ({"kind": "eligibility", "expected": "chrgitm_lv IN ('02', '2')", "actual": "chrgitm_lv=03", "citation": "四、(二)"},
     "检测服务和诊断服务按乙类支付", "不符合「检测服务和诊断服务按乙类支付」：收费项目等级 03（丙类）（四、(二)）",
     "does not meet “T”: item class 03 (class C) (四、(二))"),
    ({"kind": "scope", "expected": "附件1 无创产前基因检测服务价格表", "actual": "fixmedins_name=南京和睦妇产医院",
      "citation": "一、执行范围"}, "", "机构 南京和睦妇产医院 不在「附件1 无创产前基因检测服务价格表」所列范围内（一、执行范围）",
     "institution 南京和睦妇产医院 is not listed in “附件1 无创产前基因检测服务价格表” (一、执行范围)"),
    ({"kind": "scope", "expected": "附表2", "actual": "fixmedins_name=南方医院, 赣州分院, hilist_code=QYLS00152",
      "citation": "二"}, "", "机构 南方医院, 赣州分院 与 项目编码 QYLS00152 的组合不在「附表2」所列范围内（二）",
     "institution 南方医院, 赣州分院 and item code QYLS00152 together are not listed in “附表2” (二)"),
    ({"kind": "scope", "expected": "hilist_code ∈ {CJ01, CJ02}", "actual": "fixmedins_name=海安市人民医院, hilist_code=CJ09",
      "citation": "附件1"}, "", "机构 海安市人民医院 所列项目编码为 CJ01, CJ02，实际 CJ09（附件1）",
     "institution 海安市人民医院 is listed for item code CJ01, CJ02, billed CJ09 (附件1)"),
    ({"kind": "ceiling", "expected": "500.00", "actual": "520.00", "citation": "附件1 序号4",
      "message": "单价 520.00 元超过收费上限 500.00 元（…）"}, "", "单价 520.00 元，上限 500.00 元（附件1 序号4）",
     "unit price 520.00 yuan, ceiling 500.00 yuan (附件1 序号4)"),
    ({"kind": "ceiling", "expected": "560.00", "actual": "1060.00", "citation": "四、(一)",
      "message": "合计 1060.00 元超过单次收费上限 560.00 元"}, "", "合计 1,060.00 元，上限 560.00 元（四、(一)）",
     "group total 1,060.00 yuan, ceiling 560.00 yuan (四、(一))"),
    ({"kind": "payment_limit", "expected": "5350.00", "actual": "5400.00", "citation": "附件 序号2",
      "message": "政策范围内金额 5400.00 元超过支付标准 5350.00 元"}, "",
     "政策范围内金额 5,400.00 元，支付标准 5,350.00 元（附件 序号2）",
     "in-policy amount 5,400.00 yuan, payment standard 5,350.00 yuan (附件 序号2)"),
    ({"kind": "payment_limit", "expected": "500.00", "actual": "600.00", "citation": None,
      "message": "inscp_scp_amt + preselfpay_amt = 600.00 元超过支付标准 500.00 元"}, "",
     "符合政策范围金额 + 先行自付金额 600.00 元，支付标准 500.00 元",
     "in-policy amount + self-pay-first amount 600.00 yuan, payment standard 500.00 yuan"),
    ({"kind": "selfpay", "expected": "37.00", "actual": "55.50", "citation": "附件3",
      "message": "先行自付 55.50 元，不高于 37.00 元（10%）"}, "", "先行自付 55.50 元，按 10% 应不高于 37.00 元（附件3）",
     "self-pay-first 55.50 yuan; at 10% it should be at most 37.00 yuan (附件3)"),
    ({"kind": "care_setting", "expected": "11, 51", "actual": "21", "citation": "四、(二)"}, "",
     "医疗类别 21（普通住院）不允许；允许：11（普通门诊）、51（生育门诊）（四、(二)）",
     "care category 21 (general inpatient) is not allowed; allowed: 11 (general outpatient), 51 (maternity outpatient)"
     " (四、(二))"),
    ({"kind": "exclusion", "expected": "250700010-b", "actual": "110200001", "citation": "附件2 说明"}, "",
     "同一次就诊已收取 250700010-b，不得同时收取 110200001（附件2 说明）",
     "the same visit bills 250700010-b; 110200001 may not be charged with it (附件2 说明)"),
    ({"kind": "frequency", "expected": "1 次（每 psn_no, fetts）", "actual": "2", "citation": "五、(一)2",
      "related": json.dumps({"mdtrt_id": "FZ31", "feedetl_sn": "0001", "fee_ocur_time": "2021-10-15T09:00:00",
                             "fixmedins_name": "福建省妇幼保健院"})}, "",
     "第 2 次；同一人员、胎次限 1 次；首次：就诊 FZ31/0001，2021-10-15 09:00，福建省妇幼保健院（五、(一)2）",
     "payment number 2; at most 1 per person and pregnancy number; first: visit FZ31/0001, 2021-10-15 09:00, "
     "福建省妇幼保健院 (五、(一)2)"),
    ({"kind": "frequency", "expected": "1 次（fetts 为空时：同一 psn_no 280 天内）", "actual": "2", "citation": None}, "",
     "第 2 次；胎次为空，按同一人员 280 天内限 1 次", "payment number 2; pregnancy number empty, so at most 1 per person "
     "within 280 days"),
    ({"kind": "window", "expected": "2025-01-01 … 2026-12-31", "actual": "2024-12-20", "citation": None}, "",
     "费用发生于 2024-12-20，不在执行期（2025-01-01 至 2026-12-31）内",
     "billed on 2024-12-20, outside the period in force (2025-01-01 to 2026-12-31)"),
    ({"kind": "window", "expected": "2019-01-01 … (open)", "actual": "2018-11-20", "citation": None}, "",
     "费用发生于 2018-11-20，不在执行期（2019-01-01 起）内", "billed on 2018-11-20, outside the period in force (from 2019-01-01)"),
    ({"kind": "money_identity", "expected": "T = F + O + P + I；T = F + O + I",
      "actual": "T 500.00, F 0.00, O 100.00, P 37.00, I 370.00", "citation": None}, "",
     "费用构成不平衡：明细总额 500.00；全自费 0.00 + 超限价 100.00 + 先行自付 37.00 + 符合政策范围 370.00 = 507.00，"
     "不含先行自付为 470.00，均不等于总额", None),
]


@pytest.mark.parametrize("f, title, zh, en", CASES, ids=[f"{c[0]['kind']}-{i}" for i, c in enumerate(CASES)])
def test_each_kind_reads_as_a_sentence(f, title, zh, en):
    assert sentence(f, title, "zh") == zh
    if en:
        assert sentence(f, "T", "en") == en


def test_what_cannot_be_read_falls_back_to_the_engine_message():
    odd = {"kind": "ceiling", "expected": "n/a", "actual": None, "message": "单价超过收费上限（附件1）"}
    assert sentence(dict(odd, kind="money_identity", actual="garbled"), "", "zh") == odd["message"]
    assert sentence(dict(odd, kind="some_future_kind"), "", "zh") == odd["message"]
    assert sentence({"kind": "scope", "expected": "x", "actual": "no pairs here", "message": "m"}, "", "zh") == "m"


def test_column_value_pairs_keep_values_that_hold_commas():
    assert pairs("fixmedins_name=南方医院, 赣州分院, hilist_code=Q1") == [("fixmedins_name", "南方医院, 赣州分院"),
                                                                        ("hilist_code", "Q1")]
    assert pairs("not=a column") == [] and pairs(None) == []


@pytest.mark.parametrize("iso, shown", [
    ("2025-03-01T01:30:00+00:00", "2025-03-01 09:30"), ("2025-03-01T16:05:59Z", "2025-03-02 00:05"),
    ("2025-03-01T09:30:00+08:00", "2025-03-01 09:30"), ("2024-12-31T20:00:00", "2025-01-01 04:00"),
    (None, ""), ("yesterday", "yesterday")])
def test_the_run_time_is_shown_in_china_time(iso, shown):
    assert local_time(iso) == shown


def test_fee_times_lose_the_t_and_the_seconds():
    assert fee_time("2025-03-01T09:30:59") == "2025-03-01 09:30" and fee_time(None) == ""


@pytest.mark.parametrize("engine, zh", [
    ("2 of 126 lines in scope could not be judged: chrgitm_lv (收费项目等级) is empty on 2 (e.g. a/b.parquet row 7)",
     "范围内 126 行中有 2 行未能判断：2 行的收费项目等级（chrgitm_lv）为空（例：a/b.parquet 第 7 行）"),
    ("1,200 of 5,000 lines in scope could not be judged: column fetts (胎次) is not in the claim files (1,200 lines); "
     "the in-policy amount inpolicy_amt could not be derived on 3 (money parts that add up under neither convention, "
     "see DQ-MONEY, or 全自费/超限价 empty in a file whose convention is unknown)",
     "范围内 5,000 行中有 1,200 行未能判断：费用明细文件中没有胎次（fetts）列（1,200 行）；3 行无法得出政策范围内金额"
     "（费用构成在两种口径下都不平衡，见 DQ-MONEY；或口径未知的文件中全自费/超限价为空）"),
    ("reference table 'cat' (阳光目录) is supplied by the user and was not given: pass --table cat=PATH "
     "(a sample for tests: contracts/x/cat.csv); 1,026 lines in scope were not judged",
     "参考表 cat（阳光目录）须由使用者提供，本次未提供：请加 --table cat=PATH（测试用样例：contracts/x/cat.csv）；范围内 1,026 行未判断"),
    ("column brdy (出生日期) is empty (null) on every line (9 lines)", "出生日期（brdy）列在每一行都为空（9 行）"),
    ("2 of 2 lines in scope could not be judged: the in-policy amount inpolicy_amt needs the line's money split "
     "(overlmt_amt, inscp_scp_amt absent; a 3101/3102 request carries none) on 2",
     "范围内 2 行中有 2 行未能判断：2 行无法得出政策范围内金额：缺少费用构成（overlmt_amt, inscp_scp_amt；3101/3102 请求不携带）"),
    ("something new the engine says", "something new the engine says"),
])
def test_the_engines_reasons_read_in_chinese(engine, zh):
    assert reason(engine, "zh") == zh
    assert reason(engine, "en") == engine


def test_the_trend_spans_every_month_of_the_batch():
    assert month_range("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    html = months([("2025-01", 3, 30.0)], "2024-12", "2025-02", "by month")
    assert [p.split("'")[0] for p in html.split("data-month='")[1:]] == ["2024-12", "2025-01", "2025-02"]
    assert html.count("data-n='0'") == 2
    assert months([], None, None, "x") == "<p class='muted'>—</p>"


def test_embedded_findings_take_every_rule_first_then_table_order():
    t = pa.table({"contract_id": ["c"] * 10, "contract_version": ["1"] * 10,
                  "rule_id": ["A"] * 7 + ["B"] * 2 + ["C"], "n": list(range(10))})
    assert pick(t, 5)["n"].to_pylist() == [0, 1, 7, 8, 9]
    assert pick(t, 6)["n"].to_pylist() == [0, 1, 2, 7, 8, 9]
    assert pick(t, 20).num_rows == 10


def test_embedded_data_cannot_close_its_script_or_reorder_text():
    report = synthetic_report(1_000)
    hostile = "</script><script>alert(1)</script>\u202e\x1b&"
    names = report.table["fixmedins_name"].to_pylist()
    names[0] = hostile
    report.table = report.table.set_column(report.table.schema.get_field_index("fixmedins_name"), "fixmedins_name",
                                           pa.array(names))
    html = render_html(report)
    data = html.split('id="data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data and ">" not in data and "&" not in data
    assert "\u202e" not in html and "\x1b" not in html
    rows = json.loads(data)["rows"]
    assert any(r[6] == "</script><script>alert(1)</script>\\u202e\\x1b&" for r in rows)


def test_the_batch_carries_its_first_and_last_fee_date_in_china_time(write):
    import datetime as dt

    from checks import check
    from conftest import line

    utc = dt.timezone.utc
    quiet = write([line(1, fee_ocur_time=dt.datetime(2024, 11, 30, 20, 0, tzinfo=utc)),   # 2024-12-01 04:00 in China
                   line(2, fee_ocur_time=dt.datetime(2025, 3, 1, 1, 30, tzinfo=utc), price=520.0)],
                  "utc.parquet", {"fee_ocur_time": pa.timestamp("s", tz="UTC")})
    naive = write([line(3, fee_ocur_time=dt.datetime(2025, 6, 30, 23, 59))], "naive.parquet")
    report, again = check([str(quiet), str(naive)]), check([str(quiet), str(naive)])
    assert [i["fee_dates"] for i in report.inputs] == [["2024-12-01", "2025-03-01"], ["2025-06-30", "2025-06-30"]]
    assert again.engine["survey_cached"] and again.inputs == report.inputs  # read back from the survey cache
    assert [f.fee_ocur_time for f in report.findings if f.rule_id == "JS-1-price"] == ["2025-03-01T09:30:00"]
    html = render_html(report)
    trend = [p.split("'")[0] for p in html.split("data-month='")[1:]]
    assert trend == ["2024-12", "2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]


def test_a_report_without_fee_dates_spans_the_months_of_its_findings():
    report = synthetic_report(1_000)
    for i in report.inputs:
        del i["fee_dates"]  # a JSON report written before the batch's fee dates were recorded
    html = render_html(report)
    assert [p.split("'")[0] for p in html.split("data-month='")[1:]] == ["2025-01", "2025-02", "2025-03", "2025-04",
                                                                        "2025-05"]
