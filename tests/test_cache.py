"""Values are not checked twice: what was proven of a file is kept under its SHA-256."""
from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from checks import check
from checks.errors import InputErrors
from conftest import line, table


def test_a_second_check_of_the_same_file_does_not_scan_its_values_again(write):
    # a file of this test's own (other tests check [line(1, price=520.0), line(2)], and the cache
    # is the session's: run after them, the first check here would find it proven)
    path = write([line(1, price=520.0), line(2), line(3, price=510.0)])
    first, second = check([str(path)]), check([str(path)])
    assert first.engine["survey_cached"] is False and second.engine["survey_cached"] is True
    assert [(f.rule_id, f.mdtrt_id) for f in first.findings] == [(f.rule_id, f.mdtrt_id) for f in second.findings]
    assert first.contracts == second.contracts  # lines in force, counted once, read back


def test_a_changed_file_is_a_new_file(write, tmp_path):
    path = write([line(1), line(2)])
    check([str(path)])
    pq.write_table(table([line(1), line(2, mdtrtarea_admvs="3201")]), path)
    with pytest.raises(InputErrors, match="mdtrtarea_admvs"):
        check([str(path)])


def test_the_same_file_under_another_mapping_is_checked_afresh(tmp_path):
    path = tmp_path / "x.parquet"
    t = table([line(1)])
    # a name no system's convention gives the field (胎次, its Chinese name, is recognised unmapped)
    pq.write_table(t.append_column("preg_order", t.column("fetts")).drop_columns(["fetts"]), path)
    check([str(path)])  # fetts absent
    assert check([str(path)]).engine["survey_cached"] is True
    assert check([str(path)], columns={"fetts": ["preg_order"]}).engine["survey_cached"] is False


def test_errors_are_never_cached(write):
    path = write([line(1), line(2, psn_no=None)])
    for _ in range(2):
        with pytest.raises(InputErrors, match="psn_no"):
            check([str(path)])


def test_two_files_are_proven_unique_together(write):
    a, b = write([line(1)], "a.parquet"), write([line(2)], "b.parquet")
    check([str(a), str(b)])
    assert check([str(a), str(b)]).engine["survey_cached"] is True
    c = write([line(1)], "c.parquet")  # the same identity as a's line
    with pytest.raises(InputErrors, match="must be unique"):
        check([str(b), str(c), str(a)])


def test_a_damaged_cache_entry_is_ignored(write, survey_cache):
    path = write([line(1)])
    check([str(path)])
    for f in (survey_cache / "survey").rglob("*.json"):
        f.write_text("{not json", encoding="utf-8")
    assert check([str(path)]).engine["survey_cached"] is False


def test_the_cache_can_be_turned_off(write, monkeypatch, run_cli, tmp_path):
    path = write([line(1)])
    check([str(path)])
    assert check([str(path)], cache=False).engine["survey_cached"] is False
    monkeypatch.setenv("CLAIMCHECK_CACHE", "off")
    assert check([str(path)]).engine["survey_cached"] is False
    out = tmp_path / "r.json"
    run_cli("check", path, "--json", out)
    assert json.loads(out.read_text(encoding="utf-8"))["engine"]["survey_cached"] is False


def test_a_structure_proven_once_is_not_judged_again(write, monkeypatch, tmp_path):
    """The same system's extract every day: same schema, same mapping, pandera runs once."""
    from checks.claims import batch as batch_mod

    monkeypatch.setenv("CLAIMCHECK_CACHE", str(tmp_path / "own-cache"))
    calls = []
    real = batch_mod.structure_errors
    monkeypatch.setattr(batch_mod, "structure_errors", lambda *a: calls.append(a) or real(*a))
    check([str(write([line(1)], "day1.parquet"))])
    check([str(write([line(2)], "day2.parquet"))])
    assert len(calls) == 1
    bad = write([{k: v for k, v in line(3).items() if k != "pric"}], "day3.parquet")
    with pytest.raises(InputErrors, match="pric"):
        check([str(bad)])  # another schema: judged, and refused
    assert len(calls) == 2
