"""The claim-line contract: what is accepted, and the precise error for what is not."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from checks import check
from checks.errors import InputError, InputErrors, UsageError
from conftest import diagnosis, line, table


def errors_of(paths):
    with pytest.raises(InputErrors) as e:
        check([str(p) for p in paths])
    return [str(x) for x in e.value.errors]


def planted(rows):
    """Rows with one JS-1-price violation planted at the end."""
    return rows + [line(99, price=520.0)]


@pytest.mark.parametrize("types", [
    {},  # decimals
    {"pric": pa.float64(), "det_item_fee_sumamt": pa.float64(), "inscp_scp_amt": pa.float64(),
     "preselfpay_amt": pa.float64()},
    {"cnt": pa.int32(), "insutype": pa.int32(), "med_type": pa.int64()},
    {"cnt": pa.int64(), "pric": pa.float32()},
    {"fee_ocur_time": pa.date32()},
    {"fee_ocur_time": pa.timestamp("ms", tz="Asia/Shanghai")},
], ids=["decimal", "float64", "int32-codes-and-counts", "int64-float32", "date", "timestamp-tz"])
def test_every_numeric_and_time_type_gives_the_same_findings(write, types):
    rows = [line(1), diagnosis(2), line(3, cnt=1)]
    if types.get("cnt") in (pa.int32(), pa.int64()):
        rows = [{**r, "cnt": int(r["cnt"])} for r in planted(rows)]
    else:
        rows = planted(rows)
    if types.get("insutype") is not None:
        rows = [{**r, "insutype": int(r["insutype"]), "med_type": int(r["med_type"])} for r in rows]
    if types.get("fee_ocur_time") == pa.date32():
        rows = [{**r, "fee_ocur_time": r["fee_ocur_time"].date()} for r in rows]
    report = check([str(write(rows, types=types))])
    assert [(f.rule_id, f.mdtrt_id) for f in report.findings] == [("JS-1-price", "M00099")]
    assert {r.status for r in report.rules if r.contract_id == "jiangsu-nipt"} <= {"pass", "fail", "not_applicable"}


def test_timezone_aware_times_are_judged_on_the_china_date(write):
    # 2024-12-31 16:30 UTC is 2025-01-01 00:30 in China: the diagnosis item exists then
    utc = dt.timezone.utc
    rows = [diagnosis(fee_ocur_time=dt.datetime(2024, 12, 31, 16, 30, tzinfo=utc))]
    report = check([str(write(rows, types={"fee_ocur_time": pa.timestamp("s", tz="UTC")}))])
    assert report.findings == []


def test_unknown_columns_are_carried_along(write):
    rows = [{**line(), "hosp_lv": "3", "medins_list_codg": "X1"}]
    assert check([str(write(rows))]).findings == []


def test_missing_required_column_names_file_and_column(write):
    path = write([{k: v for k, v in line().items() if k != "pric"}])
    (msg,) = errors_of([path])
    assert msg == f"{path}, column pric: required column is missing (单价)"


def test_wrong_type_names_what_is_valid(write):
    rows = [{**line(), "pric": "500"}]
    path = write(rows, types={"pric": pa.string()})
    (msg,) = errors_of([path])
    assert "column pric: type string is not allowed; valid: integer, floating point or decimal" in msg


def test_text_time_is_rejected(write):
    path = write([{**line(), "fee_ocur_time": "2025-03-01"}], types={"fee_ocur_time": pa.string()})
    (msg,) = errors_of([path])
    assert "column fee_ocur_time" in msg and "valid: timestamp or date" in msg


def test_unreadable_file(tmp_path):
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    (msg,) = errors_of([bad])
    assert msg.startswith(f"{bad}: not a readable Parquet file")


def test_value_errors_name_column_row_and_value(write):
    rows = [line(1), line(2, mdtrtarea_admvs="3201"), line(3, psn_no=None), line(4, hilist_code="  ")]
    msgs = errors_of([write(rows)])
    assert any("column mdtrtarea_admvs, row 2" in m and "'3201'" in m for m in msgs)
    assert any("column psn_no, row 3" in m and "null" in m for m in msgs)
    assert any("column hilist_code, row 4" in m and "blank" in m for m in msgs)


def test_non_finite_money_is_rejected(write):
    rows = [line(1), {**line(2), "pric": float("inf")}]
    msgs = errors_of([write(rows, types={"pric": pa.float64(), "det_item_fee_sumamt": pa.float64()})])
    assert any("column pric, row 2" in m and "finite" in m for m in msgs)


def test_duplicate_line_identity_across_files(write):
    a = write([line(1)], "a.parquet")
    b = write([line(1)], "b.parquet")
    (msg,) = errors_of([a, b])
    assert "(mdtrt_id, feedetl_sn) must be unique" in msg and "a.parquet row 1" in msg and "b.parquet row 1" in msg


def test_every_problem_is_reported_not_just_the_first(write):
    a = write([{k: v for k, v in line().items() if k != "cnt"}], "a.parquet")
    b = write([{**line(), "pric": "x"}], "b.parquet", types={"pric": pa.string()})
    assert len(errors_of([a, b])) == 2


def test_directory_and_hive_partitions(tmp_path):
    base = tmp_path / "batch"
    for month, rows in [("2025-03", [line(1), line(2, price=520.0)]), ("2025-04", [diagnosis(3, price=70.0)])]:
        part = base / f"month={month}"
        part.mkdir(parents=True)
        pq.write_table(table(rows), part / "part-0.parquet")
    (base / "_SUCCESS").write_text("")
    report = check([str(base)])
    assert report.lines == 3 and len(report.inputs) == 2
    assert sorted(f.rule_id for f in report.findings) == ["JS-1-price", "JS-4"]
    assert report.findings[0].file.endswith("part-0.parquet")


def test_hive_partition_can_supply_a_required_column(tmp_path):
    part = tmp_path / "b" / "mdtrtarea_admvs=320106"
    part.mkdir(parents=True)
    rows = [{k: v for k, v in line(1, price=520.0).items() if k != "mdtrtarea_admvs"}]
    pq.write_table(table(rows), part / "x.parquet")
    assert [f.rule_id for f in check([str(tmp_path / "b")]).findings] == ["JS-1-price"]


def test_optional_column_in_only_some_files_leaves_their_lines_not_judged(write):
    a = write([line(1)], "a.parquet")
    b = write([{k: v for k, v in line(2).items() if k != "chrgitm_lv"}], "b.parquet")
    report = check([str(a), str(b)])
    r = next(r for r in report.rules if r.rule_id == "JS-6-class")
    assert (r.status, r.lines_checked, r.lines_not_judged) == ("pass", 1, 1)
    assert "chrgitm_lv (收费项目等级) is empty on 1" in r.reason and "b.parquet row 1" in r.reason


def test_missing_path_and_empty_directory(tmp_path):
    assert errors_of([tmp_path / "nope.parquet"]) == [f"{tmp_path / 'nope.parquet'}: no such file or folder"]
    (tmp_path / "empty").mkdir()
    assert errors_of([tmp_path / "empty"]) == [f"{tmp_path / 'empty'}: folder holds no .parquet files"]
    with pytest.raises(UsageError):
        check([])


def test_claims_are_not_modified(write):
    path = write([line(1, price=520.0)])
    before = path.read_bytes()
    check([str(path)])
    assert path.read_bytes() == before


def test_a_filter_on_a_partition_folder_does_not_renumber_the_files(tmp_path):
    """DuckDB prunes the folders a filter excludes before numbering the files it reads; the
    batch's source gives every line the number of its own file all the same."""
    import duckdb

    from checks.claims.batch import open_batch

    for region, rows in [("220102", [line(1), line(2)]), ("320106", [line(3)]), ("320205", [line(4), line(5)])]:
        part = tmp_path / "b" / f"mdtrtarea_admvs={region}"
        part.mkdir(parents=True)
        pq.write_table(table([{k: v for k, v in r.items() if k != "mdtrtarea_admvs"} for r in rows]),
                       part / "x.parquet")
    batch = open_batch([str(tmp_path / "b")], {})
    got = duckdb.sql(f"SELECT file_index, filename FROM {batch.source_sql()} r "
                     "WHERE starts_with(r.mdtrtarea_admvs, '32') GROUP BY ALL ORDER BY 1").fetchall()
    assert got == [(cf.fid, str(cf.path)) for cf in batch.files[1:]]


def test_a_partitioned_sample_names_each_finding_by_its_own_file(tmp_path):
    import pyarrow.compute as pc

    from conftest import ROOT

    t = pq.read_table(ROOT / "sample_claims/jiangsu-nipt-1.0.0.parquet")
    for region in pc.unique(t["mdtrtarea_admvs"]).to_pylist():
        part = tmp_path / "b" / f"mdtrtarea_admvs={region}"
        part.mkdir(parents=True)
        pq.write_table(t.filter(pc.equal(t["mdtrtarea_admvs"], region)).drop_columns(["mdtrtarea_admvs"]),
                       part / "x.parquet")
    report = check([str(tmp_path / "b")], str(ROOT / "contracts/jiangsu-nipt"))
    assert report.findings
    for f in report.findings:  # the line the finding names is in the file it names, at its row
        lines = pq.read_table(f.file).to_pylist()
        assert (lines[f.row - 1]["mdtrt_id"], lines[f.row - 1]["feedetl_sn"]) == (f.mdtrt_id, f.feedetl_sn)
