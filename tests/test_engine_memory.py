"""Memory: what DuckDB must hold while judging is what it can spill.

The candidate lines joined to what is derived from other tables (`lines`: their institution)
are a temporary table when judging. As a view of that join, a findings query that reads it twice
(a rule, and in an anti-join the rule superseding it) had DuckDB materialise it in memory, which
it cannot spill: the hospital profile at 3M lines ran out of the default 512MB and completes in
it as a table (bench/README.md, "Memory"). The 3M run is a bench; the first test holds the engine
to the decision on a small batch. From COMPRESS_AT lines the candidate lines are written once,
their institution and in-policy amount written with them, and `lines` is a view of them (which
completes the amount where a file's money convention must tell it; the tests below)."""
from __future__ import annotations

import pathlib

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from checks import check
from checks.engine.duckdb import run as duckdb_run
import extracts
from conftest import ROOT, line


def test_the_lines_every_findings_query_reads_are_a_table_duckdb_can_spill(monkeypatch, write):
    statements = []
    real = duckdb_run.connect

    class Recording:
        def __init__(self, con):
            self._con = con

        def __getattr__(self, name):
            return getattr(self._con, name)

        def execute(self, sql, *args, **kwargs):
            statements.append(sql)
            return self._con.execute(sql, *args, **kwargs)

    monkeypatch.setattr(duckdb_run, "connect", lambda *a, **k: Recording(real(*a, **k)))
    report = check([str(write([line(1, price=520.0), line(2)]))])
    assert any(f.rule_id == "JS-1-price" for f in report.findings)
    made = [s.split(" AS ", 1)[0] for s in statements if s.startswith("CREATE TEMP") and " lines AS " in s]
    assert made == ["CREATE TEMP TABLE lines"], made


GOLDEN = sorted((ROOT / "sample_claims").glob("*.parquet"))


def _statements(monkeypatch) -> list[str]:
    statements = []
    real = duckdb_run.connect

    class Recording:
        def __init__(self, con):
            self._con = con

        def __getattr__(self, name):
            return getattr(self._con, name)

        def execute(self, sql, *args, **kwargs):
            statements.append(sql)
            return self._con.execute(sql, *args, **kwargs)

    monkeypatch.setattr(duckdb_run, "connect", lambda *a, **k: Recording(real(*a, **k)))
    return statements


@pytest.mark.parametrize("batch", GOLDEN, ids=lambda p: p.stem)
def test_a_large_batch_keeps_its_lines_compressed_and_finds_the_same(monkeypatch, batch, tmp_path):
    """From COMPRESS_AT lines, the candidate lines are written once, into a database file that
    compresses them (uncompressed they are some 450 bytes a line and outgrew 512MB at 3M lines of
    a NIPT lab); the findings, counts and what the ledger records are the same either way."""
    plain = check([str(batch)], cache=False, history=tmp_path / "plain.duckdb")
    statements = _statements(monkeypatch)
    monkeypatch.setattr(duckdb_run, "COMPRESS_AT", 0)
    spill = tmp_path / "spill"
    spill.mkdir()
    packed = check([str(batch)], cache=False, history=tmp_path / "packed.duckdb", temp_dir=str(spill))
    assert list(spill.iterdir()) == []   # the database file went with the spill folder
    assert any(s.startswith("ATTACH '") and s.endswith("lines.duckdb' AS claimcheck_work") for s in statements)
    assert any(s.startswith("CREATE TABLE lines_t AS") for s in statements)   # written once, there
    assert any(s.startswith("CREATE TEMP VIEW lines AS") for s in statements)  # not written again
    assert packed.table.equals(plain.table)
    stats = lambda r: [(x.rule_id, x.status, x.lines_checked, x.lines_not_judged, x.findings) for x in r.rules]  # noqa: E731
    assert stats(packed) == stats(plain)
    assert packed.history["recorded"] == plain.history["recorded"] > 0


HAND = ROOT / "tests" / "fixtures"
HAND_MADE = {  # batches other systems wrote: files, and the tables and column map they are checked with
    "oracle export, 符合范围 with 先行自付": (["extracts/oracle_incl.csv"], {}, None),
    "warehouse, Chinese headers, without 先行自付": (["extracts/warehouse_excl.csv"], {},
                                                 HAND / "extracts" / "warehouse_columns.yaml"),
    "Jiangxi HIS, institutions by crosswalk": (["policy/jiangxi_rmc_his.csv"],
                                               {"institution_crosswalk": HAND / "policy" / "institution_crosswalk.csv"}, None),
    "Jilin ART HIS, names as printed": (["policy/jilin_art_his.csv", "policy/names_his_a.csv", "policy/names_his_b.csv"],
                                        {"art_institutions": ROOT / "contracts/jilin-art/sample_art_institutions.csv"}, None),
    "consumables HIS": (["policy/consumables_his.csv"],
                        {"sunshine_catalogue": ROOT / "contracts/jiangsu-consumables/sample_catalogue.csv"}, None),
}


@pytest.mark.parametrize("case", HAND_MADE, ids=list(HAND_MADE))
def test_hand_made_batches_find_the_same_with_their_lines_written_once_compressed(monkeypatch, tmp_path, case):
    """Where the lines are written once (institutions resolved from the batch's own keys before,
    the in-policy amount completed after where a file's money convention must tell it), a batch
    another system wrote finds what it finds with the lines written twice: the two money conventions, a mapped header,
    institutions by crosswalk and by names printed as hospitals print them."""
    files, tables, columns = HAND_MADE[case]
    paths = []
    for k, name in enumerate(files):
        path = tmp_path / f"{k}-{pathlib.Path(name).stem}.parquet"
        typed = {"oracle_incl": extracts.ORACLE, "warehouse_excl": extracts.WAREHOUSE}.get(path.stem[2:])
        if typed is not None:  # written with the types those systems write
            extracts.build(path.stem[2:], typed, path)
        else:
            pq.write_table(pacsv.read_csv(HAND / name, convert_options=pacsv.ConvertOptions(strings_can_be_null=True)),
                           path)
        paths.append(str(path))
    tables = {k: str(v) for k, v in tables.items()}
    plain = check(paths, cache=False, tables=tables, columns=columns)
    statements = _statements(monkeypatch)
    monkeypatch.setattr(duckdb_run, "COMPRESS_AT", 0)
    packed = check(paths, cache=False, tables=tables, columns=columns)
    assert any(s.startswith("CREATE TABLE lines_t AS") for s in statements)
    assert packed.table.equals(plain.table)
    assert plain.findings
    assert [i.get("money_convention") for i in packed.inputs] == [i.get("money_convention") for i in plain.inputs]
