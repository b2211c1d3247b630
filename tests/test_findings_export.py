"""--findings F writes every finding in the format F's suffix names: .parquet for programs, .csv
(UTF-8 with a byte-order mark, which Excel needs for Chinese) and .xlsx for people; anything else
is refused before any claim is read (exit 2). No finding is left out, waived ones included."""
from __future__ import annotations

import csv
import json

import openpyxl
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, line

NIPT = ROOT / "contracts/jiangsu-nipt"


@pytest.fixture
def batch(write, tmp_path):
    """Three lines over the ceiling (one waived), one clean, one name with a formula-like text."""
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n  - {id: W-1, rule: JS-1-price, match: {mdtrt_id: M00002}, reason: 已书面确认, "
                       "owner: 医保办, expires: 2099-12-31}\n", encoding="utf-8")
    rows = [line(1, price=520.0), line(2, price=530.0), line(3, price=540.0, hilist_name="=HYPERLINK(\"x\")"),
            line(4)]
    return write(rows), waivers


def run(run_cli, batch, out, *extra):
    path, waivers = batch
    return run_cli("check", path, "--contracts", NIPT, "--waivers", waivers, "--findings", out, *extra)


def test_csv_has_a_bom_headers_in_words_and_every_finding(run_cli, batch, tmp_path):
    out = tmp_path / "发现.csv"
    p = run(run_cli, batch, out)
    assert p.returncode == 1, p.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [(r["规则"], r["就诊ID"], r["涉及金额（元）"], r["豁免"]) for r in rows] == [
        ("JS-1-price", "M00001", "20.00", ""), ("JS-1-price", "M00002", "30.00", "W-1"),
        ("JS-1-price", "M00003", "40.00", "")]
    assert rows[0]["说明"].startswith("单价 520.00 元，上限 500.00 元")
    assert rows[0]["性质"] == "明确违规" and rows[0]["费用发生时间"] == "2025-03-01 09:30:00"


def test_xlsx_is_a_real_workbook_with_numbers_as_numbers(run_cli, batch, tmp_path):
    out = tmp_path / "findings.XLSX"
    p = run(run_cli, batch, out, "--lang", "en")
    assert p.returncode == 1, p.stderr
    ws = openpyxl.load_workbook(out).active
    rows = list(ws.iter_rows(values_only=True))
    head = rows[0]
    assert head[:3] == ("rule", "rule title", "contract version")
    got = [dict(zip(head, r)) for r in rows[1:]]
    assert [(g["rule"], g["visit (mdtrt_id)"], g["money at stake (yuan)"]) for g in got] == [
        ("JS-1-price", "M00001", 20.0), ("JS-1-price", "M00002", 30.0), ("JS-1-price", "M00003", 40.0)]
    assert got[0]["what is wrong"].startswith("unit price 520.00 yuan, ceiling 500.00 yuan")
    assert got[2]["item"] == "=HYPERLINK(\"x\")"  # claim text stays text, never a formula
    assert ws.cell(4, head.index("item") + 1).data_type == "s"


def test_parquet_is_kept_for_programs(run_cli, batch, tmp_path):
    out = tmp_path / "f.parquet"
    assert run(run_cli, batch, out).returncode == 1
    t = pq.read_table(out)
    assert t.num_rows == 3 and t["waived"].to_pylist() == [False, True, False]


@pytest.mark.parametrize("name", ["f.txt", "f.json", "findings"])
def test_another_suffix_is_refused_before_anything_is_read(run_cli, batch, tmp_path, name):
    p = run(run_cli, batch, tmp_path / name)
    assert p.returncode == 2 and "--findings" in p.stderr and ".csv" in p.stderr and ".xlsx" in p.stderr
    assert not (tmp_path / name).exists() and "Traceback" not in p.stderr


def test_the_report_command_exports_a_saved_report(run_cli, batch, tmp_path):
    assert run(run_cli, batch, tmp_path / "f.parquet", "--json", tmp_path / "r.json").returncode == 1
    p = run_cli("report", tmp_path / "r.json", "--findings", tmp_path / "again.csv")
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader((tmp_path / "again.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 3 and json.loads((tmp_path / "r.json").read_text("utf-8"))["summary"]["waived"] == 1


def test_findings_beyond_a_sheets_rows_continue_on_the_next_sheet(batch, tmp_path, monkeypatch):
    """A sheet holds 1,048,575 rows under its header; the rest go on, never left out (shown here with
    sheets of two rows)."""
    from checks import check
    from checks.report import sheet_out
    from checks.report.parquet_out import write_findings

    path, waivers = batch
    report = check([str(path)], NIPT, waivers=waivers)
    monkeypatch.setattr(sheet_out, "XLSX_ROWS", 2)
    write_findings(report, tmp_path / "f.xlsx", "zh")
    book = openpyxl.load_workbook(tmp_path / "f.xlsx")
    assert book.sheetnames == ["发现", "发现 2"]
    visits = [r[5] for ws in book.worksheets for r in list(ws.iter_rows(values_only=True))[1:]]
    assert visits == ["M00001", "M00002", "M00003"]
    assert [ws.cell(1, 1).value for ws in book.worksheets] == ["规则", "规则"]
