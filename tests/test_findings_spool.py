"""Many findings are kept in a file, not in memory (checks/report/spool.py).

Beyond SPOOL_AT findings the engine writes them to an Arrow IPC file in the temporary folder,
maps it read-only and unlinks it. The report, every output written from it and the temporary
folder left behind must be exactly as when the findings are held in memory; the writers that go
through every finding must let the file's pages go as they pass (at 100M lines of the hospital
profile, 5.94M findings held in memory took the run from about 1 GB to 7.8 GB).
The spool threshold is lowered here so that small batches cross it."""
from __future__ import annotations

import json
import re
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from checks import check
from checks.report import spool, write_outputs
from checks.sample.generator import generate
from conftest import line, table
from test_engine_pinned import PROFILES, TABLES, digest

OUTPUTS = {"json": "r.json", "findings": "f.parquet", "nhsa": "n.json", "sarif": "r.sarif", "junit": "r.xml"}


def _write(report, folder):
    folder.mkdir()
    write_outputs(report, {k: str(folder / v) for k, v in OUTPUTS.items()})
    return folder


def _findings_of(folder):
    d = json.loads((folder / "r.json").read_text(encoding="utf-8"))
    return d["violations"], d["waived"], d["summary"]


@pytest.fixture
def heavy(tmp_path_factory):
    out = tmp_path_factory.mktemp("heavy") / "findings-heavy.parquet"  # named as the pinned digest names it
    generate(out, lines=8_000, chunk_lines=4_000, profile="findings-heavy")
    return out


def test_findings_beyond_the_threshold_are_read_from_a_file_and_are_the_same(heavy, tmp_path, monkeypatch):
    held = check([str(heavy)], tables=TABLES, cache=False)
    assert not spool.mapped(held.table)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(spool, "SPOOL_AT", 100)
    spooled = check([str(heavy)], tables=TABLES, cache=False, temp_dir=str(temp))
    assert spool.mapped(spooled.table)
    assert spooled.table.num_rows == PROFILES["findings-heavy"][0]
    assert spooled.table.equals(held.table)
    assert digest(spooled, heavy.parent) == PROFILES["findings-heavy"]
    assert list(temp.iterdir()) == []   # the file was unlinked once mapped: nothing is left behind


def test_every_output_written_from_a_spooled_report_is_the_same(heavy, tmp_path, monkeypatch):
    a = _write(check([str(heavy)], tables=TABLES, cache=False), tmp_path / "held")
    monkeypatch.setattr(spool, "SPOOL_AT", 100)
    report = check([str(heavy)], tables=TABLES, cache=False)
    assert spool.mapped(report.table)
    b = _write(report, tmp_path / "spooled")
    assert _findings_of(a) == _findings_of(b)
    assert pq.read_table(a / "f.parquet").equals(pq.read_table(b / "f.parquet"))
    assert pq.ParquetFile(b / "f.parquet").metadata.num_rows == PROFILES["findings-heavy"][0]
    national = lambda f: json.loads(f.read_text(encoding="utf-8"))["output"]  # noqa: E731  (not its times)
    assert national(a / "n.json") == national(b / "n.json")
    junit = lambda f: re.sub(r'(time|timestamp)="[^"]*"', "", f.read_text(encoding="utf-8"))  # noqa: E731
    assert junit(a / "r.xml") == junit(b / "r.xml")
    sarif = lambda f: json.loads(f.read_text(encoding="utf-8"))["runs"][0]["results"]  # noqa: E731
    assert sarif(a / "r.sarif") == sarif(b / "r.sarif")


def test_waivers_apply_to_spooled_findings(heavy, tmp_path, monkeypatch):
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n- id: W-1\n  rule: JS-1-price\n  reason: 已核实为阳光挂网价调整前的订单\n"
                       "  owner: 医保办 张三\n  expires: 2099-12-31\n", encoding="utf-8")
    held = check([str(heavy)], tables=TABLES, cache=False, waivers=waivers)
    monkeypatch.setattr(spool, "SPOOL_AT", 100)
    spooled = check([str(heavy)], tables=TABLES, cache=False, waivers=waivers)
    assert held.summary()["waived"] > 0
    assert spooled.summary() == held.summary()
    assert spooled.table.equals(held.table)


def _resident_kb(mm) -> int:
    """The resident kilobytes of the mapping of `mm`, from /proc/self/smaps."""
    start = pa.py_buffer(mm).address
    lines = open("/proc/self/smaps", encoding="ascii").read().splitlines()
    for i, line in enumerate(lines):
        head = line.split()[0]
        if "-" in head and int(head.split("-")[0], 16) == start:
            rss = next(x for x in lines[i + 1:] if x.startswith("Rss:"))
            return int(rss.split()[1])
    raise AssertionError("mapping not found")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")
def test_release_lets_go_of_the_pages_a_reader_touched_and_the_data_stays(tmp_path):
    s = spool.Spool(pa.schema([("x", pa.string())]), str(tmp_path), at=0)
    text = pa.array([f"第{i}行" * 40 for i in range(20_000)])
    for k in range(0, 20_000, 5_000):
        s.add(pa.record_batch([text.slice(k, 5_000)], names=["x"]))
    t = s.table()
    assert spool.mapped(t) and list(tmp_path.iterdir()) == []
    data = t["x"].chunk(0).buffers()[2].address
    mm = next(m for m in list(spool._MAPS)
              if pa.py_buffer(m).address <= data < pa.py_buffer(m).address + pa.py_buffer(m).size)
    assert pc.sum(pc.utf8_length(t["x"])).as_py() == sum(len(v) for v in text.to_pylist())
    assert _resident_kb(mm) > 1000   # reading every value brought the file's pages in
    spool.release()
    assert _resident_kb(mm) == 0
    assert t["x"].to_pylist() == text.to_pylist()   # and they come back from the file when read again


def test_a_discarded_spool_leaves_no_file_behind(tmp_path):
    s = spool.Spool(pa.schema([("x", pa.int64())]), str(tmp_path), at=1)
    s.add(pa.record_batch([pa.array([1, 2, 3])], names=["x"]))
    assert len(list(tmp_path.iterdir())) == 1
    s.discard()
    assert list(tmp_path.iterdir()) == []


def test_a_hand_written_extract_in_upper_case_columns_and_float_money_gives_the_same_findings_spooled(
        tmp_path, monkeypatch):
    """Not our generator's batch: 30 Jiangsu NIPT lines as a HIS extract writes them, column names
    upper-case and money as floating-point yuan (float64, where our own files write decimals),
    every price 520 yuan against the 500 ceiling."""
    rows = [line(k, price=520.0) for k in range(1, 31)]
    t = table(rows)
    money = {"pric", "det_item_fee_sumamt", "inscp_scp_amt", "preselfpay_amt", "fulamt_ownpay_amt", "overlmt_amt"}
    assert money <= set(t.column_names) and all(pa.types.is_decimal(t[c].type) for c in money)
    cols = [pc.cast(t[c], pa.float64()) if c in money else t[c] for c in t.column_names]
    path = tmp_path / "his_extract.parquet"
    pq.write_table(pa.table(cols, names=[c.upper() for c in t.column_names]), path)
    assert pq.read_schema(path).field("PRIC").type == pa.float64()
    held = check([str(path)], cache=False)
    assert sum(f.rule_id == "JS-1-price" for f in held.findings) == 30
    assert {f.actual for f in held.findings if f.rule_id == "JS-1-price"} == {"520.00"}
    monkeypatch.setattr(spool, "SPOOL_AT", 5)
    spooled = check([str(path)], cache=False)
    assert spool.mapped(spooled.table)
    assert spooled.table.equals(held.table)


def test_an_engine_failure_after_findings_were_spooled_leaves_no_file_and_says_so(heavy, tmp_path, monkeypatch):
    """The spool has a file when a later rule's query fails (a full disk, a killed spill): the
    check stops with the engine's error, and the file written so far is gone."""
    import checks.engine.plan as plan
    from checks.errors import ClaimcheckError

    real = plan.findings_sql

    def failing_last(*a, **k):
        queries = real(*a, **k)
        return queries + [f"SELECT * FROM ({queries[0]}) WHERE CAST(error('the spill disk is gone') AS BOOLEAN)"]

    monkeypatch.setattr(plan, "findings_sql", failing_last)
    monkeypatch.setattr(spool, "SPOOL_AT", 100)
    temp = tmp_path / "temp"
    temp.mkdir()
    with pytest.raises(ClaimcheckError) as e:
        check([str(heavy)], tables=TABLES, cache=False, temp_dir=str(temp))
    assert "the spill disk is gone" in str(e.value)
    assert list(temp.iterdir()) == []


def test_the_words_of_many_findings_are_kept_in_a_file_beside_them_and_read_the_same(heavy, tmp_path, monkeypatch):
    """A finding's words are computed a chunk at a time and, many of them, written to a file in the
    findings' folder (frequency findings have a sentence each: held in Python, art-clinic 10M's
    took 1.5 GB). Across chunks, and with the sentences remembered between chunks dropped, they
    are the words of the findings held in memory."""
    from checks.report import said

    held = check([str(heavy)], tables=TABLES, cache=False)
    expected = pc.cast(said.finding_words(held.table, held.rules, "zh"), pa.string()).to_pylist()
    assert len(set(expected)) > 3
    monkeypatch.setattr(spool, "SPOOL_AT", 100)
    monkeypatch.setattr(said, "WORDS_CHUNK", 700)
    monkeypatch.setattr(said, "MEMO_MAX", 3)
    folders = []
    real_mkstemp = spool.tempfile.mkstemp
    monkeypatch.setattr(spool.tempfile, "mkstemp", lambda **k: folders.append(k.get("dir")) or real_mkstemp(**k))
    temp = tmp_path / "temp"
    temp.mkdir()
    spooled = check([str(heavy)], tables=TABLES, cache=False, temp_dir=str(temp))
    words = said.finding_words(spooled.table, spooled.rules, "zh")
    assert spool.mapped(pa.table({"words": words}))
    assert pc.cast(words, pa.string()).to_pylist() == expected
    assert folders == [str(temp), str(temp)]   # the findings' file, then the words'
    assert list(temp.iterdir()) == []
