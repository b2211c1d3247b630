"""The newer ways in, as a hostile user meets them: CSV and JSON Lines files, 3101/3102 requests
as input, standard input, data in memory through `checks.check`, and `claimcheck serve`.

Each case: exit 2 (or an InputErrors/UsageError in Python, infcode -1 from the server) with a
message naming the file and column, line or JSON path, control characters escaped, no traceback,
never a silent pass and never an overwritten input.
"""
from __future__ import annotations

import copy
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import checks
from checks.errors import InputErrors, UsageError
from test_inputs import CSV

ROOT = Path(__file__).resolve().parents[1]
EXE = str(Path(sys.executable).parent / "claimcheck")
MESSAGE = json.loads((ROOT / "tests" / "fixtures" / "nhsa" / "3101_nantong_nipt.json").read_text(encoding="utf-8"))
SAMPLE = ROOT / "sample_claims" / "jiangsu-nipt-1.0.0.parquet"
SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
HEADER, ROW1, ROW2 = CSV.splitlines()[:3]
ROWS = list(csv.DictReader(io.StringIO(CSV)))
LINES = "\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS)
ORDER_PATH = "input.data.patient_dtos[0].fsi_encounter_dtos[0].fsi_order_dtos[0]"


def run(*args, stdin: bytes | None = None):
    p = subprocess.run([EXE, "check", "--no-cache", *map(str, args), "--show", "0", "--allow-incomplete"],
                       capture_output=True, input=stdin if stdin is not None else b"", cwd=ROOT, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def refused(result, *names):
    code, out, err = result
    assert code == 2, (code, err)
    assert "Traceback" not in out + err and "internal error" not in err, err
    assert not any(c in err for c in "\x1b\u202e\x00"), err
    for n in names:
        assert str(n) in err, (n, err)


def given_file(tmp_path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def order(m: dict) -> dict:
    return m["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]["fsi_order_dtos"][0]


# --- CSV ---------------------------------------------------------------------------------------

def test_csv_with_a_bom_reads_its_first_column(tmp_path):
    path = given_file(tmp_path, "bom.csv", ("\ufeff" + CSV).encode("utf-8"))
    code, out, err = run(path, "--json", tmp_path / "r.json")
    assert code == 1, err
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["violations"]


def test_a_csv_header_naming_a_column_twice_is_refused_naming_it(tmp_path):
    path = given_file(tmp_path, "dup.csv", (HEADER + ",pric\n" + ROW1 + ",1\n").encode())
    refused(run(path), path, "column pric", "'pric' twice", "columns 13 and 21")


def test_csv_mixing_utf8_and_gb18030_lines_is_refused_naming_the_line(tmp_path):
    path = given_file(tmp_path, "mixed.csv", (HEADER + "\n" + ROW1 + "\n").encode() + (ROW2 + "\n").encode("gb18030"))
    refused(run(path), path, "--encoding")
    refused(run(path, "--encoding", "utf-8"), path, "not utf-8 text")


def test_an_unknown_encoding_is_refused(tmp_path):
    path = given_file(tmp_path, "x.csv", CSV.encode())
    refused(run(path, "--encoding", "no-such-codec"), "no-such-codec")


def test_an_encoding_given_for_parquet_is_refused_not_ignored():
    refused(run(SAMPLE, "--encoding", "gb18030"), "--encoding gb18030 is for CSV and JSON Lines")


@pytest.mark.parametrize("data", [b"", b"\n\n\n", (HEADER + "\n" + ROW1 + ",x,y\n" + ROW2[:30] + "\n").encode()],
                         ids=["empty", "newlines", "ragged"])
def test_an_empty_or_ragged_csv_is_refused(tmp_path, data):
    path = given_file(tmp_path, "x.csv", data)
    refused(run(path), path)


def test_a_csv_header_only_is_zero_lines_said_so(tmp_path):
    path = given_file(tmp_path, "h.csv", (HEADER + "\n").encode())
    code, out, err = run(path)
    assert code == 0 and "0 lines" in out + err, err


@pytest.mark.parametrize("value,shown", [("52\x000.00", "\\x00"), ("5\u202e2", "\\u202e"), ("1e400", "inf"),
                                         ("NaN", "NaN"), ("Infinity", "inf")])
def test_a_hostile_number_in_csv_names_file_column_and_row(tmp_path, value, shown):
    path = given_file(tmp_path, "x.csv", CSV.replace(",520.00,", f",{value},", 1).encode())
    refused(run(path), path, "PRIC", "row 1", shown)


def test_control_characters_in_a_csv_header_are_escaped(tmp_path):
    path = given_file(tmp_path, "x.csv", CSV.replace("PRIC", "PR\x1b[2J\u202eIC", 1).encode())
    refused(run(path), path, "PR\\x1b[2J\\u202eIC")


def test_a_quoted_newline_in_a_csv_name_is_one_value(tmp_path):
    path = given_file(tmp_path, "q.csv", CSV.replace("南京鼓楼医院,2025/03/01", '"南京\n鼓楼医院",2025/03/01', 1).encode())
    code, out, err = run(path, "--json", tmp_path / "r.json")
    assert code == 1, err
    r = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [v["fixmedins_name"] for v in r["violations"] if v["rule_id"] == "JS-1-price"] == ["南京\n鼓楼医院"]


@pytest.mark.parametrize("name,data", [("x.csv", CSV.encode()), ("x.jsonl", LINES.encode()),
                                       ("x.json", json.dumps(MESSAGE).encode())])
@pytest.mark.parametrize("option", ["--json", "--nhsa-json", "--findings"])
def test_an_output_on_a_text_input_is_refused_and_the_input_kept(tmp_path, name, data, option):
    path = given_file(tmp_path, name, data)
    # --findings to .json/.jsonl is refused for its suffix first; either way nothing is written
    refused(run(path, option, path), path, *(["claims are never overwritten"] if name == "x.csv" or option != "--findings" else []))
    assert path.read_bytes() == data


@SETTINGS
@given(st.lists(st.lists(st.sampled_from(["", "0010", "520.00", "1e400", "NaN", '"a,b"', '"x\ny"', "\x00",
                                          "\u202e", "2025-02-30", "南京", ",", '"']), max_size=25), max_size=4))
def test_any_csv_body_under_the_header_is_judged_or_refused(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("csv") / "x.csv"
    path.write_bytes((HEADER + "\n" + "\n".join(",".join(r) for r in rows) + "\n").encode())
    code, out, err = run(path)
    assert code in (0, 1, 2, 3) and "Traceback" not in err and "internal error" not in err, err
    if code == 2:
        assert str(path) in err


# --- JSON Lines ---------------------------------------------------------------------------------

def test_json_lines_with_numbers_beside_text_reads_both(tmp_path):
    path = given_file(tmp_path, "x.jsonl", LINES.replace('"520.00"', "520.0").encode())
    code, out, err = run(path, "--json", tmp_path / "r.json")
    assert code == 1, err
    assert [v["feedetl_sn"] for v in json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["violations"]
            if v["rule_id"] == "JS-1-price"] == ["0010"]


@pytest.mark.parametrize("value,shown", [("NaN", "NaN"), ("[1,2]", "[1,2]"), ('{"a":1}', '{"a":1}'),
                                         ("1" + "0" * 400, "inf")])
def test_a_hostile_json_lines_value_names_file_column_and_row(tmp_path, value, shown):
    path = given_file(tmp_path, "x.jsonl", LINES.replace('"520.00"', value).encode())
    refused(run(path), path, "row 1", shown)


@pytest.mark.parametrize("data,shown", [(LINES.replace('"PRIC": "520.00"', '"PRIC": "520.00", "PRIC": "1"', 1),
                                         "duplicate key"),
                                        (LINES + "\n{not json", "line 4"), ("[1,2]\n3\n", "required column")])
def test_broken_json_lines_are_refused_naming_the_file(tmp_path, data, shown):
    path = given_file(tmp_path, "x.jsonl", data.encode())
    refused(run(path), path, shown)


# --- a 3101/3102 request as input -------------------------------------------------------------

PRIC = "520.00"


def message_text(**order_over) -> str:
    m = copy.deepcopy(MESSAGE)
    order(m).update(order_over)
    return json.dumps(m, ensure_ascii=False)


@pytest.mark.parametrize("literal,shown", [("NaN", "NaN"), ("Infinity", "inf"), ("-Infinity", "-inf"),
                                           ("1e400", "inf"), ("9" * 5000, "inf"), ("1" + "0" * 400, "inf")])
def test_a_non_finite_or_huge_number_in_a_request_is_refused_naming_the_column(tmp_path, literal, shown):
    text = message_text(pric="@")
    path = given_file(tmp_path, "r.json", text.replace('"@"', literal).encode())
    refused(run(path), path, "column pric", shown)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e400", "abc", True, [1], {"a": 1}])
def test_a_wrong_price_in_a_request_names_its_json_path(tmp_path, value):
    path = given_file(tmp_path, "r.json", message_text(pric=value).encode())
    refused(run(path), path, f"{ORDER_PATH}.pric")


def test_numbers_as_text_in_a_request_are_read(tmp_path):
    path = given_file(tmp_path, "r.json", message_text(pric="520.5", cnt="1").encode())
    code, out, err = run(path)
    assert code == 1, err


def test_a_key_given_twice_in_a_request_is_refused_naming_it(tmp_path):
    text = message_text(pric="@").replace('"pric": "@"', '"pric": "1.00", "pric": "520.00"')
    path = given_file(tmp_path, "r.json", text.encode())
    refused(run(path), path, f"{ORDER_PATH}.pric: given more than once")


@pytest.mark.parametrize("mutate,path", [
    (lambda m: m["input"].__setitem__("data", [m["input"]["data"]]), "input.data: expected an object"),
    (lambda m: m["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0].__setitem__("fsi_order_dtos", [[1]]),
     f"{ORDER_PATH}: expected an object"),
    (lambda m: order(m).__setitem__("hilist_name", "无创\u202e\x1b[2J"), None),
], ids=["list-for-data", "list-for-order", "bidi-name"])
def test_a_request_of_the_wrong_shape_names_the_path(tmp_path, mutate, path):
    m = copy.deepcopy(MESSAGE)
    mutate(m)
    file = given_file(tmp_path, "r.json", json.dumps(m, ensure_ascii=False).encode())
    if path:
        refused(run(file), file, path)
    else:  # a name is data: judged, and shown escaped
        code, out, err = run(file, "--show", "5")
        assert code == 1 and "\x1b" not in out + err and "\u202e" not in out + err, out


@pytest.mark.parametrize("data,shown", [(b"", "not valid JSON"), (b"[]", "expected an object"),
                                        (b"null", "expected an object"), (b'"x"', "expected an object"),
                                        (b'{"input":' * 5000 + b"1" + b"}" * 5000, "nested too deeply"),
                                        (json.dumps(MESSAGE, ensure_ascii=False).encode("gb18030"), "not UTF-8"),
                                        (json.dumps(MESSAGE).encode() + b"\x00", "not valid JSON")])
def test_a_request_file_that_is_no_request_is_refused(tmp_path, data, shown):
    path = given_file(tmp_path, "r.json", data)
    refused(run(path), path, shown)


def test_a_request_lines_file_with_one_broken_line_names_that_line(tmp_path):
    path = given_file(tmp_path, "r.jsonl", (json.dumps(MESSAGE) + "\n{x\n").encode())
    refused(run(path), f"{path} line 2")


@SETTINGS
@given(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
                    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner,
                                                                                             max_size=3)),
                    max_leaves=12))
def test_any_json_put_in_place_of_an_order_is_judged_or_refused_with_its_path(tmp_path_factory, value):
    m = copy.deepcopy(MESSAGE)
    m["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]["fsi_order_dtos"][0] = value
    path = tmp_path_factory.mktemp("m") / "r.json"
    path.write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    code, out, err = run(path)
    assert code in (0, 1, 2, 3) and "Traceback" not in err and "internal error" not in err, err


# --- standard input -----------------------------------------------------------------------------

@pytest.mark.parametrize("data,shown", [(b"", "is empty"), (b"  \n\n", "stdin"), (os.urandom(4096), "stdin"),
                                        (CSV.encode(), "stdin"), (b"PAR1" + b"\x01" * 100 + b"PAR1", "Parquet"),
                                        (b'{"input": "\xff\xfe"}', "not UTF-8"),
                                        (json.dumps(MESSAGE).replace('"520.00"', "NaN").encode(), "column pric")])
def test_standard_input_that_is_not_claims_is_refused(data, shown):
    refused(run("-", stdin=data), "stdin", shown)


def test_a_request_on_standard_input_is_judged():
    code, out, err = run("-", stdin=json.dumps(MESSAGE).encode())
    assert code == 1, err


# --- data in memory through checks.check ---------------------------------------------------------

@pytest.fixture(scope="module")
def sample():
    return pq.read_table(SAMPLE).slice(0, 40)


def refused_in_python(data, *names, error=InputErrors, **kw):
    with pytest.raises(error) as e:
        checks.check(data, cache=False, **kw)
    for n in names:
        assert n in str(e.value), (n, str(e.value))


def test_a_dataframe_with_a_column_twice_is_refused_naming_it(sample):
    df = sample.to_pandas()
    df.columns = list(df.columns[:-1]) + [df.columns[0]]
    refused_in_python(df, "DataFrame", "'mdtrt_id' appears more than once")


def test_a_dataframe_with_non_text_column_names_is_refused_naming_the_missing_one(sample):
    df = sample.to_pandas()
    df.columns = [1] + list(df.columns[1:])
    refused_in_python(df, "DataFrame", "mdtrt_id")


@pytest.mark.parametrize("name", ["file_row_number", "FILENAME", "file_index", "__claimcheck_row"])
def test_a_table_with_a_reserved_column_is_refused_not_dropped(sample, name):
    refused_in_python(sample.append_column(name, pa.array(range(sample.num_rows))), name)


def test_a_stream_that_raises_midway_is_refused_and_leaves_no_spool(sample, tmp_path):
    def batches():
        yield sample.to_batches()[0].slice(0, 10)
        raise RuntimeError("producer died")
    reader = pa.RecordBatchReader.from_batches(sample.schema, batches())
    refused_in_python(reader, "stream", "after 10 line(s)", "producer died", temp_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("data", [42, None, {"a": 1}.values(), [SAMPLE, 3]])
def test_something_that_is_no_data_is_a_usage_error(data):
    refused_in_python(data, "cannot check", error=UsageError)


def test_a_message_with_a_huge_integer_built_in_python_is_refused(tmp_path):
    from checks.nhsa.message import read_message
    m = copy.deepcopy(MESSAGE)
    order(m)["pric"] = 10 ** 400
    refused_in_python(read_message(m), "column pric")


# --- claimcheck serve -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(tmp_path_factory):
    import httpx
    from serve_kit import serving
    d = tmp_path_factory.mktemp("serve")
    with serving("--waivers", str(d / "waivers.yaml"), "--history", str(d / "ledger.duckdb"),
                 log=d / "server.log") as s, \
            httpx.Client(base_url=s.url, timeout=120) as c:
        yield c


@pytest.mark.parametrize("body,status,shown", [
    (message_text(pric="@").replace('"pric": "@"', '"pric": "1", "pric": "520.00"'), 400,
     f"{ORDER_PATH}.pric: given more than once"),
    ('{"infno": "3103", "infno": "3101", "input": {"data": {}}}', 400, "request: infno: given more than once"),
    (message_text(pric="@").replace('"@"', "9" * 5000), 400, "pric"),
    (message_text(pric="@").replace('"@"', "NaN"), 400, "pric"),
    (message_text(pric=[1]), 400, f"{ORDER_PATH}.pric"),
    ("[]", 400, "request"),
    ("", 400, "not JSON"),
])
def test_a_hostile_request_to_the_server_is_answered_with_infcode_minus_1(client, body, status, shown):
    r = client.post("/3101", content=body.encode(), headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    a = r.json()
    assert a["infcode"] == -1 and shown in a["err_msg"], a
    assert "Traceback" not in r.text and "\x1b" not in r.text


def parquet_bytes(t: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(t, buf)
    return buf.getvalue()


def arrow_stream_cut(t: pa.Table) -> bytes:
    buf = io.BytesIO()
    with pa.ipc.new_stream(buf, t.schema) as w:
        w.write_table(t)
    return buf.getvalue()[:-300]  # a stream cut off in its last batch


@pytest.mark.parametrize("path,body,kind,shown", [
    ("/check", b"PAR1" + b"\x01" * 60 + b"PAR1", "application/vnd.apache.parquet", "body: not a readable Parquet"),
    ("/check", b"\xff" * 300, "application/vnd.apache.arrow.stream", "body: not an Arrow IPC stream"),
    ("/check", "cut", "application/vnd.apache.arrow.stream", "stream"),
    ("/check", "reserved", "application/vnd.apache.parquet", "body, column file_row_number"),
    ("/ledger", "filename", "application/vnd.apache.parquet", "body, column filename"),
])
def test_a_hostile_batch_body_is_the_callers_400_not_a_fault_of_ours(client, sample, path, body, kind, shown):
    body = {"cut": lambda: arrow_stream_cut(sample),
            "reserved": lambda: parquet_bytes(sample.append_column("file_row_number", pa.array(range(sample.num_rows)))),
            "filename": lambda: parquet_bytes(sample.append_column("filename", pa.array(["x"] * sample.num_rows))),
            }.get(body, lambda: body)()
    r = client.post(path, content=body, headers={"content-type": kind})
    assert r.status_code == 400, r.text
    assert r.json()["infcode"] == -1 and shown in r.json()["err_msg"], r.json()
    assert "claimcheck-body-" not in r.text and "Traceback" not in r.text
