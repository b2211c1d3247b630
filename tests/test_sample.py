"""The sample generator: any size from one line up, made and written in chunks, as one file or a
folder of files, realistic or findings-heavy; its manifest is always exactly what the checker finds.

The bundled golden batches (one chunk each) are covered by test_golden.py.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from checks import check
from checks.errors import UsageError
from checks.sample import generator
from checks.sample.generator import SCENARIOS, generate

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = {"sunshine_catalogue": str(ROOT / "contracts/jiangsu-consumables/sample_catalogue.csv"),
             "art_institutions": str(ROOT / "contracts/jilin-art/sample_art_institutions.csv")}
ATTACHMENT1 = ROOT / "contracts/jiangsu-nipt/attachment1.csv"


def manifest(path: Path) -> list[tuple[str, str, str]]:
    with open(path, encoding="utf-8") as fh:
        return [(r["rule_id"], r["mdtrt_id"], r["feedetl_sn"]) for r in csv.DictReader(fh)]


def findings(path: Path) -> list[tuple[str, str, str]]:
    report = check([str(path)], tables=CATALOGUE)
    assert not [r.rule_id for r in report.rules if r.status == "error"]
    return [(f.rule_id, f.mdtrt_id, f.feedetl_sn) for f in report.findings]


def assert_checker_finds_exactly_the_manifest(batch: Path, planted: Path) -> int:
    got, want = findings(batch), manifest(planted)
    assert len(want) == len(set(want)), "a planted finding is listed twice"
    assert sorted(got) == sorted(want)
    return len(want)


@pytest.mark.parametrize("lines", [1, 2, 10, 150])
def test_a_small_batch_has_exactly_the_lines_asked_and_a_consistent_manifest(lines, tmp_path):
    out, planted = tmp_path / "s.parquet", tmp_path / "s.csv"
    g = generate(out, lines=lines, planted_path=planted)
    assert pq.read_metadata(out).num_rows == lines == g.lines
    assert assert_checker_finds_exactly_the_manifest(out, planted) == g.planted
    if lines == 1:
        assert g.planted == 0 and g.omitted == set(SCENARIOS)
    if lines == 150:  # every scenario fits, scaled down: one planted line per rule
        assert g.omitted == set() and {r for r, _, _ in manifest(planted)} >= {"JS-1-price", "FZ-7", "JL-3", "CS-1"}


@pytest.mark.parametrize("lines", ["1", "10", "150"])
def test_the_command_makes_small_batches_and_says_what_it_left_out(lines, run_cli, tmp_path):
    p = run_cli("sample", tmp_path / "s.parquet", "--lines", lines)
    assert p.returncode == 0, p.stderr
    assert f"wrote {lines} lines" in p.stdout and "internal error" not in p.stderr
    assert ("left out" in p.stdout) == (lines != "150")


def test_zero_lines_is_a_usage_error(run_cli, tmp_path):
    p = run_cli("sample", tmp_path / "s.parquet", "--lines", "0")
    assert p.returncode == 2 and "--lines must be at least 1, not 0" in p.stderr
    assert not (tmp_path / "s.parquet").exists()


def test_a_named_scenario_that_does_not_fit_is_an_error_stating_the_minimum(run_cli, tmp_path):
    out = tmp_path / "s.parquet"
    p = run_cli("sample", out, "--lines", "10", "--scenario", "jiangsu-nipt@1.0.0")
    assert p.returncode == 2 and "internal error" not in p.stderr
    assert "10 lines are too few for scenario jiangsu-nipt@1.0.0: --lines 43 or more" in p.stderr
    with pytest.raises(UsageError, match="--lines 43 or more"):  # the minimum is exact
        generate(out, lines=42, scenarios=["jiangsu-nipt@1.0.0"])
    g = generate(out, lines=43, scenarios=["jiangsu-nipt@1.0.0"], planted_path=tmp_path / "s.csv")
    assert g.lines == 43 and g.planted > 10
    assert_checker_finds_exactly_the_manifest(out, tmp_path / "s.csv")
    with pytest.raises(UsageError, match="chunks of 10 lines are too few .*: it needs 43 lines per chunk"):
        generate(tmp_path / "ds", lines=50, chunk_lines=10, partition_lines=20, scenarios=["jiangsu-nipt@1.0.0"])
    assert not (tmp_path / "ds").exists()  # nothing written


def test_a_multi_chunk_batch_is_checked_as_a_whole_and_finds_exactly_the_manifest(tmp_path):
    out, planted = tmp_path / "s.parquet", tmp_path / "s.csv"
    g = generate(out, lines=9000, chunk_lines=3000, planted_path=planted)
    table = pq.read_table(out)
    assert table.num_rows == 9000 and g.omitted == set()
    assert_checker_finds_exactly_the_manifest(out, planted)
    # no visit, person or settlement spans two chunks: every id starts with its chunk's tag
    tags = {c: {re.match(r"S?(C\d{4})", v)[1] for v in table[c].to_pylist()} for c in ("mdtrt_id", "psn_no", "setl_id")}
    assert all(t == {"C0000", "C0001", "C0002"} for t in tags.values()), tags
    assert {r[1][:5] for r in manifest(planted)} == {"C0000", "C0001", "C0002"}


def test_every_chunk_has_the_shape_of_a_one_chunk_batch_of_its_size(tmp_path):
    one = generate(tmp_path / "one.parquet", lines=20_000)
    three = generate(tmp_path / "three.parquet", lines=60_000, chunk_lines=20_000)
    assert three.planted == 3 * one.planted

    def scenario_lines(path):
        return duckdb.sql(f"SELECT count(*) FROM '{path}' WHERE mdtrt_id NOT LIKE '%MD%'").fetchall()[0][0]
    assert scenario_lines(tmp_path / "three.parquet") == 3 * scenario_lines(tmp_path / "one.parquet")


def test_the_same_seed_gives_the_same_batch_and_another_seed_another(tmp_path):
    runs = {}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate(tmp_path / f"{name}.parquet", lines=4000, seed=seed, chunk_lines=1500,
                 planted_path=tmp_path / f"{name}.csv")
        runs[name] = (pq.read_table(tmp_path / f"{name}.parquet"), (tmp_path / f"{name}.csv").read_text())
    assert runs["a"][0].equals(runs["b"][0]) and runs["a"][1] == runs["b"][1]
    assert not runs["a"][0].equals(runs["c"][0])


def test_a_partitioned_dataset_holds_the_lines_of_one_file_and_check_reads_the_folder(tmp_path, run_cli):
    folder, planted = tmp_path / "month", tmp_path / "month.csv"
    g = generate(folder, lines=5000, chunk_lines=1000, partition_lines=2000, planted_path=planted)
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert [pq.read_metadata(f).num_rows for f in files] == [2000, 2000, 1000] and g.files == files
    generate(tmp_path / "one.parquet", lines=5000, chunk_lines=1000, planted_path=tmp_path / "one.csv")
    assert pa.concat_tables(pq.read_table(f) for f in files).equals(pq.read_table(tmp_path / "one.parquet"))
    assert planted.read_text() == (tmp_path / "one.csv").read_text()
    assert_checker_finds_exactly_the_manifest(folder, planted)
    p = run_cli("check", folder, *(a for k, v in CATALOGUE.items() for a in ("--table", f"{k}={v}")), "--show", "0")
    assert p.returncode == 1 and f"findings: {len(manifest(planted)):,}" in p.stdout


def test_the_command_writes_a_folder_of_files(run_cli, tmp_path):
    p = run_cli("sample", tmp_path / "ds", "--lines", "3000", "--partition-lines", "1000", "--chunk-lines", "500")
    assert p.returncode == 0, p.stderr
    assert "wrote 3,000 lines to 3 files in" in p.stdout
    assert len(list((tmp_path / "ds").glob("part-*.parquet"))) == 3


def test_a_folder_is_never_written_over_nor_a_file_written_as_a_folder(tmp_path, run_cli):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "old.parquet").write_bytes(b"x")
    p = run_cli("sample", tmp_path / "used", "--lines", "10", "--partition-lines", "5")
    assert p.returncode == 2 and "must be a new or empty folder" in p.stderr
    p = run_cli("sample", tmp_path / "used", "--lines", "10")
    assert p.returncode == 2 and "is a folder; name a .parquet file, or add --partition-lines" in p.stderr
    assert [f.name for f in (tmp_path / "used").iterdir()] == ["old.parquet"]


def test_a_failed_run_leaves_no_part_of_a_dataset_and_an_earlier_file_untouched(tmp_path, monkeypatch):
    generate(tmp_path / "s.parquet", lines=50)
    before = (tmp_path / "s.parquet").read_bytes()
    made = []
    real = generator.Chunks.make

    def fail_on_the_second_chunk(self, n, rng, tag):
        made.append(tag)
        if len(made) % 2 == 0:
            raise RuntimeError("disk full")
        return real(self, n, rng, tag)
    monkeypatch.setattr(generator.Chunks, "make", fail_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        generate(tmp_path / "ds", lines=400, chunk_lines=100, partition_lines=100, planted_path=tmp_path / "ds.csv")
    assert list((tmp_path / "ds").iterdir()) == []  # not even the finished first part: the whole dataset or nothing
    assert not (tmp_path / "ds.csv").exists()
    with pytest.raises(RuntimeError):
        generate(tmp_path / "s.parquet", lines=400, chunk_lines=100)
    assert (tmp_path / "s.parquet").read_bytes() == before and sorted(tmp_path.glob("s.*")) == [tmp_path / "s.parquet"]


def test_progress_is_reported_after_every_chunk(tmp_path):
    seen = []
    generate(tmp_path / "s.parquet", lines=1000, chunk_lines=300, progress=seen.append)
    assert seen == [250, 500, 750, 1000]


def test_the_findings_heavy_profile_is_one_overcharge_on_most_lines_and_its_manifest_is_exact(tmp_path):
    out, planted = tmp_path / "h.parquet", tmp_path / "h.csv"
    g = generate(out, lines=6000, chunk_lines=2000, profile="findings-heavy", planted_path=planted)
    assert g.lines == 6000 and g.planted >= 3000
    assert_checker_finds_exactly_the_manifest(out, planted)
    # independently of the checker: the profile's detections (visits JSHD…) are each 10 yuan above their
    # institution's price in 附件1, and each is planted once, under the price rule of its role
    detections, overcharged, planted_right = duckdb.sql(f"""
        SELECT count(*), count(*) FILTER (WHERE c.pric = a.price + 10),
               count(*) FILTER (WHERE m.rule_id = CASE a.role WHEN '中选产前诊断机构' THEN 'JS-1-price'
                                                              ELSE 'JS-2-price' END)
        FROM '{out}' c JOIN (SELECT institution, hilist_code, max(price) AS price, any_value(role) AS role
                             FROM read_csv('{ATTACHMENT1}') GROUP BY ALL) a  -- 吴中, 江滨: two rows, the higher price
             ON a.institution = c.fixmedins_name AND a.hilist_code = c.hilist_code
        LEFT JOIN read_csv('{planted}', all_varchar=true) m USING (mdtrt_id, feedetl_sn)
        WHERE c.mdtrt_id LIKE '%JSHD%'""").fetchall()[0]
    assert detections == overcharged == planted_right > 6000 / 2


@pytest.mark.parametrize("profile, prefix, share", [
    ("hospital", "JSC", 0.25), ("nipt-lab", ("JSN", "FZA", "FZB"), 0.90), ("art-clinic", "JLA", 0.80),
    ("bureau", ("JSN", "JSC", "JXR", "FZA", "FZB", "JLA"), 0.70)])
def test_each_shape_of_batch_has_its_mix_of_policy_lines_and_an_exact_manifest(profile, prefix, share, tmp_path):
    out, planted = tmp_path / "p.parquet", tmp_path / "p.csv"
    g = generate(out, lines=12_000, chunk_lines=6_000, profile=profile, planted_path=planted)
    assert g.lines == pq.read_metadata(out).num_rows == 12_000 and g.omitted == set()
    ids = pq.read_table(out, columns=["mdtrt_id"]).column("mdtrt_id").to_pylist()
    # the chunk's tag (C0000, C0001), then the scenario's own prefix (JSN, JLA, …) or the ordinary lines' MD…
    mine = sum(re.sub(r"^C\d+", "", i).startswith(prefix) for i in ids) / len(ids)
    assert share * 0.85 <= mine <= min(1.0, share * 1.15 + 0.06)
    assert assert_checker_finds_exactly_the_manifest(out, planted) == g.planted


def test_the_command_knows_every_profile(run_cli, tmp_path):
    p = run_cli("sample", tmp_path / "s.parquet", "--lines", "3000", "--profile", "bureau")
    assert p.returncode == 0 and "wrote 3,000 lines" in p.stdout
    bad = run_cli("sample", tmp_path / "t.parquet", "--profile", "clinic")
    assert bad.returncode == 2 and "nipt-lab" in bad.stderr + bad.stdout
