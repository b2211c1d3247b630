"""One input layer: data in memory, streams, CSV and JSON Lines, standard input — each judged as the
same lines in a Parquet file are (same column map, money convention, checks, located errors)."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import checks
from checks.errors import InputErrors
from conftest import ROOT

SAMPLE = ROOT / "sample_claims" / "jiangsu-nipt-1.0.0.parquet"
EXE = str(Path(sys.executable).parent / "claimcheck")


def keys(report) -> set:
    return {(f.rule_id, f.severity, f.mdtrt_id, f.feedetl_sn, f.row, round(f.amount, 2)) for f in report.findings}


@pytest.fixture(scope="module")
def from_file():
    return checks.check([SAMPLE], cache=False)


class OnlyAStream:
    """What polars, a Flight client or any Arrow producer hands over: the PyCapsule stream alone."""

    def __init__(self, table):
        self.table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self.table.__arrow_c_stream__(requested_schema)


@pytest.mark.parametrize("make", [
    pytest.param(lambda t: t, id="Table"),
    pytest.param(lambda t: t.combine_chunks().to_batches()[0], id="RecordBatch"),
    pytest.param(lambda t: pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=700)),
                 id="RecordBatchReader"),
    pytest.param(lambda t: OnlyAStream(t), id="arrow_c_stream"),
    pytest.param(lambda t: t.to_pandas(types_mapper=pd_arrow()), id="pandas-DataFrame"),
    pytest.param(lambda t: duckdb.connect().from_arrow(t), id="DuckDB-relation"),
])
def test_every_in_memory_type_gives_the_findings_of_the_file(from_file, make):
    data = make(pq.read_table(SAMPLE))
    report = checks.check(data, cache=False, name="batch")
    assert report.lines == from_file.lines
    assert keys(report) == keys(from_file) and report.findings
    assert {r.ref: r.status for r in report.rules} == {r.ref: r.status for r in from_file.rules}
    assert report.inputs[0]["file"] == "batch"
    assert report.inputs[0]["money_convention"] == from_file.inputs[0]["money_convention"]


@pytest.mark.parametrize("make", [pytest.param(lambda t: t, id="Table"),
                                  pytest.param(lambda t: t.to_pandas(), id="pandas-DataFrame")])
def test_a_large_table_is_written_to_parquet_first_and_judged_alike(from_file, make, tmp_path, monkeypatch):
    """From SPOOL_FROM lines a Table is spooled (DuckDB normalises Parquet text once per distinct
    value, Arrow text once per line): the same findings, rows and name, and no file left behind."""
    from checks.claims import source
    monkeypatch.setattr(source, "SPOOL_FROM", 1000)
    written = []
    real = source._stream_to_parquet
    monkeypatch.setattr(source, "_stream_to_parquet", lambda *a, **k: written.append(1) or real(*a, **k))
    report = checks.check(make(pq.read_table(SAMPLE)), cache=False, name="extract", temp_dir=str(tmp_path))
    assert written, "a table above SPOOL_FROM lines was registered, not spooled"
    assert keys(report) == keys(from_file) and report.inputs[0]["file"] == "extract"
    assert list(tmp_path.iterdir()) == []
    small = checks.check(make(pq.read_table(SAMPLE).slice(0, 999)), cache=False, temp_dir=str(tmp_path))
    assert len(written) == 1 and small.lines == 999  # below it, registered as it is


def pd_arrow():
    import pandas as pd
    return pd.ArrowDtype


def test_a_table_in_memory_takes_the_column_map_and_upper_case_names():
    t = pq.read_table(SAMPLE)
    t = t.rename_columns([{"mdtrt_id": "就诊ID"}.get(c, c.upper()) for c in t.column_names])
    report = checks.check(t, cache=False, columns={"mdtrt_id": ["就诊ID"]})
    assert len(report.findings) == len(checks.check([SAMPLE], cache=False).findings)


def test_a_table_of_the_wrong_structure_names_the_column():
    t = pq.read_table(SAMPLE)
    t = t.set_column(t.schema.get_field_index("pric"), "pric", t["pric"].cast(pa.string()))
    with pytest.raises(InputErrors) as e:
        checks.check(t, cache=False, name="extract")
    assert str(e.value.errors[0]) == ("extract, column pric: type string is not allowed; valid: integer, "
                                      "floating point or decimal")


def test_a_bad_value_in_memory_names_its_row():
    t = pq.read_table(SAMPLE).slice(0, 10)
    rows = t.to_pylist()
    rows[6]["mdtrtarea_admvs"] = "32010"  # five digits
    with pytest.raises(InputErrors) as e:
        checks.check(pa.Table.from_pylist(rows, schema=t.schema), cache=False, name="extract")
    err = e.value.errors[0]
    assert (err.file, err.column, err.row) == ("extract", "mdtrtarea_admvs", 7)


def test_a_stream_larger_than_the_memory_limit_is_checked(tmp_path):
    """1.2M background lines (≈ 170 MB in Arrow) through a reader, DuckDB held to 100MB."""
    one = pq.read_table(SAMPLE).slice(0, 1).to_pylist()[0]
    n, chunk = 1_200_000, 100_000
    schema = pq.read_schema(SAMPLE)
    produced = [0]

    def batches():
        for start in range(0, n, chunk):
            cols = {k: pa.array([v] * chunk, schema.field(k).type) for k, v in one.items()}
            cols["mdtrt_id"] = pa.array([f"BG{start + i:09d}" for i in range(chunk)])
            cols["hilist_code"] = pa.array(["250301002"] * chunk)  # 肝功能检测: no rule's code
            rb = pa.RecordBatch.from_pydict(cols, schema=schema)
            produced[0] += rb.nbytes
            yield rb

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    report = checks.check(reader, cache=False, memory_limit="100MB", temp_dir=str(tmp_path))
    assert report.lines == n and produced[0] > 100 * 2 ** 20
    assert list(tmp_path.iterdir()) == []  # the spooled stream is gone


def test_spark_refuses_data_in_memory_with_a_reason():
    with pytest.raises(checks.errors.UsageError, match="--engine spark reads Parquet files"):
        checks.check(pq.read_table(SAMPLE), engine="spark")


# -- CSV and JSON Lines ------------------------------------------------------------------------------

CSV = """MDTRT_ID,FEEDETL_SN,PSN_NO,INSUTYPE,MED_TYPE,MDTRTAREA_ADMVS,FIXMEDINS_CODE,FIXMEDINS_NAME,FEE_OCUR_TIME,HILIST_CODE,HILIST_NAME,CNT,PRIC,DET_ITEM_FEE_SUMAMT,FULAMT_OWNPAY_AMT,OVERLMT_AMT,PRESELFPAY_AMT,INSCP_SCP_AMT,FETTS,CHRGITM_LV
M0001,0010,P0001,310,51,320106,H32010600001,南京鼓楼医院,2025/03/01 09:30:00,CJ30303033341300103001,无创产前基因检测服务,1,520.00,520.00,0,150,37,333,1,02
M0002,0001,P0002,310,51,320106,H32010600001,南京鼓楼医院,2025-03-01 10:00:00,CJ30303033341300103001,无创产前基因检测服务,1,500,500,0,130,37,333,,02
"""


@pytest.mark.parametrize("encoding, option", [("utf-8", []), ("gb18030", ["--encoding", "gb18030"]),
                                              ("gb18030", [])], ids=["utf-8", "gb18030-given", "gb18030-detected"])
def test_csv_keeps_leading_zeros_in_codes_in_either_encoding(tmp_path, encoding, option):
    (tmp_path / "export.csv").write_bytes(CSV.encode(encoding))
    p = subprocess.run([EXE, "check", "--no-cache", str(tmp_path / "export.csv"), "--json", str(tmp_path / "r.json"),
                        *option, "--allow-incomplete"], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 1, p.stderr
    import json
    r = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    hit = [(v["rule_id"], v["feedetl_sn"], v["fixmedins_name"]) for v in r["violations"] if v["rule_id"] == "JS-1-price"]
    assert hit == [("JS-1-price", "0010", "南京鼓楼医院")]


def test_csv_value_that_is_no_number_names_file_line_and_column(tmp_path):
    (tmp_path / "export.csv").write_text(CSV.replace(",500,500,", ",5OO,500,"), encoding="utf-8")
    with pytest.raises(InputErrors) as e:
        checks.check(str(tmp_path / "export.csv"), cache=False)
    assert str(e.value.errors[0]).endswith("export.csv, column PRIC, row 2: 1 value(s) are not a number (e.g. line 3: '5OO')")


def test_json_lines_of_claim_lines(tmp_path):
    import json
    import csv
    rows = list(csv.DictReader(io.StringIO(CSV)))
    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    report = checks.check(str(tmp_path / "lines.jsonl"), cache=False)
    assert [(f.rule_id, f.feedetl_sn) for f in report.findings if f.rule_id == "JS-1-price"] == [("JS-1-price", "0010")]


# -- standard input ------------------------------------------------------------------------------------

def stdin_run(data: bytes, tmp_path):
    return subprocess.run([EXE, "check", "--no-cache", "-", "--json", str(tmp_path / "r.json"), "--show", "0",
                           "--allow-incomplete"], cwd=ROOT,
                          capture_output=True, input=data)


@pytest.mark.parametrize("fmt", ["parquet", "arrow-ipc"])
def test_standard_input_reads_parquet_or_an_arrow_stream(tmp_path, fmt, from_file):
    import json
    t = pq.read_table(SAMPLE)
    buf = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(t, buf)
    else:
        with pa.ipc.new_stream(buf, t.schema) as w:
            w.write_table(t)
    p = stdin_run(buf.getvalue(), tmp_path)
    assert p.returncode == 1, p.stderr
    r = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert len(r["violations"]) + len(r["waived"]) == len(from_file.table)
    assert r["inputs"][0]["file"] == "stdin"


def test_standard_input_that_is_nothing_readable_is_exit_2(tmp_path):
    p = stdin_run(b"hello, not claims", tmp_path)
    assert p.returncode == 2 and b"stdin" in p.stderr and b"Traceback" not in p.stderr


def test_the_readme_python_example_runs(tmp_path):
    import re
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "checks.check(table" in b]
    code = block.replace('"sample_claims/', f'"{ROOT}/sample_claims/')
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the README's own example
    assert scope["answer"]["infcode"] == 0 and len(scope["findings"]) == scope["report"].table.num_rows


def test_standard_input_that_is_a_terminal_is_refused_not_waited_on():
    import os
    import pty
    master, tty = pty.openpty()
    try:
        p = subprocess.run([EXE, "check", "--no-cache", "-"], stdin=tty, capture_output=True, timeout=120)
    finally:
        os.close(master)
        os.close(tty)
    assert p.returncode == 2 and b"standard input, which is a terminal" in p.stderr
