"""Institution identity and the contract features issue 9 added: the name normalisation, the
alias table's checks, the crosswalk winning over names, refinements on optional columns, the
frequency fallback across batches, and examples that assert a finding's severity."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from checks import check
from checks.claims import normal
from checks.contract import load_contracts
from checks.contract.examples import test_version as run_examples
from checks.errors import ContractError
from checks.kinds._common import lit
from conftest import HD, ROOT, line

ART = str(ROOT / "contracts/jilin-art/sample_art_institutions.csv")


@pytest.mark.parametrize("text", [
    "江苏省人民医院（江苏省妇幼保健院）", " 江苏省人民医院 (江苏省妇幼保健院)\t", "\u3000南京 鼓楼\u00a0医院\u3000",
    "沐阳县妇幼保健院\n", "（）()", "", "A（b）c D", "\u00a0\u00a0", "苏州市第九人民医院(苏州市吴江区第一人民医院) "])
def test_the_name_normalisation_is_the_same_in_sql_and_in_python(text):
    ((sql,),) = duckdb.sql(f"SELECT {normal.name(lit(text))}").fetchall()
    assert sql == normal.name_text(text)


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_alias_must_name_an_institution_of_the_list(contracts_copy):
    aliases = contracts_copy / "jiangsu-nipt" / "institution_aliases.csv"
    aliases.write_text(aliases.read_text(encoding="utf-8") + "附件1 序号99,江苏省人民医院二院,省二院,简称,文件\n", encoding="utf-8")
    with pytest.raises(ContractError) as e:
        load_contracts(contracts_copy)
    assert e.value.file.endswith("institution_aliases.csv") and e.value.line == 23
    assert "'江苏省人民医院二院', which is not an institution of attachment1.institution" in str(e.value)


def test_an_alias_may_not_name_two_institutions_or_be_another_ones_name(contracts_copy):
    aliases = contracts_copy / "jiangsu-nipt" / "institution_aliases.csv"
    base = aliases.read_text(encoding="utf-8")
    aliases.write_text(base + "附件1 序号4,南京鼓楼医院,江苏省人民医院,错误,文件\n", encoding="utf-8")
    with pytest.raises(ContractError, match="alias '江苏省人民医院' names both"):
        load_contracts(contracts_copy)
    aliases.write_text(base + "附件1 序号4,南京鼓楼医院,南京市妇幼保健院,错误,文件\n", encoding="utf-8")
    with pytest.raises(ContractError, match="is itself an institution of attachment1.institution"):
        load_contracts(contracts_copy)


def test_a_rule_reading_institution_needs_the_institutions_block(contracts_copy):
    path = contracts_copy / "fuzhou-nipt-subsidy" / "1.1.0.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"institutions:\n(  .*\n)+", "", text, count=1), encoding="utf-8")
    with pytest.raises(ContractError, match=r"FZ-3 reads institution, but the contract does not say how"):
        load_contracts(contracts_copy)


def test_a_rule_counting_across_batches_cannot_filter_on_a_derived_column(contracts_copy):
    path = contracts_copy / "jilin-art" / "1.1.0.yaml"
    text = path.read_text(encoding="utf-8")
    jl3 = text.index("  - id: JL-3\n")
    path.write_text(text[:jl3] + text[jl3:].replace("when: inscp_scp_amt <> 0", "when: inpolicy_amt <> 0", 1),
                    encoding="utf-8")
    with pytest.raises(ContractError) as e:
        load_contracts(contracts_copy)
    assert "(JL-3) counts lines across batches" in str(e.value) and "cannot read inpolicy_amt" in str(e.value)


def test_the_crosswalk_code_wins_over_the_printed_name(write, tmp_path):
    """H32010600001 is 江苏省人民医院 (华大 reagent) in the user's crosswalk, though the line prints
    南京鼓楼医院 (附件1 序号4, 贝瑞和康 and 安诺优达 only)."""
    rows = [line(1, code=HD, price=480.0, fixmedins_code="H32010600001", fixmedins_name="南京鼓楼医院")]
    by_name = check([str(write(rows))])
    assert [(f.rule_id, f.severity) for f in by_name.findings] == [("JS-1-code", "violation")]
    cw = tmp_path / "cw.csv"
    cw.write_text("fixmedins_code,institution\nH32010600001,江苏省人民医院（江苏省妇幼保健院）\n", encoding="utf-8")
    by_code = check([str(write(rows, "again.parquet"))], tables={"institution_crosswalk": str(cw)})
    assert by_code.findings == []


def test_a_list_row_naming_an_institution_by_its_code_alone_approves_no_printed_name(tmp_path):
    """A user's approved list with a row that gives a code and no name (as an export leaves the
    name empty) approves that code only: its empty name is no name, and no line printed without
    brackets is read as that institution (the blank row made every such line approved)."""
    batch = [str(ROOT / "sample_claims/jilin-art-1.0.0.parquet")]
    listed = tmp_path / "approved.csv"
    listed.write_text(Path(ART).read_text(encoding="utf-8") + "第3行,,H22019999999\n", encoding="utf-8")
    unlisted = lambda r: sorted((f.mdtrt_id, f.feedetl_sn) for f in r.findings if f.rule_id == "JL-INST")  # noqa: E731
    want = unlisted(check(batch, tables={"art_institutions": ART}))
    assert want, "the golden batch bills ART at an unlisted institution"
    assert unlisted(check(batch, tables={"art_institutions": str(listed)})) == want


def test_aliases_hold_in_their_own_jurisdiction_only(write):
    """市一医院 is 福州市第一医院 in Fuzhou; in Jilin it is a name like any other."""
    rows = [line(1, code="311600009", price=600.0, limit=600.0, mdtrtarea_admvs="220102", fixmedins_name="市一医院",
                 fixmedins_code="H22010200077", med_type="14", fee_ocur_time=dt.datetime(2025, 3, 1, 9))]
    report = check([str(write(rows))], tables={"art_institutions": ART})
    (f,) = [f for f in report.findings if f.rule_id == "JL-INST"]
    assert f.actual.startswith("institution=市一医院（")


def test_a_refinement_on_a_column_present_but_empty_on_a_line_leaves_it_unjudged(write):
    subsidy = dict(mdtrtarea_admvs="350102", insuplc_admdvs="350102", fixmedins_name="福州市第一医院",
                   code="FJNIPT01", hilist_name="无创产前DNA检测减免补助（福州市出生缺陷防控项目）", price=1200.0,
                   fee_ocur_time=dt.datetime(2020, 6, 1, 9), brdy=dt.date(1990, 1, 1))
    rows = [line(1, serum_risk="1:500", **subsidy), line(2, serum_risk=None, **subsidy)]
    r = next(r for r in check([str(write(rows))]).rules if r.rule_id == "FZ-1-risk" and r.contract_version == "1.1.0")
    assert (r.status, r.lines_checked, r.lines_not_judged) == ("pass", 1, 1)
    assert "serum_risk" in r.reason


@pytest.mark.parametrize("days,found", [(60, [("JS-7-detection", "suspect")]), (214, [])])
def test_the_fetts_fallback_counts_earlier_batches(write, tmp_path, days, found):
    ledger = tmp_path / "ledger.duckdb"
    first = write([line(1, fetts=None)], "week1.parquet")
    second = write([line(2, psn_no="P00001", fetts=None,
                         fee_ocur_time=dt.datetime(2025, 3, 1, 9, 30) + dt.timedelta(days=days))], "week9.parquet")
    assert check([str(first)], history=ledger).findings == []
    report = check([str(second)], history=ledger)
    assert [(f.rule_id, f.severity) for f in report.findings] == found
    if found:
        assert report.findings[0].related["in_history"] is True


def test_an_example_asserts_the_severity_of_its_findings(contracts_copy):
    path = contracts_copy / "jiangsu-nipt" / "1.1.0.yaml"
    edit(path, "    - verdict: fail\n      severity: suspect\n      note: 未列入附件1的机构由医保支付",
         "    - verdict: fail\n      severity: violation\n      note: 未列入附件1的机构由医保支付")
    (nipt,) = [v for v in load_contracts(contracts_copy, use_samples=True)
               if (v.id, v.version) == ("jiangsu-nipt", "1.1.0")]
    (js8,) = [o for o in run_examples(nipt) if o.rule_id == "JS-8"]
    assert js8.problems == ["未列入附件1的机构由医保支付（名称未匹配，未提供编号对照表）: expected fail (violation), "
                            "got fail (suspect)"]


NAMES = ["无创产前DNA检测减免补助（福州市出生缺陷防控项目）", " 无创产前 DNA检测减免补助(福州市出生缺陷防控项目)\t",
         "无创产前dna检测减免补助（福州市出生缺陷防控项目）", "无创产前DNA检测减免补助", "一次性使用游离DNA采血管",
         "游离 DNA 保存管", "游离\u3000dna", "静脉采血", "采 血针", "血细胞分析", "cfDNA", "CFdna 管", "", "%", "a_b", "axb",
         "某（项）目", "某(项)目 ", "某项目", "line\nbreak采血"]
PATTERNS = [["无创产前DNA检测减免补助（福州市出生缺陷防控项目）"], ["%游离DNA%", "%cfDNA%"], ["%采血%"], ["a_b"],
            ["某(项)目"], ["%"]]


@pytest.mark.parametrize("patterns", PATTERNS, ids=[" ".join(p) for p in PATTERNS])
def test_names_match_as_the_normalised_like_would(patterns):
    """Code sets by name compare hilist_name as name() normalises it, ignoring case, with one
    regular expression instead of rewriting every line's name: both give the same answer."""
    for text in NAMES:
        like = " OR ".join(f"lower({normal.name(lit(text))}) LIKE lower({normal.name(lit(p))})" for p in patterns)
        ((want, got),) = duckdb.sql(f"SELECT {like}, {normal.name_like(lit(text), patterns)}").fetchall()
        assert got == want, (text, patterns)


@pytest.mark.parametrize("fetts,found", [(("1", None), [("JS-7-detection", "suspect")]),
                                         ((None, "1"), [("JS-7-detection", "suspect")]),
                                         (("1", "2"), []), (("1", "1"), [("JS-7-detection", "violation")])])
def test_the_fetts_fallback_pairs_a_line_with_and_a_line_without_the_pregnancy(write, fetts, found):
    """One person, two fund-paid detections 60 days apart: with one pregnancy number missing the
    fallback pairs them (suspect); with both given, the pregnancy numbers decide alone, and a
    person whose lines all carry them is never paired by the fallback."""
    rows = [line(1, psn_no="P00001", fetts=fetts[0]),
            line(2, psn_no="P00001", fetts=fetts[1], fee_ocur_time=dt.datetime(2025, 5, 1, 9, 30))]
    report = check([str(write(rows))])
    assert [(f.rule_id, f.severity) for f in report.findings] == found
