"""Rules no line of the batch can concern are planned but not run (engine/idle.py), and the
report is exactly what it would be had they run: the same findings, the same status, counts and
reason for every rule. The batches are written as hospital and bureau extracts write them: a
local code for a consumable, an item known only by a name printed with full-width letters and
brackets, an amount column that only some lines fill, regions padded with spaces.
"""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute  # noqa: F401
import pyarrow.parquet as pq
import pytest

import checks.engine.plan as engine_plan
from checks import check
from checks.engine.idle import billed, without_items
from conftest import line
from test_engine_pinned import GOLDEN, TABLES

ran: list = []


@pytest.fixture
def engine_results(monkeypatch):
    """Every EngineResult of the checks run in the test, in order."""
    ran.clear()
    real = engine_plan.run_on

    def keep(*a, **k):
        result = real(*a, **k)
        ran.append(result)
        return result
    monkeypatch.setattr("checks.engine.duckdb.run.run_on", keep)
    return ran


def without_pruning(monkeypatch):
    contracts_billed = lambda con, contracts, lines_select: {c.key for c in contracts}  # noqa: E731
    monkeypatch.setattr("checks.engine.idle.billed", contracts_billed)
    monkeypatch.setattr("checks.engine.idle.without_items", lambda *a, **k: set())


def outcome(report):
    rules = [(r.contract_id, r.contract_version, r.rule_id, r.status, r.lines_checked, r.lines_not_judged,
              r.findings, r.amount, r.reason) for r in report.rules]
    found = sorted((f.rule_id, f.contract_version, f.row, f.severity, f.amount, f.message, f.related or "")
                   for f in report.findings)
    return rules, found


def both_ways(monkeypatch, paths, **kw):
    pruned = check(paths, tables=TABLES, **kw)
    with monkeypatch.context() as m:
        without_pruning(m)
        whole = check(paths, tables=TABLES, **kw)
    return pruned, whole


def hospital_extract(path):
    """A Jiangsu hospital's day as its HIS exports it: upper-case column names, a drug, a
    consultation, a national consumable, a consumable under the hospital's own code (list type
    301, named as printed), and a region padded with spaces."""
    rows = [
        line(1, code="XA01AAA001A001010100001", hilist_name="阿莫西林胶囊", price=12.5, limit=12.5, ratio=0.0),
        line(2, code="001101000010000", hilist_name="普通门诊诊查费", price=10.0, limit=10.0, ratio=0.0),
        line(3, code="C0301010010000001234567", hilist_name="一次性使用无菌注射器（5ml）", price=1.2, limit=1.2,
             ratio=0.0, list_type="301"),
        line(4, code="HZ-HC-00017", hilist_name="一次性中心静脉导管（双腔）", price=380.0, limit=380.0, ratio=0.0,
             list_type="301"),
        line(5, code="XA01AAA001A001010100001", hilist_name="阿莫西林胶囊", price=12.5, limit=12.5, ratio=0.0,
             mdtrtarea_admvs=" 320106 "),
    ]
    t = pa.Table.from_pylist(rows)
    pq.write_table(t.rename_columns([c.upper() for c in t.column_names]), path)
    return path


def test_a_hospital_batch_runs_only_its_own_regions_rules_and_reports_as_if_all_had_run(tmp_path, monkeypatch,
                                                                                         engine_results):
    path = str(hospital_extract(tmp_path / "his_export.parquet"))
    pruned, whole = both_ways(monkeypatch, [path])
    assert outcome(pruned) == outcome(whole)
    result = engine_results[0]
    idle = {(p.contract.id, p.rule.id) for p in result.plans if p.idle}
    assert {c for c, _ in idle} >= {"jilin-art", "jiangxi-rmc", "fuzhou-nipt-subsidy"}
    assert not any(p.idle for p in result.plans if p.contract.id == "jiangsu-consumables")  # its lines are here
    assert "JL-" not in result.sql and "FZ-" not in result.sql
    # the consumable under a local code is still counted as not judged by the consumables rules
    cs = {r.rule_id: r for r in pruned.rules if r.contract_id == "jiangsu-consumables"}
    assert any(r.lines_not_judged >= 1 and "local code" in (r.reason or "") for r in cs.values())
    assert {r.status for r in pruned.rules if (r.contract_id, r.rule_id) in idle} == {"not_applicable"}


def test_a_consumable_under_a_local_code_alone_keeps_the_consumables_rules(tmp_path, monkeypatch, engine_results):
    """No national C code in the batch: the local-code line is still counted as not judged."""
    path = hospital_extract(tmp_path / "his_export.parquet")
    t = pq.read_table(path)
    pq.write_table(t.filter(pa.compute.invert(pa.compute.starts_with(t["HILIST_CODE"], "C"))), path)
    pruned, whole = both_ways(monkeypatch, [str(path)])
    assert outcome(pruned) == outcome(whole)
    cs = [r for r in pruned.rules if r.contract_id == "jiangsu-consumables"]
    assert cs and all(r.lines_not_judged == 1 and "local code" in r.reason for r in cs)


def test_an_item_known_only_by_its_printed_name_keeps_its_rules(tmp_path, monkeypatch, engine_results):
    """Fuzhou's subsidy line carries no code: the pilot prints the name with full-width letters."""
    rows = [line(1, code="FJNIPT01", hilist_name="无创产前ＤＮＡ检测减免补助〔福州市出生缺陷防控项目〕",
                 mdtrtarea_admvs="350102", fixmedins_name="福州市第一医院", fixmedins_code="H35010200001",
                 fee_ocur_time=dt.datetime(2020, 6, 1, 10), price=500.0, limit=500.0, ratio=0.0, med_type="11"),
            line(2, code="XA01AAA001A001010100001", hilist_name="阿莫西林胶囊", mdtrtarea_admvs="350102",
                 price=12.5, limit=12.5, ratio=0.0)]
    path = tmp_path / "fz.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    pruned, whole = both_ways(monkeypatch, [str(path)])
    assert outcome(pruned) == outcome(whole)
    fz = [p for p in engine_results[0].plans if p.contract.id == "fuzhou-nipt-subsidy" and p.index is not None]
    assert fz and not any(p.idle for p in fz)
    assert any(r.contract_id == "fuzhou-nipt-subsidy" and r.lines_checked for r in pruned.rules)
    assert all(p.idle for p in engine_results[0].plans if p.contract.id in ("jiangsu-nipt", "jilin-art"))


def test_a_line_known_by_its_amount_keeps_the_rules_of_its_item(tmp_path, monkeypatch, engine_results):
    """A subsidy line named loosely ("NIPT减免") is known by its subsidy amount, which the extract
    fills on that line only."""
    base = dict(mdtrtarea_admvs="350102", fixmedins_name="福建省妇幼保健院", fixmedins_code="H35010200002",
                fee_ocur_time=dt.datetime(2020, 6, 1, 10), price=500.0, limit=500.0, ratio=0.0)
    rows = [line(1, code="FJ001", hilist_name="NIPT减免", subsidy_amt=500.0, **base),
            line(2, code="FJ002", hilist_name="NIPT减免", subsidy_amt=None, **base)]
    path = tmp_path / "amount.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    pruned, whole = both_ways(monkeypatch, [str(path)])
    assert outcome(pruned) == outcome(whole)
    assert not any(p.idle for p in engine_results[0].plans if p.contract.id == "fuzhou-nipt-subsidy"
                   and p.index is not None and p.rule.codes)
    # without the amount the same name concerns no rule of the item
    pq.write_table(pa.Table.from_pylist(rows[1:]), path)
    engine_results.clear()
    check([str(path)], tables=TABLES)
    assert all(p.idle for p in engine_results[0].plans if p.contract.id == "fuzhou-nipt-subsidy"
               and p.index is not None and "fz_subsidy_item" in (p.rule.codes or []))


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda p: p.stem)
def test_every_golden_batch_reports_the_same_with_and_without_idle_rules(golden, monkeypatch):
    pruned, whole = both_ways(monkeypatch, [str(golden)])
    assert outcome(pruned) == outcome(whole)


def test_a_batch_outside_every_jurisdiction_has_every_rule_idle(tmp_path, engine_results):
    rows = [line(1, mdtrtarea_admvs="110105"), line(2, mdtrtarea_admvs="310101")]
    path = tmp_path / "beijing.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    report = check([str(path)], tables=TABLES)
    assert not report.findings
    assert all(p.idle for p in engine_results[0].plans if p.index is not None)
    assert {r.status for r in report.rules} == {"not_applicable"}


def test_the_test_itself_is_two_questions_whatever_the_number_of_rules():
    """The regions the batch bills in, then one row of one flag per distinct code set, read from
    the items table; no question per rule."""
    from checks.contract import load_contracts
    from checks.engine.context import CodeSets
    from checks.engine.plan import plan

    asked = []

    class Con:
        def execute(self, text):
            asked.append(text)
            return self

        def fetchall(self):
            return [("320106",)] if len(asked) == 1 else [[False] * 1000]

    contracts = load_contracts(None, {})
    plans = plan(contracts)
    keys = billed(Con(), contracts, lambda cols: "SELECT 1")
    assert keys == {c.key for c in contracts if c.regions[0].startswith("32")}
    for p in plans:
        p.idle = p.index is not None and p.contract.key not in keys
    idle = without_items(Con(), plans, CodeSets([c for c in contracts if c.key in keys]))
    assert len(asked) == 2 and "FROM items" in asked[1]
    assert asked[1].count("bool_or") < 60  # one flag per code set, not per rule
    coded = {p.index for p in plans if p.index is not None and not p.idle and p.rule.codes
             and p.rule.impl.candidate_codes() is not None}
    assert idle == coded
