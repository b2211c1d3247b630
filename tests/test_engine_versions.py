"""Versions and effective dates: each line is judged by the version in force on its date."""
from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from checks import check
from conftest import line

VERSION = """\
contract: test-fund
version: {version}
title: 测试合同
title_en: Test contract
jurisdiction: {{name: 江西省, regions: ["36"]}}
effective_from: {start}
effective_to: {end}
documents:
  D: {{number: 测试〔2025〕1号, title: 测试文件, issuer: 测试局}}
code_sets:
  x: {{title: 项目X, codes: [X1]}}
  y: {{title: 项目Y, codes: [Y1]}}
  art: {{title: 活检, codes: ["311600008"]}}
rules:
  - id: T-CEIL
    title: 上限
    title_en: ceiling
    kind: ceiling
    severity: violation
    codes: [x]
    params: {{limit: {{value: {limit}}}}}
    source: {{document: D, section: 一, quote: 不得超过}}
  - id: T-WIN
    title: 执行期
    title_en: window
    kind: window
    severity: suspect
    codes: [y]
    params: {{from: 2025-03-01}}
    source: {{document: D, section: 二, quote: 自3月1日起}}
  - id: T-STEPS
    title: 每个胚胎加收50%，最高6000
    title_en: steps
    kind: ceiling
    severity: violation
    codes: [art]
    params: {{limit: {{steps: {{first: 1500, each_further: 750, max: 6000}}}}}}
    source: {{document: D, section: 附件, quote: 从第2个胚胎起加收50%，最高不超过6000元}}
"""


@pytest.fixture
def two_versions(tmp_path):
    d = tmp_path / "contracts" / "test-fund"
    d.mkdir(parents=True)
    (d / "1.0.0.yaml").write_text(VERSION.format(version="1.0.0", start="2025-01-01", end="2025-06-30", limit=100),
                                  encoding="utf-8")
    (d / "2.0.0.yaml").write_text(VERSION.format(version="2.0.0", start="2025-07-01", end="null", limit=80),
                                  encoding="utf-8")
    return tmp_path / "contracts"


def jx(n, code, price, date, cnt=1.0):
    return line(n, code=code, price=price, cnt=cnt, mdtrtarea_admvs="360702", fee_ocur_time=date)


def test_each_line_meets_the_version_in_force(write, two_versions):
    rows = [jx(1, "X1", 90.0, dt.datetime(2025, 5, 1)), jx(2, "X1", 90.0, dt.datetime(2025, 8, 1)),
            jx(3, "X1", 90.0, dt.datetime(2024, 8, 1))]
    report = check([str(write(rows))], two_versions)
    got = [(f.rule_id, f.contract_version, f.mdtrt_id, f.expected) for f in report.findings]
    assert got == [("T-CEIL", "2.0.0", "M00002", "80.00")]
    in_force = {c["version"]: c["lines_in_force"] for c in report.contracts if c["contract_id"] != "data-quality"}
    assert in_force == {"1.0.0": 1, "2.0.0": 1}


def test_a_window_rule_judges_lines_outside_every_version_once(write, two_versions):
    rows = [jx(1, "Y1", 10.0, dt.datetime(2024, 2, 1)), jx(2, "Y1", 10.0, dt.datetime(2025, 2, 28)),
            jx(3, "Y1", 10.0, dt.datetime(2025, 3, 1))]
    report = check([str(write(rows))], two_versions)
    assert [(f.rule_id, f.contract_version, f.mdtrt_id) for f in report.findings] == [
        ("T-WIN", "2.0.0", "M00001"), ("T-WIN", "2.0.0", "M00002")]
    old = next(r for r in report.rules if r.rule_id == "T-WIN" and r.contract_version == "1.0.0")
    assert old.status == "not_applicable" and "2.0.0" in old.reason


@pytest.mark.parametrize("cnt,total,found", [
    (1, 1500.0, False), (1, 1500.01, True), (3, 3000.0, False), (3, 3000.01, True),
    (7, 6000.0, False), (7, 6000.01, True),
])
def test_steps_first_unit_each_further_and_maximum(write, two_versions, cnt, total, found):
    rows = [jx(1, "311600008", round(total / cnt, 6), dt.datetime(2025, 8, 1), cnt=float(cnt))]
    rows[0]["det_item_fee_sumamt"] = total
    report = check([str(write(rows))], two_versions)
    assert bool(report.findings) is found
