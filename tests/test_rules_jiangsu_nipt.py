"""Each Jiangsu NIPT rule, at its boundary: the line that passes and the line that fails.

The contract is the bundled contracts/jiangsu-nipt; lines are built by tests/conftest.py:line().
"""
from __future__ import annotations

import datetime as dt

import pytest

from checks import check
from conftest import BR1, HD, diagnosis, line

# a Nantong prenatal diagnosis institution (附件1 序号15) with a class-1 price, insured in Nantong
NT_LOW = dict(mdtrtarea_admvs="320602", insuplc_admdvs="320602", fixmedins_name="南通市第一人民医院", price_class="一类")
SCREEN_480 = dict(fixmedins_name="南京市六合区妇幼保健院", code=HD)  # 附件1 序号1 partner: 480


def findings(write, rows):
    report = check([str(write(rows))])
    return sorted((f.rule_id, f.mdtrt_id, f.feedetl_sn) for f in report.findings), report


def rule_ids(write, rows):
    return sorted({f[0] for f in findings(write, rows)[0]})


CASES = [
    # (case, rows, rules that must report)
    ("clean detection at its selected price", [line()], []),
    ("JS-1-price: 0.01 above the selected price", [line(price=500.01)], ["JS-1-price"]),
    ("JS-1-code: listed institution, reagent of another row", [line(code=HD)], ["JS-1-code"]),
    ("JS-2-price: partner at the partner's price", [line(price=480.0, **SCREEN_480)], []),
    ("JS-2-price: partner 0.01 above", [line(price=480.01, **SCREEN_480)], ["JS-2-price"]),
    ("names match across full-width brackets", [line(fixmedins_name="江苏省人民医院（江苏省妇幼保健院）",
                                                     code=HD, price=480.0)], []),
    ("JS-3: detection + diagnosis = 560 in one visit",
     [line(), diagnosis(1, feedetl_sn="2")], []),
    ("JS-3: 560.01 in one visit (a self-paid extra unit)",
     [line(), diagnosis(1, feedetl_sn="2"),
      line(1, feedetl_sn="3", price=0.01, self_paid=True)], ["JS-3"]),
    ("JS-4: diagnosis at 60", [diagnosis()], []),
    ("JS-4: diagnosis at 60.01", [diagnosis(price=60.01)], ["JS-4"]),
    ("JS-4-NT: Nantong class-1 at 54", [diagnosis(price=54.0, **NT_LOW)], []),
    ("JS-4-NT: Nantong class-1 at 54.01", [diagnosis(price=54.01, **NT_LOW)], ["JS-4-NT"]),
    ("JS-4-NT: Nantong class-3 at 60 is the province's 60",
     [diagnosis(price=60.0, **{**NT_LOW, "price_class": "三类"})], []),
    ("JS-4-NT supersedes JS-4 on the same line", [diagnosis(price=61.0, **NT_LOW)], ["JS-4-NT"]),
    ("JS-5: consultation fee in the diagnosis visit",
     [diagnosis(), line(1, feedetl_sn="2", code="110200001a", price=25.0, ratio=0, chrgitm_lv="01")], ["JS-5"]),
    ("JS-5: registration fee (1101) is not a consultation fee",
     [diagnosis(), line(1, feedetl_sn="2", code="110100001", price=5.0, ratio=0, chrgitm_lv="01")], []),
    ("JS-5: consultation in another visit", [diagnosis(1), line(2, code="110200001", price=15.0, ratio=0,
                                                               chrgitm_lv="01")], []),
    ("JS-6-limit: in-limit amount exactly 370", [line(preselfpay_amt=37.0, inscp_scp_amt=333.0)], []),
    ("JS-6-limit: 370.01", [line(preselfpay_amt=37.0, inscp_scp_amt=333.01, overlmt_amt=129.99)], ["JS-6-limit"]),
    ("JS-6-limit: 370.01 where 符合政策范围金额 includes 先行自付",
     [line(preselfpay_amt=37.0, inscp_scp_amt=370.01, overlmt_amt=129.99)], ["JS-6-limit"]),
    ("JS-6-selfpay: 10% + 1 fen of rounding", [line(preselfpay_amt=37.01, inscp_scp_amt=332.99)], []),
    ("JS-6-selfpay: 2 fen above 10%", [line(preselfpay_amt=37.02, inscp_scp_amt=332.98)], ["JS-6-selfpay"]),
    ("JS-6-NT: Nantong exactly 10%", [diagnosis(price=54.0, **NT_LOW)], []),
    ("JS-6-NT: Nantong below 10%", [diagnosis(price=54.0, preselfpay_amt=5.38, inscp_scp_amt=48.62, **NT_LOW)],
     ["JS-6-NT"]),
    ("JS-6-NT: insured in Nantong, care in Nanjing, below 10%",
     [line(preselfpay_amt=18.5, inscp_scp_amt=351.5, insuplc_admdvs="320602")], ["JS-6-NT"]),
    ("JS-6-NT: insured in Nanjing, care in Nantong, below 10% is the province's 'at most'",
     [diagnosis(price=54.0, preselfpay_amt=5.38, inscp_scp_amt=48.62, **{**NT_LOW, "insuplc_admdvs": "320106"})], []),
    ("JS-6-NT-presumed: insured place empty, care in Nantong, below 10%",
     [diagnosis(price=54.0, preselfpay_amt=5.38, inscp_scp_amt=48.62, **{**NT_LOW, "insuplc_admdvs": None})],
     ["JS-6-NT-presumed"]),
    ("JS-6-class: chrgitm_lv '2' is 乙 too", [line(chrgitm_lv="2")], []),
    ("JS-6-class: class 甲", [line(chrgitm_lv="01")], ["JS-6-class"]),
    ("JS-6-setting: inpatient with fund money", [line(med_type="21")], ["JS-6-setting"]),
    ("JS-6-setting: inpatient, wholly self-paid",
     [line(med_type="21", self_paid=True)], []),
    ("JS-7: two pregnancies, one payment each", [line(1), line(2, psn_no="P00001", fetts="2")], []),
    ("JS-7: the same pregnancy paid twice", [line(1), line(2, psn_no="P00001",
                                                         fee_ocur_time=dt.datetime(2025, 4, 1))], ["JS-7-detection"]),
    ("JS-7: a refund cancels the first payment",
     [line(1), line(1, feedetl_sn="2", cnt=-1.0, price=500.0, fee_ocur_time=dt.datetime(2025, 3, 2)),
      line(2, psn_no="P00001", fee_ocur_time=dt.datetime(2025, 4, 1))], []),
    ("JS-7: diagnosis paid twice", [diagnosis(1), diagnosis(2, psn_no="P00001",
                                                          fee_ocur_time=dt.datetime(2025, 4, 1))], ["JS-7-diagnosis"]),
    ("JS-7: fetts empty, the same person paid twice within 210 days",
     [line(1, fetts=None), line(2, psn_no="P00001", fetts=None, fee_ocur_time=dt.datetime(2025, 9, 27))],
     ["JS-7-detection"]),
    # extracts write a pregnancy number they do not know as '' or blanks (a CSV reader makes it NULL)
    ("JS-7: fetts '' as a HIS extract writes it, 211 days apart: not one pregnancy",
     [line(1, fetts=""), line(2, psn_no="P00001", fetts="  ", fee_ocur_time=dt.datetime(2025, 9, 28))], []),
    ("JS-7: fetts '' within 210 days: the fallback, as for an empty field",
     [line(1, fetts=""), line(2, psn_no="P00001", fetts="", fee_ocur_time=dt.datetime(2025, 9, 27))],
     ["JS-7-detection"]),
    ("JS-7: fetts empty, 211 days apart", [line(1, fetts=None), line(2, psn_no="P00001", fetts=None,
                                                                 fee_ocur_time=dt.datetime(2025, 9, 28))], []),
    ("JS-8: institution not in 附件1 with fund money", [line(fixmedins_name="某民营医院")], ["JS-8"]),
    ("JS-8: the name without its bracketed second name", [line(fixmedins_name="江苏省人民医院", code=HD, price=480.0)], []),
    ("JS-DIAG-INST: a screening partner bills the diagnosis service",
     [diagnosis(mdtrtarea_admvs="320602", fixmedins_name="海安市人民医院")], ["JS-DIAG-INST"]),
    ("JS-6-class: a wholly self-paid detection at an unlisted hospital is not a class matter",
     [line(fixmedins_name="某民营医院", chrgitm_lv="03", self_paid=True)], []),
    ("JS-8: not in 附件1, wholly self-paid", [line(fixmedins_name="某民营医院", self_paid=True)], []),
    ("JS-W: diagnosis item on its first day", [diagnosis(fee_ocur_time=dt.datetime(2025, 1, 1, 0, 0))], []),
    ("JS-W: diagnosis item the day before", [diagnosis(fee_ocur_time=dt.datetime(2024, 12, 31, 23, 59))], ["JS-W"]),
    ("outside Jiangsu no Jiangsu price applies", [line(price=800.0, mdtrtarea_admvs="330106")], []),
    ("before 2025 the contract is not in force", [line(price=900.0, fee_ocur_time=dt.datetime(2024, 6, 1))], []),
]


@pytest.mark.parametrize("case,rows,expected", CASES, ids=[c[0] for c in CASES])
def test_rule_boundary(write, case, rows, expected):
    assert rule_ids(write, rows) == expected


def test_money_at_stake_is_the_amount_above_the_ceiling(write):
    got, report = findings(write, [line(price=520.0, cnt=2.0, preselfpay_amt=74.0, inscp_scp_amt=666.0)])
    f = next(f for f in report.findings if f.rule_id == "JS-1-price")
    assert (f.expected, f.actual, f.amount) == ("500.00", "520.00", 40.0)
    assert f.citation == "附件1 序号4"
    assert "苏医保发〔2024〕59号" in f.message


def test_second_payment_names_the_first(write):
    _, report = findings(write, [line(1), line(2, psn_no="P00001", fee_ocur_time=dt.datetime(2025, 4, 1))])
    f = report.findings[0]
    assert f.related["mdtrt_id"] == "M00001" and f.related["feedetl_sn"] == "1"
    assert f.related["fixmedins_code"] == "H32010600001"


def test_a_second_payment_found_without_fetts_names_the_first(write):
    """The fallback (fetts empty, as extracts leave it: the same person within 210 days) names the
    earlier line, its time written as every finding's is."""
    _, report = findings(write, [line(1, fetts=None),
                                 line(2, psn_no="P00001", fetts=None, fee_ocur_time=dt.datetime(2025, 9, 27))])
    [f] = [f for f in report.findings if f.rule_id == "JS-7-detection"]
    assert (f.mdtrt_id, f.severity) == ("M00002", "suspect")
    assert {k: f.related[k] for k in ("mdtrt_id", "feedetl_sn", "fee_ocur_time", "in_history")} == \
        {"mdtrt_id": "M00001", "feedetl_sn": "1", "fee_ocur_time": "2025-03-01T09:30:00", "in_history": False}


def test_group_ceiling_is_reported_once_on_the_last_line(write):
    rows = [line(), diagnosis(1, feedetl_sn="2", fee_ocur_time=dt.datetime(2025, 3, 1, 11)),
            line(1, feedetl_sn="3", price=10.0, self_paid=True)]
    got, _ = findings(write, rows)
    assert got == [("JS-3", "M00001", "2")]


def test_a_line_whose_class_is_empty_is_not_judged_never_passed(write):
    report = check([str(write([line(1, chrgitm_lv=None), line(2)]))])
    r = next(r for r in report.rules if r.rule_id == "JS-6-class")
    assert (r.status, r.lines_checked, r.lines_not_judged) == ("pass", 1, 1)
    assert "chrgitm_lv" in r.reason and "row 1" in r.reason
    report = check([str(write([line(1, chrgitm_lv=None)], "only.parquet"))])
    r = next(r for r in report.rules if r.rule_id == "JS-6-class")
    assert r.status == "error" and r.lines_not_judged == 1


def test_missing_optional_column_is_an_error_not_a_pass(write):
    rows = [{k: v for k, v in diagnosis(price=54.0, **NT_LOW).items() if k != "price_class"}]
    report = check([str(write(rows))])
    r = next(r for r in report.rules if r.rule_id == "JS-4-NT")
    assert r.status == "error" and "price_class" in r.reason
    assert next(r for r in report.rules if r.rule_id == "JS-4").status == "pass"


def test_rules_without_lines_in_scope_are_not_applicable(write):
    report = check([str(write([line()]))])
    assert next(r for r in report.rules if r.rule_id == "JS-5").status == "not_applicable"
    assert next(r for r in report.rules if r.rule_id == "JS-1-price").status == "pass"
