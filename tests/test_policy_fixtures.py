"""Issue 9, line by line, on claim files written by hand as other systems write them.

The batches in tests/fixtures/policy/ are not made by claimcheck's generator: upper-case column
names (an Oracle-based hospital system's export) or the national names, institution names as
hospitals print them (without the bracketed second name, full-width brackets, the 附件1 misprint,
a trailing space, a short name), cells left empty where extracts leave them empty, codes and
class levels written as numbers, and both money conventions (符合政策范围金额 with and without
先行自付). Each test states every finding it expects: rule, line and severity, nothing else.
"""
from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from checks import check

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "policy"
CATALOGUE = str(ROOT / "contracts/jiangsu-consumables/sample_catalogue.csv")
ART = str(ROOT / "contracts/jilin-art/sample_art_institutions.csv")
CROSSWALK = str(FIXTURES / "institution_crosswalk.csv")


@pytest.fixture
def batch(tmp_path):
    """batch('x.csv', ...) -> Parquet paths, converted the way a user would (types inferred, empty = null)."""
    def _batch(*names):
        out = []
        for name in names:
            table = pacsv.read_csv(FIXTURES / name, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
            path = tmp_path / name.replace(".csv", ".parquet")
            pq.write_table(table, path)
            out.append(str(path))
        return out
    return _batch


def found(report) -> set[tuple[str, str, str, str]]:
    return {(f.rule_id, f.mdtrt_id, f.feedetl_sn, f.severity) for f in report.findings}


def status(report, rule_id, version="1.1.0"):
    return next(r for r in report.rules if r.rule_id == rule_id and r.contract_version == version)


JIANGSU_A = {
    # the same pregnancy, fetts left empty, paid twice a month apart: suspect (210-day fallback)
    ("JS-7-detection", "JA06", "1", "suspect"),
    # a screening partner (附件1 序号3) bills the diagnosis service
    ("JS-DIAG-INST", "JA07", "1", "suspect"),
    # an unlisted hospital paid by the fund; no crosswalk, so the name alone cannot prove it
    ("JS-8", "JA09", "1", "suspect"),
    # a short name nothing lists, paid by the fund: the same, until the crosswalk says who it is
    ("JS-8", "JA18", "1", "suspect"),
    # a cfDNA tube and a lone blood draw beside the detection whose price includes sampling
    ("JS-SAMPLE", "JA10", "2", "suspect"),
    ("JS-SAMPLE-draw", "JA11", "2", "suspect"),
    # insured in Nantong, cared for in Nantong, 5% self-pay-first instead of 10%
    ("JS-6-NT", "JA13", "1", "violation"),
    # insured place left empty, cared for in Nantong: presumed Nantong's 10%
    ("JS-6-NT-presumed", "JA14", "1", "suspect"),
    # 附件1 序号21 prints no price; 500 is inferred: 520 is above any price of 附件1
    ("JS-2-price", "JA16", "1", "violation"),
}


def test_jiangsu_institutions_samples_and_the_place_of_insurance(batch):
    """Lines passing as they should: the name without its bracketed second name (JA01), the real
    沭阳 with a trailing space and the misprinted 沐阳 (JA02, JA03), 吴中 billing 序号11's reagent
    (JA04), a wholly self-paid detection at an unlisted hospital with class 丙 (JA08), a blood draw
    in a visit with another blood test (JA12), Nanjing-insured care in Nantong at 5% (JA15), 江滨
    billing 序号23's reagent (JA17)."""
    report = check(batch("jiangsu_nipt_his_a.csv"), tables={"sunshine_catalogue": CATALOGUE})
    assert found(report) == JIANGSU_A
    assert not report.incomplete()
    (f,) = [f for f in report.findings if f.mdtrt_id == "JA09"]
    assert "机构名称“某民营医院”未匹配所列机构及其别名；未提供机构编号对照表" in f.message
    (f,) = [f for f in report.findings if f.mdtrt_id == "JA13"]
    assert (f.expected, f.actual, f.amount) == ("37.00", "18.50", 18.5)
    (f,) = [f for f in report.findings if f.mdtrt_id == "JA06"]
    assert f.related["mdtrt_id"] == "JA05" and "210 天内" in f.message


def test_the_crosswalk_wins_over_names_and_makes_unknown_codes_violations(batch):
    report = check(batch("jiangsu_nipt_his_a.csv"),
                   tables={"sunshine_catalogue": CATALOGUE, "institution_crosswalk": CROSSWALK})
    want = (JIANGSU_A - {("JS-8", "JA09", "1", "suspect"), ("JS-8", "JA18", "1", "suspect")}
            | {("JS-8", "JA09", "1", "violation")})  # JA18 省人医 is H32010600001: 江苏省人民医院
    assert found(report) == want
    (f,) = [f for f in report.findings if f.mdtrt_id == "JA09"]
    assert "编号 H32010599999 不在 institution_crosswalk，名称“某民营医院”亦未匹配" in f.message


def test_one_crosswalk_feeds_every_contract_that_declares_it(batch):
    report = check(batch("jiangxi_rmc_his.csv"), tables={"institution_crosswalk": CROSSWALK})
    (f,) = [f for f in report.findings if f.rule_id == "JX-1"]  # 赣南医学院第一附属医院 is not in it either
    assert f.severity == "violation" and "不在 institution_crosswalk" in f.message


def test_both_money_conventions_give_the_same_verdicts(batch):
    """File B's system puts 先行自付 inside 符合政策范围金额 (370 + 37 of a 480 detection)."""
    report = check(batch("jiangsu_nipt_his_b.csv"), tables={"sunshine_catalogue": CATALOGUE})
    assert found(report) == {   # feedetl_sn '0001' is read back as the number 1, as extracts do
        ("JS-6-NT", "JB03", "1", "violation"),          # 18.5 of 370, as JA13 in the other convention
        ("JS-7-detection", "JB05", "1", "violation"),   # the same pregnancy (fetts 1) paid twice
        ("JS-7-detection", "JB06", "1", "violation"),   # one line of cnt 2: twice, whatever fetts says
        ("JS-3", "JB06", "1", "violation"),             # and 960 charged in one visit, above 560
    }
    assert report.inputs[0]["money_convention"] == "incl"
    (f,) = [f for f in report.findings if f.mdtrt_id == "JB06" and f.rule_id == "JS-7-detection"]
    assert f.amount == 480.0  # the second unit's share of the line, not the whole line
    both = check(batch("jiangsu_nipt_his_a.csv", "jiangsu_nipt_his_b.csv"), tables={"sunshine_catalogue": CATALOGUE})
    assert {x[1] for x in found(both) if x[0] == "JS-6-NT"} == {"JA13", "JB03"}


def test_jiangxi_base_and_add_on_pairs(batch):
    report = check(batch("jiangxi_rmc_his.csv"))
    assert found(report) == {
        ("JX-3-base-units", "XA01", "1", "suspect"),           # the base billed for two vertebrae
        ("JX-3-addon", "XA02", "1", "violation"),              # the per-vertebra add-on alone
        ("JX-3-addon-fluorescence", "XA04", "1", "suspect"),   # fluorescence add-on, no operation
        ("JX-1", "XA07", "1", "suspect"),                      # a hospital that applied for nothing
    }
    (f,) = [f for f in report.findings if f.rule_id == "JX-3-base-units"]
    assert f.amount == 4623.81
    # 赣州市人民医院 is 南方医院赣州医院 (XA06), printed together with it too (XA08); the base with its
    # add-on in one visit (XA03) and the debridement add-on after a debridement (XA05) pass
    assert status(report, "JX-1").lines_checked == 8


def test_jilin_per_time_items_and_the_approved_institutions(batch):
    report = check(batch("jilin_art_his.csv"), tables={"art_institutions": ART})
    assert found(report) == {
        ("JL-3", "JL01", "1", "violation"),   # 人工授精 cnt 2: the second time (JL-1 on it is the same fact)
        ("JL-3", "JL02", "1", "violation"),   # 胚胎移植 cnt 3
        ("JL-INST", "JL04", "1", "violation"),
        ("JL-PGT", "JL05", "1", "suspect"),   # Z82.7 is a family history, not an indication
    }
    amounts = {f.mdtrt_id: f.amount for f in report.findings if f.rule_id == "JL-3"}
    assert amounts == {"JL01": 600.0, "JL02": 5600.0}
    without = check(batch("jilin_art_his.csv"))
    r = status(without, "JL-INST")
    assert r.status == "error" and "--table art_institutions=PATH" in r.reason


def test_fuzhou_on_a_national_extract_without_the_subsidy_columns(batch):
    report = check(batch("fuzhou_national.csv"))
    assert found(report) == {
        ("FZ-1-insured", "FA02", "1", "violation"),   # insured in Xiamen
        ("FZ-1-age", "FA03", "1", "suspect"),         # 35 the day after the test, no serum risk on the line
        ("FZ-3", "FA04", "1", "suspect"),             # 福建医科大学附属第一医院 is not 福州市第一医院
        ("FZ-7", "FA06", "1", "suspect"),             # fetts empty, 30 days after the first subsidy
    }
    # the refinements on columns a national extract lacks do not apply, and nothing is left unjudged
    for rid in ("FZ-1-risk", "FZ-2", "FZ-2-poor", "FZ-4"):
        r = status(report, rid)
        assert r.status == "not_applicable" and "refinement" in r.reason, (rid, r.reason)
    assert not report.incomplete()
    assert status(report, "FZ-3").lines_checked == 6  # FA07 is another item, not the subsidy


def test_consumables_by_city_and_by_filing_institution(batch):
    report = check(batch("consumables_his.csv"), tables={"sunshine_catalogue": CATALOGUE})
    assert found(report) == {
        ("CS-1", "CA01", "1", "suspect"),        # listed for Nanjing (3201) only, used in Nantong
        ("CS-1-filed", "CA02", "1", "suspect"),  # filed by 南京鼓楼医院, used by another hospital
    }


# how the engine finds those lines (engine/plan.py, companions_in_scan): kept by the first scan as a
# small batch, as a large one with few of them, or added by a second scan as a large one with many
COMPANION_PATHS = {"small batch": (100_000, 0.0), "few of them": (0, 1.0), "second scan": (0, 0.0)}


@pytest.mark.parametrize("path", list(COMPANION_PATHS))
def test_a_fee_read_only_beside_another_is_judged_only_in_the_visits_that_bill_it(batch, monkeypatch, path):
    """JS-5 (no consultation fee beside the NIPT diagnosis report) and JS-SAMPLE (no sampling
    service beside the detection) read their lines only in a visit that bills the other item. The
    consultation fee printed with its grade in full-width brackets beside the report (JC01) and
    the specimen-forwarding fee beside the detection (JC06) are found; a consultation fee alone
    (JC02), one in the person's next visit (JC04) and a forwarding fee alone (JC07) are neither
    found nor counted as lines checked."""
    from checks.engine import plan
    below, share = COMPANION_PATHS[path]
    monkeypatch.setattr(plan, "COMPANIONS_IN_SCAN_BELOW", below)
    monkeypatch.setattr(plan, "COMPANIONS_IN_SCAN_SHARE", share)
    report = check(batch("jiangsu_nipt_companions_his.csv"), tables={"sunshine_catalogue": CATALOGUE})
    assert found(report) == {("JS-5", "JC01", "2", "violation"), ("JS-SAMPLE", "JC06", "2", "suspect")}
    assert status(report, "JS-5").lines_checked == 1
    assert status(report, "JS-SAMPLE").lines_checked == 1
    (f,) = [f for f in report.findings if f.rule_id == "JS-5"]
    assert f.expected == "250700010-b" and f.amount == 25.0
