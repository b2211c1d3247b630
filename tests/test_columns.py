"""Column names as other systems write them: any case; a map for anything else."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from checks import check
from checks.errors import ContractError, InputErrors
from conftest import line, table


def renamed(rows, names: dict):
    t = table(rows)
    return t.rename_columns([names.get(c, c) for c in t.column_names])


def test_upper_case_national_names_are_read(tmp_path):
    path = tmp_path / "upper.parquet"
    pq.write_table(renamed([line(1, price=520.0)], {c: c.upper() for c in line()}), path)
    assert [f.rule_id for f in check([str(path)]).findings] == ["JS-1-price"]


def test_mixed_case_across_files(tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(renamed([line(1, price=520.0)], {c: c.upper() for c in line()}), a)
    pq.write_table(table([line(2, price=520.0)]), b)
    assert sorted(f.mdtrt_id for f in check([str(a), str(b)]).findings) == ["M00001", "M00002"]


def test_a_map_names_the_columns_of_another_system(tmp_path):
    path = tmp_path / "x.parquet"
    pq.write_table(renamed([line(1, price=520.0)], {"mdtrt_id": "就诊ID", "hilist_code": "ITEM_CD"}), path)
    cmap = tmp_path / "map.yaml"
    cmap.write_text("mdtrt_id: 就诊ID\nhilist_code: [item_code, ITEM_CD]\n", encoding="utf-8")
    report = check([str(path)], columns=cmap)
    assert [(f.rule_id, f.mdtrt_id) for f in report.findings] == [("JS-1-price", "M00001")]


def test_two_columns_for_one_field_is_an_error_naming_both(tmp_path):
    path = tmp_path / "x.parquet"
    t = table([line(1)])
    pq.write_table(t.append_column("就诊ID", pa.array(["OTHER"])), path)
    cmap = tmp_path / "map.yaml"
    cmap.write_text("mdtrt_id: 就诊ID\n", encoding="utf-8")
    with pytest.raises(InputErrors) as e:
        check([str(path)], columns=cmap)
    (msg,) = [str(x) for x in e.value.errors]
    assert str(path) in msg and "column 就诊ID (mapped to mdtrt_id)" in msg and "column mdtrt_id" in msg


def test_names_differing_only_in_case_are_an_error(tmp_path):
    path = tmp_path / "x.parquet"
    t = table([line(1)])
    pq.write_table(t.append_column("MDTRT_ID", pa.array(["OTHER"])), path)
    with pytest.raises(InputErrors) as e:
        check([str(path)])
    assert "'mdtrt_id' and 'MDTRT_ID' differ only in case" in str(e.value.errors[0])


def test_a_map_naming_no_national_field_says_the_closest(tmp_path, write):
    cmap = tmp_path / "map.yaml"
    cmap.write_text("mdtrt_idd: 就诊ID\n", encoding="utf-8")
    with pytest.raises(ContractError) as e:
        check([str(write([line()]))], columns=cmap)
    assert "map.yaml:1:1" in str(e.value) and "did you mean 'mdtrt_id'" in str(e.value)


def test_a_map_cannot_supply_a_derived_field(tmp_path, write):
    cmap = tmp_path / "map.yaml"
    cmap.write_text("inpolicy_amt: X\n", encoding="utf-8")
    with pytest.raises(ContractError, match="derived"):
        check([str(write([line()]))], columns=cmap)


def test_a_mapped_name_no_file_has_is_an_error_not_a_silent_absence(tmp_path, write):
    from checks.errors import UsageError

    cmap = tmp_path / "map.yaml"
    cmap.write_text("fetts: 胎次\n", encoding="utf-8")
    rows = [{k: v for k, v in line().items() if k != "fetts"}]
    with pytest.raises(UsageError, match="fetts is mapped to '胎次', which no claim file has"):
        check([str(write(rows))], columns=cmap)
