"""One rule, one definition, two engines: Spark (local mode) and DuckDB give identical reports.

For every contract's examples, every bundled sample batch, the hand-built extracts, a hive-
partitioned dataset and a batch of awkward values (half-fen ties, 1.2e7, 5e-4, nanosecond times),
both engines must agree on every finding — every column of the findings table: rule, version,
visit, line, severity, amount, expected, actual, message, citation, related line, file, row —
and on every rule's status, lines checked, lines not judged and reason, the files' money
conventions and each contract's lines in force.
"""
from __future__ import annotations

import datetime as dt
import shutil

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import extracts
from checks import check
from checks.contract import load_contracts
from checks.contract.examples import _table, example_rows
from conftest import ROOT

SAMPLES = ROOT / "sample_claims"
CATALOGUE = {"sunshine_catalogue": str(ROOT / "contracts/jiangsu-consumables/sample_catalogue.csv")}
VERSIONS = {v.key: v for v in load_contracts(ROOT / "contracts", use_samples=True)}
GOLDEN = sorted(SAMPLES.glob("*.parquet"))


def rules(report) -> list[tuple]:
    return [(r.contract_id, r.contract_version, r.rule_id, r.status, r.lines_checked, r.findings, r.amount,
             r.lines_not_judged, r.reason) for r in report.rules]


def findings(report) -> list[dict]:
    return sorted(report.table.to_pylist(), key=lambda f: (f["contract_id"], f["contract_version"], f["rule_id"],
                                                          f["file"], f["row"]))


def assert_same(duck, spark):
    assert spark.engine["name"] == "spark" and duck.engine["name"] == "duckdb"
    assert findings(spark) == findings(duck)
    assert rules(spark) == rules(duck)
    assert spark.inputs == duck.inputs
    assert spark.contracts == duck.contracts
    assert spark.summary() == duck.summary()


def both(spark, paths, **options):
    paths = [str(p) for p in paths]
    return check(paths, **options), check(paths, engine="spark", spark=spark, **options)


def write_examples(version, path, extra=()):
    rows, _ = example_rows(version)
    pq.write_table(_table(rows + list(extra)), path)
    return path


@pytest.mark.parametrize("key", sorted(VERSIONS))
def test_every_contracts_examples(spark, tmp_path, key):
    version = VERSIONS[key]
    duck, sp = both(spark, [write_examples(version, tmp_path / "examples.parquet")], contracts=[version])
    assert duck.table.num_rows > 0
    assert_same(duck, sp)


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_every_bundled_sample_batch(spark, path):
    duck, sp = both(spark, [path], tables=CATALOGUE)
    assert duck.table.num_rows > 0
    assert_same(duck, sp)


def test_all_samples_as_one_batch_of_six_files(spark):
    duck, sp = both(spark, [SAMPLES], tables=CATALOGUE)
    assert len(duck.inputs) == 6
    assert_same(duck, sp)


def test_the_oracle_extract(spark, tmp_path):
    path = extracts.build("oracle_incl", extracts.ORACLE, tmp_path / "oracle.parquet")
    duck, sp = both(spark, [path], contracts_dir=ROOT / "contracts/jiangsu-nipt")
    assert {(f.rule_id, f.mdtrt_id, f.feedetl_sn, f.severity) for f in sp.findings} == extracts.expected()
    assert_same(duck, sp)


def test_the_warehouse_extract_with_its_column_map(spark, tmp_path):
    path = extracts.build("warehouse_excl", extracts.WAREHOUSE, tmp_path / "warehouse.parquet")
    duck, sp = both(spark, [path], contracts_dir=ROOT / "contracts/jiangsu-nipt",
                    columns=extracts.HERE / "warehouse_columns.yaml")
    assert sp.inputs[0]["columns"]["mdtrt_id"] == "就诊ID"
    assert_same(duck, sp)


def test_a_hive_partitioned_dataset_whose_folders_supply_a_required_field(spark, tmp_path):
    t = pq.read_table(SAMPLES / "jiangsu-nipt-1.0.0.parquet")
    root = tmp_path / "claims"
    for region in pc.unique(t["mdtrtarea_admvs"]).to_pylist():
        part = t.filter(pc.equal(t["mdtrtarea_admvs"], region)).drop_columns(["mdtrtarea_admvs"])
        folder = root / f"mdtrtarea_admvs={region}"
        folder.mkdir(parents=True)
        third = part.num_rows // 3  # two files per folder, of different lengths
        pq.write_table(part.slice(0, third), folder / "part 0[x].parquet")
        pq.write_table(part.slice(third), folder / "part 1[x].parquet")
    duck, sp = both(spark, [root], contracts_dir=ROOT / "contracts/jiangsu-nipt")
    assert len(duck.inputs) > 2 and duck.inputs[0]["partitions"]
    assert_same(duck, sp)


def test_awkward_values(spark, tmp_path):
    """Half-fen binary ties (60.125, 0.625), amounts Java writes in scientific notation (1.2e7,
    5e-4), nanosecond timestamps and a time zone: the messages must read the same."""
    nipt = VERSIONS["jiangsu-nipt@1.0.0"]
    rows, _ = example_rows(nipt)
    edge = []
    for k, (price, total) in enumerate([(60.125, 60.125), (60.625, 121.25)]):
        edge.append({**rows[0], "mdtrt_id": f"E{k}", "psn_no": f"EP{k}", "hilist_code": "250700010-b",
                     "pric": price, "cnt": total / price, "det_item_fee_sumamt": total})
    edge.append({**rows[0], "mdtrt_id": "E9", "psn_no": "EP9", "det_item_fee_sumamt": 500.125, "fulamt_ownpay_amt": 0.0,
                 "overlmt_amt": 100.625, "preselfpay_amt": 37.0, "inscp_scp_amt": 370.0})
    path = write_examples(nipt, tmp_path / "nipt.parquet", edge)
    duck, sp = both(spark, [path], contracts=[nipt])
    assert_same(duck, sp)
    assert any("60.13" in f.message for f in duck.findings)

    fz = VERSIONS["fuzhou-nipt-subsidy@2.0.0"]
    rows, _ = example_rows(fz)
    big = {**rows[0], "mdtrt_id": "BIG", "psn_no": "PB", "poverty_flag": True, "subsidy_amt": 0.0005,
           "pric": 12345678.9, "cnt": 1.0, "det_item_fee_sumamt": 12345678.9}
    path = write_examples(fz, tmp_path / "fz.parquet", [big])
    duck, sp = both(spark, [path], contracts=[fz])
    assert any("12345678.9" in (f.actual or "") and "0.0005" in (f.actual or "") for f in duck.findings)
    assert_same(duck, sp)

    t = pq.read_table(SAMPLES / "jiangsu-nipt-1.0.0.parquet")
    for unit, tz in [("ns", None), ("us", "UTC"), ("ns", "Asia/Shanghai")]:
        typ = pa.timestamp(unit, tz=tz)
        col = t["fee_ocur_time"].cast(pa.timestamp(unit))
        if tz is not None:  # the same instants, written in another zone: China time must read alike
            col = pc.assume_timezone(col, "Asia/Shanghai").cast(typ)
        path = tmp_path / f"times-{unit}-{tz}.parquet".replace("/", "_")
        pq.write_table(t.set_column(t.schema.get_field_index("fee_ocur_time"), "fee_ocur_time", col), path)
        duck, sp = both(spark, [path], contracts=[nipt])
        assert duck.table.num_rows > 0
        assert_same(duck, sp)


def test_the_sample_copied_into_a_folder_with_awkward_names(spark, tmp_path):
    folder = tmp_path / "批次 2025%[1]"
    folder.mkdir()
    shutil.copy(SAMPLES / "jiangxi-rmc-1.0.0.parquet", folder / "江西 {a}*.parquet")
    duck, sp = both(spark, [folder], tables=CATALOGUE)
    assert_same(duck, sp)
