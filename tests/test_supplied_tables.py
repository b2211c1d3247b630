"""Reference tables the user supplies (--table): error without one, checked with one."""
from __future__ import annotations

import pytest

from checks import check
from checks.errors import UsageError
from conftest import ROOT, line

SAMPLE_CAT = str(ROOT / "contracts/jiangsu-consumables/sample_catalogue.csv")
STENT = dict(code="C0201010010050000003", limit=1e9, ratio=0.0, med_type="21", fixmedins_name="南京鼓楼医院")


def status(report, rule_id):
    return next(r for r in report.rules if r.rule_id == rule_id)


def test_without_the_catalogue_the_rules_are_errors_with_a_hint(write):
    report = check([str(write([line(price=590.0, **STENT)]))])
    r = status(report, "CS-1")
    assert r.status == "error" and "--table sunshine_catalogue=PATH" in r.reason and "sample_catalogue.csv" in r.reason


@pytest.mark.parametrize("price,rules", [(590.0, []), (590.01, ["CS-2"])])
def test_with_the_catalogue(write, price, rules):
    report = check([str(write([line(price=price, **STENT)]))], tables={"sunshine_catalogue": SAMPLE_CAT})
    assert [f.rule_id for f in report.findings] == rules
    assert status(report, "CS-1").status == "pass"


def test_a_user_catalogue_without_source_row_is_cited_by_file_row(write, tmp_path):
    cat = tmp_path / "my_catalogue.csv"
    cat.write_text("hilist_code,product_name,purchase_mode,region,filing_fixmedins_code,listed_price\n"
                   "C0201010010050000003,支架,联盟采购,32,,500\n",
                   encoding="utf-8")
    report = check([str(write([line(price=590.0, **STENT)]))],
                   tables={"jiangsu-consumables.sunshine_catalogue": str(cat)})
    (f,) = report.findings
    assert f.rule_id == "CS-2" and f.citation == "my_catalogue.csv row 1" and f.amount == 90.0


def test_an_unknown_table_name_lists_the_valid_ones():
    with pytest.raises(UsageError, match="valid: .*jiangsu-consumables.sunshine_catalogue"):
        check(["unused.parquet"], tables={"catalogue": SAMPLE_CAT})


def test_cli_table_option(run_cli, write):
    path = write([line(price=600.0, **STENT)])
    p = run_cli("check", path, "--table", f"sunshine_catalogue={SAMPLE_CAT}")
    assert p.returncode == 0 and "CS-2" in p.stdout  # suspect findings do not fail by default
    assert run_cli("check", path, "--table", f"sunshine_catalogue={SAMPLE_CAT}", "--fail-on", "suspect").returncode == 1
    p = run_cli("check", path, "--table", "sunshine_catalogue")
    assert p.returncode == 2 and "write NAME=PATH" in p.stderr


def test_a_nipt_reagent_line_is_not_judged_again_as_a_consumable(write):
    """One fact, one finding: the NIPT detection billed under its reagent code is a service."""
    rows = [line(price=520.0, list_type="301")]  # above 南京鼓楼医院's 500, billed under a CJ reagent code
    report = check([str(write(rows))], tables={"sunshine_catalogue": SAMPLE_CAT})
    assert [f.rule_id for f in report.findings] == ["JS-1-price"]
    assert status(report, "CS-1").lines_checked == 0 and status(report, "CS-2").lines_checked == 0
