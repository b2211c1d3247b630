"""The Spark engine beyond parity: what it refuses, what it reads, and what it leaves behind.

- A rule whose SQL uses a construct Spark lacks is an error naming it; the other rules run.
- --history is DuckDB-only, said with the reason, before any Spark starts.
- A catalog table (table:NAME) and a dataset URI are read by Spark and give the same verdicts.
- Broken claims are refused with the same located errors as on DuckDB.
- The caller's session keeps its settings, views and memory.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from checks import check
from checks.contract import load_contracts
from checks.errors import InputErrors, UsageError
from conftest import ROOT, line, table

NIPT = ROOT / "contracts/jiangsu-nipt"
SAMPLE = ROOT / "sample_claims/jiangsu-nipt-1.0.0.parquet"


def verdicts(report) -> list[tuple]:
    return sorted((f["rule_id"], f["contract_version"], f["mdtrt_id"], f["feedetl_sn"], f["severity"], f["amount"],
                   f["expected"], f["actual"], f["message"]) for f in report.table.to_pylist())


def statuses(report) -> list[tuple]:
    return [(r.rule_id, r.contract_version, r.status, r.lines_checked, r.findings, r.amount, r.lines_not_judged)
            for r in report.rules]


def test_a_rule_spark_cannot_run_is_an_error_naming_the_construct_and_the_rest_run(spark, monkeypatch):
    contracts = load_contracts(NIPT)
    revision = next(v for v in contracts if v.revises)  # the version that judges (1.1.0 revises 1.0.0)
    rule = next(r for r in revision.rules if r.id == "JS-4")
    original = rule.impl.findings
    monkeypatch.setattr(rule.impl, "findings", lambda ctx: original(ctx).replace(
        "WHERE", "WHERE jaro_winkler_similarity(l.hilist_name, 'x') < 2 AND", 1))
    duck = check([str(SAMPLE)], contracts=contracts)
    sp = check([str(SAMPLE)], contracts=contracts, engine="spark", spark=spark)
    js4 = next(r for r in sp.rules if r.rule_id == "JS-4")
    assert js4.status == "error" and "jarowinkler_similarity" in js4.reason and "Spark" in js4.reason
    assert next(r for r in duck.rules if r.rule_id == "JS-4").status == "fail"  # DuckDB runs it
    assert [s for s in statuses(sp) if s[0] != "JS-4"] == [s for s in statuses(duck) if s[0] != "JS-4"]
    assert [v for v in verdicts(sp) if v[0] != "JS-4"] == [v for v in verdicts(duck) if v[0] != "JS-4"]
    assert sp.incomplete()  # the CLI exits 3: never a quiet pass


def test_history_is_duckdb_only_and_says_why(tmp_path):
    with pytest.raises(UsageError, match="DuckDB-only.*one transaction"):
        check([str(SAMPLE)], NIPT, engine="spark", history=tmp_path / "ledger.duckdb")


def test_duckdb_options_are_refused_with_spark_and_tables_with_duckdb():
    with pytest.raises(UsageError, match="--memory-limit bounds DuckDB"):
        check([str(SAMPLE)], NIPT, engine="spark", memory_limit="1GB")
    with pytest.raises(UsageError, match="only --engine spark"):
        check(["table:db.claims"], NIPT)


@pytest.fixture(scope="module")
def claims_table(spark):
    name = "claims_nipt"
    spark.read.parquet(str(SAMPLE)).repartition(3).write.mode("overwrite").saveAsTable(name)
    yield name
    spark.sql(f"DROP TABLE IF EXISTS {name}")


def test_a_catalog_table_gives_the_verdicts_of_its_files(spark, claims_table):
    duck = check([str(SAMPLE)], NIPT)
    sp = check([f"table:{claims_table}"], NIPT, engine="spark", spark=spark)
    assert verdicts(sp) == verdicts(duck) and statuses(sp) == statuses(duck)
    assert sp.lines == duck.lines and len(sp.inputs) == 3  # one input per data file of the table
    assert all(i["file"].startswith(f"table:{claims_table} ") for i in sp.inputs)
    assert {f.file for f in sp.findings} <= {i["file"] for i in sp.inputs}


def test_a_dataset_uri_is_read_by_spark(spark, tmp_path):
    folder = tmp_path / "dataset"
    folder.mkdir()
    t = pq.read_table(SAMPLE)
    pq.write_table(t.slice(0, 1000), folder / "a.parquet")
    pq.write_table(t.slice(1000), folder / "b.parquet")
    duck = check([str(folder)], NIPT)
    sp = check([folder.as_uri()], NIPT, engine="spark", spark=spark)
    assert verdicts(sp) == verdicts(duck) and statuses(sp) == statuses(duck)


def test_a_table_without_a_required_column_is_refused_naming_it(spark):
    spark.read.parquet(str(SAMPLE)).drop("mdtrt_id").write.mode("overwrite").saveAsTable("claims_no_visit")
    try:
        with pytest.raises(InputErrors) as e:
            check(["table:claims_no_visit"], NIPT, engine="spark", spark=spark)
        assert str(e.value.errors[0]) == "table:claims_no_visit, column mdtrt_id: required column is missing (就诊ID)"
    finally:
        spark.sql("DROP TABLE claims_no_visit")


def test_a_table_that_does_not_exist_is_refused(spark):
    with pytest.raises(InputErrors, match="table:no_such_table: cannot be read by Spark"):
        check(["table:no_such_table"], NIPT, engine="spark", spark=spark)


def errors(fn) -> list[str]:
    with pytest.raises(InputErrors) as e:
        fn()
    return [str(x) for x in e.value.errors]


@pytest.mark.parametrize("rows, types", [
    ([line(1), line(2, pric=float("nan")), line(3, pric=float("inf"))], {"pric": pa.float64()}),
    ([line(1), line(2, hilist_code="  "), line(3, hilist_code="\u3000")], None),
    ([line(1), line(2, mdtrtarea_admvs="3201"), line(3, mdtrtarea_admvs="32010x")], None),
    ([line(1), line(1, mdtrt_id="M00001  ")], None),
    ([line(1), line(2, fixmedins_code=None)], None),
], ids=["not finite", "blank", "pattern", "duplicate keys", "null"])
def test_broken_values_are_refused_with_the_same_located_errors(spark, write, rows, types):
    path = str(write(rows, types=types))
    duck = errors(lambda: check([path], NIPT))
    assert duck == errors(lambda: check([path], NIPT, engine="spark", spark=spark))
    assert all(path in e and "row" in e for e in duck)


def test_a_corrupt_page_names_the_file(spark, tmp_path):
    path = tmp_path / "corrupt.parquet"
    pq.write_table(table([line(n) for n in range(1, 400)]), path, compression="zstd")
    data = bytearray(path.read_bytes())
    for i in range(200, 600):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    found = errors(lambda: check([str(path)], NIPT, engine="spark", spark=spark))
    assert found and all(str(path) in e for e in found)


def test_the_callers_session_keeps_its_settings_views_and_memory(spark):
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    try:
        spark.range(1).createOrReplaceTempView("mine")
        check([str(SAMPLE)], NIPT, engine="spark", spark=spark)
        assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
        assert [t.name for t in spark.catalog.listTables() if t.isTemporary] == ["mine"]
        assert len(spark.sparkContext._jsc.sc().getRDDStorageInfo()) == 0  # no checkpointed block left
    finally:
        spark.conf.set("spark.sql.session.timeZone", "Asia/Shanghai")
        spark.catalog.dropTempView("mine")


def test_the_command_line_with_engine_spark(tmp_path):
    """claimcheck check --engine spark starts its own local session and stops it (and its JVM)."""
    from conftest import spark_missing

    if spark_missing():
        pytest.skip(spark_missing())
    out = tmp_path / "report.json"
    exe = Path(sys.executable).parent / "claimcheck"
    p = subprocess.run([str(exe), "check", str(SAMPLE), "--contracts", str(NIPT), "--engine", "spark",
                        "--spark-master", "local[1]", "--json", str(out)], capture_output=True, text=True,
                       timeout=600, cwd=tmp_path)
    assert p.returncode == 1, p.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["engine"]["name"] == "spark" and report["engine"]["master"] == "local[1]"
    duck = check([str(SAMPLE)], NIPT)
    assert report["summary"]["findings"] == duck.summary()["findings"] == 23
    assert "Traceback" not in p.stderr
    assert [f.name for f in tmp_path.iterdir()] == ["report.json"]  # no spark-warehouse, no metastore left


def test_the_command_line_refuses_history_with_spark_before_starting_it(run_cli, tmp_path):
    p = run_cli("check", SAMPLE, "--engine", "spark", "--history", tmp_path / "l.duckdb")
    assert p.returncode == 2 and "--history is DuckDB-only" in p.stderr and "Traceback" not in p.stderr
