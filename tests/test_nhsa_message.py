"""The national 3101/3102 request as input, and the national answer as output.

The requests in tests/fixtures/nhsa/ are written by hand in the shapes HIS integrations send
(../shared/NHSA_INTERFACE.md): a full envelope with numbers as text (jiangsu_3102_strings.json),
one with history orders (curr_drord_flag 0) and numbers as JSON numbers (fuzhou_3101_history.json).
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import checks
from checks.errors import InputErrors
from checks.nhsa import read_message, read_message_file
from checks.report.nhsa_out import national_answer
from conftest import ROOT

FIX = ROOT / "tests" / "fixtures" / "nhsa"
EXE = str(Path(sys.executable).parent / "claimcheck")


def load(name: str) -> dict:
    return json.loads((FIX / name).read_text(encoding="utf-8"))


def keys(report) -> set:
    return {(f.rule_id, f.severity, f.mdtrt_id, f.feedetl_sn, f.amount) for f in report.findings}


def run(*args, stdin=None):
    return subprocess.run([EXE, "check", "--no-cache", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          input=stdin)


# -- round trips ---------------------------------------------------------------------------------

def test_a_3102_request_gives_the_findings_of_the_same_lines_as_a_parquet_file(tmp_path):
    # the three orders of jiangsu_3102_strings.json, as an extract would hold them
    base = {"mdtrt_id": "32010600000000881", "psn_no": "32010000000000000777", "insutype": "310", "med_type": "51",
            "mdtrtarea_admvs": "320106", "insuplc_admdvs": "320106", "fixmedins_code": "H32010600001",
            "fixmedins_name": "南京鼓楼医院", "gend": "2", "brdy": dt.date(1990, 1, 1), "main_diag_code": "Z36.000",
            "list_type": "201", "fulamt_ownpay_amt": 0.0}
    rows = [
        dict(base, feedetl_sn="0010", fee_ocur_time=dt.datetime(2025, 3, 1, 14, 50), hilist_code="CJ30303033341300103001",
             hilist_name="无创产前基因检测服务", cnt=1.0, pric=520.0, det_item_fee_sumamt=520.0, chrgitm_lv="02"),
        dict(base, feedetl_sn="0011", fee_ocur_time=dt.datetime(2025, 3, 1, 14, 50), hilist_code="250700010-b",
             hilist_name="胎儿染色体非整倍体无创产前基因诊断服务", cnt=2.0, pric=60.0, det_item_fee_sumamt=120.0,
             chrgitm_lv="02"),
        dict(base, feedetl_sn="0012", fee_ocur_time=dt.datetime(2025, 3, 1, 14, 52), hilist_code="250301002",
             hilist_name="肝功能检测", cnt=1.0, pric=36.0, det_item_fee_sumamt=36.0, chrgitm_lv="01"),
    ]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "same.parquet")
    from_file = checks.check([tmp_path / "same.parquet"], cache=False)
    from_message = checks.check(read_message_file(FIX / "jiangsu_3102_strings.json"), cache=False)
    assert keys(from_message) == keys(from_file)
    assert {(k[0], k[3]) for k in keys(from_message)} == {("JS-1-price", "0010"), ("JS-3", "0011")}
    assert [f.row for f in from_message.findings if f.rule_id == "JS-1-price"] == [1]  # the order's position


def test_what_a_request_cannot_carry_is_not_judged_never_a_violation():
    report = checks.check(read_message_file(FIX / "jiangsu_3102_strings.json"), cache=False)
    by_id = {r.rule_id: r for r in report.rules if r.contract_id == "jiangsu-nipt"}
    assert by_id["JS-7-detection"].status == "error" and by_id["JS-7-detection"].findings == 0
    assert "inscp_scp_amt" in by_id["JS-7-detection"].reason
    assert by_id["JS-6-limit"].findings == 0 and "a 3101/3102 request carries none" in by_id["JS-6-limit"].reason
    assert report.incomplete()


def test_an_earlier_order_counts_for_once_per_pregnancy_but_gets_no_finding_of_its_own():
    msg = load("fuzhou_3101_history.json")
    report = checks.check(read_message(msg), cache=False)
    assert {(f.rule_id, f.feedetl_sn, f.severity) for f in report.findings} == {("FZ-7", "RX2025030100007", "suspect")}
    assert report.findings[0].related["feedetl_sn"] == "RX2025011500031"  # the earlier order it counted
    # a second earlier order (Feb.) is itself a second payment: as context it is not reported
    enc = msg["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"]
    feb = copy.deepcopy(enc[0])
    feb["mdtrt_id"] = "MZ20250210000101"
    feb["fsi_order_dtos"][0].update(rx_id="RX2025021000011", drord_begn_date="2025-02-10 09:00:00")
    enc.insert(1, feb)
    report = checks.check(read_message(msg), cache=False)
    assert {f.feedetl_sn for f in report.findings} == {"RX2025030100007"}
    feb["fsi_order_dtos"][0]["curr_drord_flag"] = "1"  # the same order sent as this request's: reported
    report = checks.check(read_message(msg), cache=False)
    assert {f.feedetl_sn for f in report.findings} == {"RX2025021000011", "RX2025030100007"}


def test_a_request_without_optional_dtos_and_in_camel_case_with_one_encounter_object():
    msg = load("fuzhou_3101_history.json")["input"]  # a bare input object
    patient = msg["data"]["patient_dtos"][0]
    encounter = patient.pop("fsi_encounter_dtos")[1]
    del patient["fsi_his_data_dto"]
    for k in ("fsi_diagnose_dtos", "fsi_operation_dtos"):
        del encounter[k]
    encounter["orderDtos"] = encounter.pop("fsi_order_dtos")
    encounter["orderDtos"][0]["rxId"] = encounter["orderDtos"][0].pop("rx_id")
    patient["encounterDtos"] = encounter  # one object, not a list (seen in the wild)
    m = read_message(msg)
    assert m.envelope == {} and m.table.num_rows == 2
    assert m.table.column("main_diag_code").to_pylist() == ["Z34.900", "Z34.900"]  # dscg_main_dise_codg
    assert m.table.column("feedetl_sn").to_pylist()[0] == "RX2025030100007"
    report = checks.check(m, cache=False)
    assert report.findings == []  # the earlier payment was not sent: nothing to count
    assert national_answer(report)["output"]["result"] == []


# -- malformed requests --------------------------------------------------------------------------

def errors_of(obj) -> list[str]:
    with pytest.raises(InputErrors) as e:
        read_message(obj)
    return [str(x) for x in e.value.errors]


def test_a_value_of_the_wrong_type_is_named_by_its_json_path():
    msg = load("jiangsu_3102_strings.json")
    msg["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]["fsi_order_dtos"][2]["pric"] = "abc"
    assert errors_of(msg) == ["request: input.data.patient_dtos[0].fsi_encounter_dtos[0].fsi_order_dtos[2].pric: "
                              "expected a number, got 'abc'"]


def test_missing_patient_dtos_a_string_for_a_list_and_unknown_fields_are_each_named():
    msg = load("jiangsu_3102_strings.json")
    del msg["input"]["data"]["patient_dtos"]
    assert errors_of(msg) == ["request: input.data: patient_dtos is missing: a request names at least one patient "
                              "(patient_dtos[])"]
    msg = load("jiangsu_3102_strings.json")
    enc = msg["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]
    enc["fsi_order_dtos"] = "0010,0011"
    enc["fsi_diagnose_dtos"][1]["dise_cdg"] = "O09.500"
    got = errors_of(msg)
    assert got[0] == "request: input.data.patient_dtos[0].fsi_encounter_dtos[0].fsi_order_dtos: expected a list, got '0010,0011'"
    assert got[1].startswith("request: input.data.patient_dtos[0].fsi_encounter_dtos[0].fsi_diagnose_dtos[1].dise_cdg: "
                             "unknown field; did you mean 'dise_codg'?")


def test_a_missing_required_value_names_the_national_field():
    msg = load("fuzhou_3101_history.json")
    del msg["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][1]["fsi_order_dtos"][1]["sumamt"]
    assert errors_of(msg) == ["request: input.data.patient_dtos[0].fsi_encounter_dtos[1].fsi_order_dtos[1].sumamt: "
                              "is missing or empty; a claim line needs it (det_item_fee_sumamt)"]


@pytest.mark.parametrize("body", [
    b'{"input": {"data": {"patient_dtos": ' + b"[" * 5_000_000 + b"]" * 5_000_000 + b"}}}",
    b'{"input": {"data": {"patient_dtos": [{"fsi_his_data_dto": ' + b'{"a": ' * 400_000 + b"1" + b"}" * 400_000
    + b"}]}}}",
], ids=["10MB-of-lists", "objects-in-a-free-field"])
def test_deep_nesting_is_exit_2_naming_the_problem_never_a_traceback(tmp_path, body):
    (tmp_path / "deep.json").write_bytes(body)
    p = run(tmp_path / "deep.json")
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr and "deep.json" in p.stderr
    assert "nested too deeply" in p.stderr


def test_the_command_line_names_the_json_path_and_exits_2(tmp_path):
    msg = load("jiangsu_3102_strings.json")
    msg["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]["fsi_order_dtos"][0]["cnt"] = [1]
    (tmp_path / "bad.json").write_text(json.dumps(msg, ensure_ascii=False), encoding="utf-8")
    p = run(tmp_path / "bad.json")
    assert p.returncode == 2
    assert "bad.json: input.data.patient_dtos[0].fsi_encounter_dtos[0].fsi_order_dtos[0].cnt: expected a number, " \
           "got a list" in p.stderr


# -- JSON Lines, the command line, the answer -------------------------------------------------------

def test_json_lines_of_requests_and_the_national_answer_on_the_command_line(tmp_path):
    lines = [json.dumps(load(n), ensure_ascii=False) for n in ("jiangsu_3102_strings.json", "fuzhou_3101_history.json")]
    (tmp_path / "requests.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    p = run(tmp_path / "requests.jsonl", "--allow-incomplete", "--nhsa-json", tmp_path / "answer.json")
    assert p.returncode == 1, p.stderr
    answer = json.loads((tmp_path / "answer.json").read_text(encoding="utf-8"))
    schema = json.loads(resources.files("checks.nhsa").joinpath("answer.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(answer)
    got = {(r["rule_id"], r["judge_result_detail_dtos"][0]["rx_id"]) for r in answer["output"]["result"]}
    assert got == {("jiangsu-nipt/JS-1-price", "0010"), ("jiangsu-nipt/JS-3", "0011"),
                   ("fuzhou-nipt-subsidy/FZ-7", "RX2025030100007")}
    assert answer["inf_refmsgid"] == "H32010600001202503011502330017"  # the first request's msgid


def test_a_json_lines_line_that_is_broken_is_named_by_its_line(tmp_path):
    good = json.dumps(load("fuzhou_3101_history.json"), ensure_ascii=False)
    (tmp_path / "r.jsonl").write_text(good + "\n" + good.replace('"cnt": 1,', '"cnt": "x",') + "\n", encoding="utf-8")
    p = run(tmp_path / "r.jsonl")
    assert p.returncode == 2
    assert "r.jsonl line 2: input.data.patient_dtos[0].fsi_encounter_dtos[1].fsi_order_dtos[0].cnt: expected a " \
           "number, got 'x'" in p.stderr


def test_the_code_map_overrides_the_defaults_and_a_broken_one_is_exit_2(tmp_path):
    (tmp_path / "codes.yaml").write_text("sev_deg: {suspect: '3'}\nvola_bhvr_type: {frequency: '07'}\n",
                                         encoding="utf-8")
    p = run(FIX / "fuzhou_3101_history.json", "--nhsa-json", tmp_path / "a.json", "--nhsa-codes", tmp_path / "codes.yaml",
            "--fail-on", "never")
    assert p.returncode == 0, p.stderr
    (result,) = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))["output"]["result"]
    assert (result["sev_deg"], result["vola_bhvr_type"], result["vola_amt_stas"]) == ("3", "07", "1")
    (tmp_path / "codes.yaml").write_text("sev_deg: {suspekt: '3'}\n", encoding="utf-8")
    p = run(FIX / "fuzhou_3101_history.json", "--nhsa-json", tmp_path / "a.json", "--nhsa-codes", tmp_path / "codes.yaml")
    assert p.returncode == 2 and "codes.yaml:1" in p.stderr and "suspekt" in p.stderr and "suspect" in p.stderr


def test_the_answer_envelope_from_the_api():
    msg = read_message_file(FIX / "fuzhou_3101_history.json")
    answer = national_answer(checks.check(msg, cache=False), msg)
    assert (answer["infcode"], answer["err_msg"], answer["inf_refmsgid"]) == (0, "", "H35010200012202503011030150001")
    (result,) = answer["output"]["result"]
    assert (result["patn_id"], result["mdtrt_id"], result["task_id"]) == (
        "35010000000000123456", "MZ20250301000871", "H35010200012202503011030150001")
    assert [(d["rx_id"], d["vola_item_type"]) for d in result["judge_result_detail_dtos"]] == [
        ("RX2025030100007", "1"), ("RX2025011500031", "2")]


# -- diagnoses ---------------------------------------------------------------------------------------

def test_a_secondary_diagnosis_is_an_indication_for_a_diagnosis_scoped_rule(contracts_copy):
    # JL-PGT (PGT biopsy needs a monogenic or structural indication) judged on the request's lines:
    # its `when` reads the money split a request cannot carry, so this copy of the contract drops it
    path = contracts_copy / "jilin-art" / "1.1.0.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: JL-PGT")
    path.write_text(text[:start] + text[start:].replace("    when: inpolicy_amt <> 0\n", "", 1), encoding="utf-8")
    msg = load("jilin_3101_bare_input.json")

    def pgt(m):
        report = checks.check(read_message(m), contracts_dir=contracts_copy, cache=False)
        return [(f.rule_id, f.feedetl_sn) for f in report.findings if f.rule_id == "JL-PGT"]

    assert pgt(msg) == []  # main N97.900 (infertility), secondary Q95.000 (balanced translocation)
    dx = msg["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]["fsi_diagnose_dtos"]
    dx[1]["dise_codg"] = "E28.200"  # polycystic ovaries: no indication among the encounter's diagnoses
    assert pgt(msg) == [("JL-PGT", "YZ0000451001")]
    dx[0]["dise_codg"], dx[1]["dise_codg"] = "Q95.000", "N97.900"  # the indication as the main one
    assert pgt(msg) == []
