"""Issue 20, policy fidelity third pass: names as people type them, prices whatever the
institution, the rules that were still missing.

tests/fixtures/policy/names_his_a.csv and names_his_b.csv are written by hand as a hospital
system's Oracle export writes them (upper-case national column names, empty cells where the
extract has nothing), one line per point of the issue, the same lines in both money conventions
(B puts 先行自付 inside 符合政策范围金额). Institutions appear as hospitals print them: `A（B）`,
`B（A）`, 【】 brackets, cut off by a field length (file B's visit ids end in B); the Fuzhou subsidy line with full-width ＤＮＡ,
the other word order, 【】 brackets, cut off, or under another name with a subsidy amount.
"""
from __future__ import annotations

import duckdb
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from checks import check
from checks.claims import normal
from checks.contract import load_contracts
from checks.errors import ContractError
from checks.kinds._common import lit
from conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "policy"
TABLES = {"sunshine_catalogue": str(ROOT / "contracts/jiangsu-consumables/sample_catalogue.csv"),
          "art_institutions": str(ROOT / "contracts/jilin-art/sample_art_institutions.csv")}

# every finding the hand-written lines must give, nothing else: (rule, visit, severity)
EXPECTED = {
    # NA01 镇江市第四人民医院（镇江市妇幼保健院）: the listed B(A) printed A(B) — no finding
    # NA02 南京鼓楼医院【…附属鼓楼医院】: listed A with its registered name in 【】, 520 above its 500
    ("JS-1-price", "NA02", "violation"),
    # NA03 江苏大学附属医院镇江市江: cut at 12 characters, a partner charging 510 above 500
    ("JS-2-price", "NA03", "violation"),
    # NA04 an unknown institution at 520, above every price 附件1 gives the code: a certain violation,
    # the unknown institution reported beside it (JS-8, suspect without the crosswalk)
    ("JS-PRICE-ANY", "NA04", "violation"),
    ("JS-8", "NA04", "suspect"),
    # NA05 the same institution at 500: only the institution is in doubt
    ("JS-8", "NA05", "suspect"),
    # NA06 南京鼓楼医院集团宿迁医院 is itself listed (序号24, 500): never read as 南京鼓楼医院
    ("JS-2-price", "NA06", "violation"),
    # FN01 full-width ＤＮＡ, the other word order, 【】: a subsidy to a Xiamen-insured woman
    ("FZ-1-insured", "FN01", "violation"),
    # FN02 the subsidy name cut off by the HIS field: the same
    ("FZ-1-insured", "FN02", "violation"),
    # FN03 another name, but a subsidy of 600 is paid: a subsidy line, above the 500 cap
    ("FZ-2", "FN03", "violation"),
    # FN04 that name with no subsidy: not a subsidy line, whoever is insured where
    # FN05/FN06 the same pregnancy subsidised twice, at 福建省妇幼保健院 printed with its second
    # name in either order (FZ-3 recognises both)
    ("FZ-7", "FN06", "violation"),
    # FN07 settled as maternity outpatient (51), not as an ordinary outpatient visit: two readings
    ("FZ-5", "FN07", "suspect"),
    # CN01 Nanjing priced at Suzhou's 120 (Nanjing's row: the province's 100); CN02 Suzhou at 120 passes
    ("CS-2", "CN01", "suspect"),
    # CN03 the product withdrawn on 2024-12-31, used in 2025: its own finding, not "not listed";
    # CN04 the same before the withdrawal passes
    ("CS-W", "CN03", "suspect"),
    # CN05 listed for Nanjing only, used in Nantong at 1900: not listed here, and above every row
    ("CS-1", "CN05", "suspect"),
    ("CS-2-ANY", "CN05", "suspect"),
    # XN01 blood ketone under 250102012 at 12 yuan (附件1 序号78: 9.2); XN02 urine ketone passes
    ("JX-5-ketone", "XN01", "violation"),
    # LN01 maternity insurance (510) with 先行自付; LN02 employee insurance (310) passes
    ("JL-MAT-PRESELF", "LN01", "violation"),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = {}
    for name in ("names_his_a", "names_his_b"):
        table = pacsv.read_csv(FIXTURES / f"{name}.csv", convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
        path = tmp_path_factory.mktemp(name) / f"{name}.parquet"
        pq.write_table(table, path)
        out[name] = check([str(path)], tables=TABLES)
    return out


def visit(f) -> str:
    return f.mdtrt_id.removesuffix("B")  # file B's visits are file A's with a B: one batch may hold both


def found(report):
    return {(f.rule_id, visit(f), f.severity) for f in report.findings}


def by(report, rule_id, visit_id):
    (f,) = [f for f in report.findings if f.rule_id == rule_id and visit(f) == visit_id]
    return f


@pytest.mark.parametrize("name,convention", [("names_his_a", "excl"), ("names_his_b", "incl")])
def test_every_point_gives_its_finding_in_both_money_conventions(reports, name, convention):
    report = reports[name]
    assert report.inputs[0]["money_convention"] == convention
    assert found(report) == EXPECTED


def test_a_finding_says_which_name_was_read_as_which_institution(reports):
    report = reports["names_his_a"]
    assert ("机构名称“南京鼓楼医院【南京大学医学院附属鼓楼医院】”按括注名称认定为 南京鼓楼医院"
            in by(report, "JS-1-price", "NA02").message)
    assert ("机构名称“江苏大学附属医院镇江市江”（12 字，疑为字段长度截断）按前缀认定为 江苏大学附属医院镇江市江滨医院"
            in by(report, "JS-2-price", "NA03").message)
    sq = by(report, "JS-2-price", "NA06")
    assert "附件1 序号24" in sq.message and "认定" not in sq.message  # its own name, matched exactly


def test_a_price_above_every_row_is_a_violation_with_the_unknown_institution_beside_it(reports):
    f = by(reports["names_his_a"], "JS-PRICE-ANY", "NA04")
    assert (f.expected, f.actual, f.amount) == ("500.00", "520.00", 20.0)
    assert "机构名称“某民营医院”未匹配所列机构及其别名" in f.message


def test_a_subsidy_line_known_by_a_cut_name_or_by_its_amount_says_so(reports):
    report = reports["names_his_b"]
    assert ("项目名称“无创产前DNA检测减免补助（福州市出生”按无创产前DNA检测减免补助（福州市出生缺陷防控项目）认定"
            in by(report, "FZ-1-insured", "FN02").message)
    assert "项目名称“无创产前基因检测”按" in by(report, "FZ-2", "FN03").message
    assert "认定" not in by(report, "FZ-1-insured", "FN01").message  # a listed name once normalised


def test_the_region_pair_and_the_withdrawn_product(reports):
    report = reports["names_his_a"]
    f = by(report, "CS-2", "CN01")
    assert (f.expected, f.actual) == ("100.00", "120.00") and "样例目录 第6行" in f.message
    assert not [f for f in report.findings if visit(f) in ("CN02", "CN04")]
    assert "CS-1" not in {f.rule_id for f in report.findings if visit(f) == "CN03"}


# -- the normaliser ----------------------------------------------------------------------------
@pytest.mark.parametrize("text,want", [
    ("无创产前ＤＮＡ检测减免补助【福州市出生缺陷防控项目】", "无创产前DNA检测减免补助(福州市出生缺陷防控项目)"),
    ("镇江市第四人民医院〔镇江市妇幼保健院〕", "镇江市第四人民医院(镇江市妇幼保健院)"),
    ("  南京 鼓楼·医院［本部］\t", "南京鼓楼医院(本部)"), ("c-反应蛋白、测定", "C反应蛋白测定"),
    ("ｃｆＤＮＡ　管", "CFDNA管"), ("a_b%", "A_B%")])
def test_one_normalisation_folds_width_unifies_brackets_and_drops_punctuation(text, want):
    ((sql,),) = duckdb.sql(f"SELECT {normal.name(lit(text))}").fetchall()
    assert sql == normal.name_text(text) == want


@pytest.mark.parametrize("text,match", [
    ("无创产前DNA检测减免补助（福州市出生缺陷防控项目）", True), ("无创产前ＤＮＡ检测减免补助【福州", True),
    ("无创产前DNA检测减免", True), ("无创产前DNA检测减", False), ("无创产前DNA检测", False),
    ("无创产前DNA检测减免补助（厦门", False)])
def test_a_name_cut_by_a_field_length_matches_from_the_given_length_on(text, match):
    rx = normal.name_cut(lit(text), ["无创产前DNA检测减免补助（福州市出生缺陷防控项目）"], 11)
    ((got,),) = duckdb.sql(f"SELECT {rx}").fetchall()
    assert got is match


# -- the alias policy ---------------------------------------------------------------------------
def test_every_bundled_alias_carries_an_allowed_source():
    for version in load_contracts(ROOT / "contracts"):
        inst = version.institutions
        if inst and inst.aliases and "source" in version.tables[inst.aliases].columns:  # published before sources
            rows = version.tables[inst.aliases].data.to_pylist()
            assert rows and all(r["source"] in ("文件", "登记名称", "行政区划", "公开来源") for r in rows)


def test_an_alias_without_an_allowed_source_is_refused(contracts_copy):
    aliases = contracts_copy / "jiangxi-rmc" / "institution_aliases.csv"
    aliases.write_text(aliases.read_text(encoding="utf-8") + "附表2 序号4 等,南方医院赣州医院,赣州南方,网上看到,网传\n",
                       encoding="utf-8")
    with pytest.raises(ContractError) as e:
        load_contracts(contracts_copy)
    assert e.value.file.endswith("institution_aliases.csv") and e.value.line == 8
    assert "alias '赣州南方' has source '网传'; an alias comes from one of 文件, 登记名称, 行政区划, 公开来源" in str(e.value)


def test_a_users_catalogue_without_validity_dates_is_valid_at_any_date(tmp_path):
    """The format documented before validity dates existed still loads: every row valid."""
    old = tmp_path / "catalogue.csv"
    old.write_text("hilist_code,product_name,purchase_mode,region,filing_fixmedins_code,listed_price\n"
                   "C0401020010010000007,椎间融合器,阳光挂网,32,,3000.00\n", encoding="utf-8")
    table = pacsv.read_csv(FIXTURES / "names_his_a.csv", convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    path = tmp_path / "cn03.parquet"
    pq.write_table(table.filter(pc.equal(table["MDTRT_ID"], "CN03")), path)
    report = check([str(path)], tables={"sunshine_catalogue": str(old)})
    assert [f.mdtrt_id for f in report.findings] == []  # CN03 is listed, and no row says it was withdrawn


@pytest.mark.parametrize("name", ["names_his_a", "names_his_b"])
def test_a_consumable_under_a_local_code_is_counted_as_not_judged_by_every_consumables_rule(reports, name):
    """CN06, 一次性使用无菌导尿管 under the hospital's own code HC0012345: no consumables rule can
    judge it, and each says so in its count and its reason instead of passing it over."""
    rules = {r.rule_id: r for r in reports[name].rules if r.contract_id == "jiangsu-consumables"}
    assert set(rules) == {"CS-1", "CS-1-filed", "CS-2", "CS-2-ANY", "CS-W"}
    for r in rules.values():
        assert r.lines_not_judged == 1, r.rule_id
        assert "not judged: local code — 1 lines look like this rule's items" in r.reason, r.rule_id
    assert "CN06" not in {visit(f) for f in reports[name].findings}
