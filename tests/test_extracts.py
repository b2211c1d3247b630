"""Extracts claimcheck did not make: the same visits written by two other systems.

tests/fixtures/extracts holds, written by hand, one batch of Jiangsu NIPT visits as an
Oracle-based hospital system exports it (upper-case names, CHAR-padded codes, decimals, and
符合政策范围金额 that already contains 先行自付) and as a data warehouse does (Chinese headers
mapped with --columns, integer codes, floating money, 符合政策范围金额 without 先行自付).
expected.csv is the list of findings worked out by hand. Both must give exactly it.
"""
from __future__ import annotations

import json

import pyarrow as pa

import pytest

import extracts
from checks import check

NIPT = "contracts/jiangsu-nipt"
MAP = extracts.HERE / "warehouse_columns.yaml"


@pytest.fixture
def oracle(tmp_path):
    return extracts.build("oracle_incl", extracts.ORACLE, tmp_path / "oracle.parquet")


@pytest.fixture
def warehouse(tmp_path):
    return extracts.build("warehouse_excl", extracts.WAREHOUSE, tmp_path / "warehouse.parquet")


def found(report):
    return {(f.rule_id, f.mdtrt_id, f.feedetl_sn, f.severity) for f in report.findings}


def test_the_oracle_export_gives_the_findings_worked_out_by_hand(root, oracle):
    report = check([str(oracle)], root / NIPT)
    assert found(report) == extracts.expected()
    assert report.inputs[0]["money_convention"] == "incl"


def test_the_warehouse_extract_with_mapped_chinese_headers_gives_the_same(root, warehouse):
    report = check([str(warehouse)], root / NIPT, columns=MAP)
    assert found(report) == extracts.expected()
    assert report.inputs[0]["money_convention"] == "excl"
    assert report.inputs[0]["columns"]["mdtrt_id"] == "就诊ID"


def test_both_conventions_judge_the_same_visits_the_same_way(root, oracle, warehouse):
    a, b = check([str(oracle)], root / NIPT), check([str(warehouse)], root / NIPT, columns=MAP)
    assert [(r.rule_id, r.status, r.lines_checked, r.lines_not_judged, r.findings, r.amount) for r in a.rules] == \
           [(r.rule_id, r.status, r.lines_checked, r.lines_not_judged, r.findings, r.amount) for r in b.rules]


def test_the_480_detection_recorded_with_370_in_policy_is_compliant(root, oracle):
    """The issue's case: 480 = 超限价 110 + 符合范围 370 (已含先行自付 37). Not '407 > 370', not '应为 40.70'."""
    report = check([str(oracle)], root / NIPT)
    assert not [f for f in report.findings if f.mdtrt_id in ("ZY2025000102", "ZY2025000103")]
    nt = next(r for r in report.rules if r.rule_id == "JS-6-NT")
    assert nt.status == "pass" and nt.lines_checked == 1


def test_a_line_whose_parts_add_up_under_neither_convention_is_not_given_a_money_verdict(root, oracle):
    report = check([str(oracle)], root / NIPT)
    dq = [f for f in report.findings if f.rule_id == "DQ-MONEY"]
    assert [f.mdtrt_id for f in dq] == ["ZY2025000109"] and dq[0].amount == 0
    assert "T 500.00, F 0.00, O 100.00, P 37.00, I 370.00" in dq[0].message
    for rid in ("JS-6-limit", "JS-6-selfpay"):
        r = next(r for r in report.rules if r.rule_id == rid)
        assert r.lines_not_judged == 1 and "inpolicy_amt could not be derived" in r.reason
    assert report.summary()["amount"] == sum(r.amount for r in report.rules if r.severity != "data_quality")


def test_padding_of_char_columns_does_not_hide_a_code(root, oracle):
    report = check([str(oracle)], root / NIPT)
    assert next(r for r in report.rules if r.rule_id == "JS-1-price").lines_checked == 10  # every detection


def test_the_cli_with_a_column_map(run_cli, warehouse, tmp_path):
    out = tmp_path / "r.json"
    p = run_cli("check", warehouse, "--contracts", NIPT, "--columns", MAP, "--json", out)
    assert p.returncode == 3, p.stdout + p.stderr  # 1 line could not be judged by the money rules
    assert "money excl" in p.stdout and "mdtrt_id ← 就诊ID" in p.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert {(v["rule_id"], v["mdtrt_id"], v["feedetl_sn"], v["severity"]) for v in report["violations"]} == \
        extracts.expected()
    assert run_cli("check", warehouse, "--contracts", NIPT, "--columns", MAP, "--allow-incomplete").returncode == 1


def test_without_the_map_the_warehouse_extract_is_refused_with_what_is_missing(run_cli, warehouse):
    p = run_cli("check", warehouse, "--contracts", NIPT)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert "column mdtrt_id" not in p.stderr  # headed 就诊ID, the field's Chinese name: recognised without the map
    assert ("column feedetl_sn: required column is missing (费用明细流水号); closest headers in the file: 明细流水号; "
            "if '明细流水号' is it, pass --columns MAP.yaml with the line `feedetl_sn: 明细流水号`") in p.stderr
    assert "with the line `hilist_code: 医保编码`" in p.stderr


def test_the_oracle_export_partitioned_by_region_names_each_finding_by_its_file_and_row(root, tmp_path):
    """The same export as hive folders (MDTRTAREA_ADMVS=…, upper case as the exporter writes it),
    a Jilin folder first that no Jiangsu rule reads: the verdicts are the flat file's, and each
    finding names the file and row its line is on."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    flat = pq.read_table(extracts.build("oracle_incl", extracts.ORACLE, tmp_path / "flat.parquet"))
    jilin = flat.slice(0, 2).set_column(0, "MDTRT_ID", pa.array(["JL0001", "JL0002"]))
    jilin = jilin.set_column(5, "MDTRTAREA_ADMVS", pa.array(["220102", "220102"]))
    whole = pa.concat_tables([jilin, flat])
    for region in pc.unique(whole["MDTRTAREA_ADMVS"]).to_pylist():
        folder = tmp_path / "ds" / f"MDTRTAREA_ADMVS={region}"
        folder.mkdir(parents=True)
        part = whole.filter(pc.equal(whole["MDTRTAREA_ADMVS"], region)).drop_columns(["MDTRTAREA_ADMVS"])
        pq.write_table(part, folder / "part-0.parquet")
    report = check([str(tmp_path / "ds")], root / NIPT)
    assert found(report) == extracts.expected()
    for f in report.findings:
        line = pq.read_table(f.file).to_pylist()[f.row - 1]
        assert (line["MDTRT_ID"].strip(), line["FEEDETL_SN"].strip()) == (f.mdtrt_id, f.feedetl_sn)


EMPTIED = ("ZY2025000105", "ZY2025000106")  # the payment-limit and self-pay lines


def _without_parts(f: str, o: str):
    """A row as an extract leaves it when 全自费 and 超限价 are not filled in on the money lines."""
    def rows(r):
        return {**r, f: "", o: ""} if r.get("MDTRT_ID", r.get("就诊ID")) in EMPTIED else r
    return rows


@pytest.mark.parametrize("compressed", [False, True], ids=["lines as a table", "lines written once, compressed"])
def test_a_line_without_its_other_parts_is_judged_by_its_files_convention(root, tmp_path, monkeypatch, compressed):
    """Without 全自费 and 超限价 the line's own parts cannot tell its convention: the file's
    (its other lines') decides whether 符合政策范围金额 holds 先行自付 (incl: I) or not (excl: I + P),
    so the payment limit and the self-pay share are judged on 400 and 370 in both extracts."""
    from checks.engine.duckdb import run as duckdb_run
    if compressed:
        monkeypatch.setattr(duckdb_run, "COMPRESS_AT", 0)
    oracle = extracts.build("oracle_incl", extracts.ORACLE, tmp_path / "o.parquet",
                            _without_parts("FULAMT_OWNPAY_AMT", "OVERLMT_AMT"))
    warehouse = extracts.build("warehouse_excl", extracts.WAREHOUSE, tmp_path / "w.parquet",
                               _without_parts("全自费", "超限价"))
    for report in (check([str(oracle)], root / NIPT), check([str(warehouse)], root / NIPT, columns=MAP)):
        assert {f for f in found(report) if f[1] in EMPTIED} == {f for f in extracts.expected() if f[1] in EMPTIED}
