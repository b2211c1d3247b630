"""`claimcheck serve` as a hospital system meets it: a real uvicorn process on a loopback port,
httpx as the client. The national calls, the 3103 → waiver round trip, and every way a request
can be wrong (each answered with the national envelope, never a trace)."""
from __future__ import annotations

import subprocess

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from serve_kit import EXE, ROOT, message, order, post, serving

TOKEN = "s3cret-token-for-tests"
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("serve")
    with serving("--waivers", str(d / "waivers.yaml"), "--max-body", "4000000", "--max-depth", "32",
                 env={"CLAIMCHECK_TOKEN": TOKEN}, log=d / "server.log") as s:
        s.dir = d
        yield s


@pytest.fixture()
def client(server):
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=120) as c:
        yield c


def test_a_3101_order_above_the_selected_price_gets_the_national_answer(client):
    r = post(client, "/3101", message())
    assert r.status_code == 200
    a = r.json()
    assert a["infcode"] == 0 and a["err_msg"] == ""
    assert a["inf_refmsgid"] == "H32060253008202507200900000001"
    (res,) = a["output"]["result"]
    assert res["rule_id"] == "jiangsu-nipt/JS-1-price"
    assert res["vola_amt"] == 20.0 and res["sev_deg"] == "1" and res["patn_id"] == "JSNPN00000059"
    assert "520.00" in res["vola_cont"] and "SELECT" not in res["vola_cont"]
    (line,) = res["judge_result_detail_dtos"]
    assert line == {"jrd_id": res["jr_id"] + "-1", "patn_id": "JSNPN00000059", "mdtrt_id": "JSNV00000059",
                    "rx_id": "RX202507200001", "vola_item_type": "1", "vola_amt": 20.0}


def test_the_same_call_by_the_envelope_infno_at_the_root(client):
    by_path = post(client, "/3101", message()).json()["output"]["result"]
    by_infno = post(client, "/", message(infno="3102")).json()["output"]["result"]
    assert [r["jr_id"] for r in by_infno] == [r["jr_id"] for r in by_path]


def test_an_order_within_the_price_gets_an_empty_result(client):
    m = message()
    order(m).update(pric="480.00", sumamt="480.00")
    a = post(client, "/3101", m).json()
    assert a["infcode"] == 0 and a["output"]["result"] == []


def test_a_consultation_fee_is_warned_only_in_the_encounter_that_bills_the_diagnosis_report(client):
    """JS-5 reads a consultation fee only beside the NIPT diagnosis report of the same encounter
    (a line the engine keeps in the call's first scan and drops when its visit lacks the report).
    The HIS sends the grade in the fee's name, in full-width brackets, and the price as text."""
    m = message()
    enc = m["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]
    base = enc["fsi_order_dtos"][0]
    report = dict(base, rx_id="RX-DIAG", hilist_code="250700010-b", hilist_name="胎儿染色体非整倍体无创产前基因诊断服务",
                  hilist_type="201", pric="60.00", sumamt="60.00", cnt="1")
    fee = dict(base, rx_id="RX-CONSULT", hilist_code="110200001a", hilist_name="门诊诊查费（副主任医师）",
               hilist_type="201", hilist_lv="甲", pric="25.00", sumamt="25.00", cnt="1", ownpay_amt="0.00")
    enc["fsi_order_dtos"] = [report, fee]
    (res,) = [r for r in post(client, "/3101", m).json()["output"]["result"] if r["rule_id"] == "jiangsu-nipt/JS-5"]
    assert [d["rx_id"] for d in res["judge_result_detail_dtos"]] == ["RX-CONSULT"]
    assert res["vola_amt"] == 25.0
    enc["fsi_order_dtos"] = [fee]  # the fee alone: nothing of JS-5
    assert all(r["rule_id"] != "jiangsu-nipt/JS-5" for r in post(client, "/3101", m).json()["output"]["result"])


def test_an_earlier_order_sent_as_context_gets_no_finding_of_its_own(client):
    m = message()
    order(m)["curr_drord_flag"] = "0"
    assert post(client, "/3101", m).json()["output"]["result"] == []


def test_a_kept_warning_becomes_a_waiver_and_the_next_answer_shows_it_waived(server, client):
    jr = post(client, "/3101", message()).json()["output"]["result"][0]["jr_id"]
    back = {"infno": "3103", "msgid": "H32060253008202507200905000002", "opter": "D0317", "opter_name": "王医生",
            "input": {"data": {"warn_type": "1", "warns": [
                {"warn_rslt_id": jr, "dspo_way": "1", "dspo_way_rea": "患者已签署自费知情同意书，价格经物价科确认"}]}}}
    r = post(client, "/3103", back)
    assert r.status_code == 200 and r.json()["infcode"] == 0
    assert r.json()["output"] == {"stored": 1, "waivers_added": [f"3103-{jr}"]}

    listed = subprocess.run([EXE, "waivers", "list", str(server.dir / "waivers.yaml")],
                            cwd=ROOT, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert f"3103-{jr}" in listed.stdout and "王医生" in listed.stdout and "物价科确认" in listed.stdout
    assert "jiangsu-nipt/JS-1-price@1.1.0" in listed.stdout and "feedetl_sn=RX202507200001" in listed.stdout

    again = post(client, "/3101", message()).json()["output"]
    assert again["result"] == []
    (w,) = again["waived"]
    assert w["waiver_id"] == f"3103-{jr}" and w["rx_id"] == "RX202507200001" and "知情同意" in w["reason"]
    # the same disposition sent twice adds no second waiver
    assert post(client, "/3103", back).json()["output"]["waivers_added"] == []


def test_a_warning_sent_back_for_change_is_stored_without_a_waiver(server, client):
    m = message()
    order(m).update(rx_id="RX-BACK-1")
    jr = post(client, "/3101", m).json()["output"]["result"][0]["jr_id"]
    back = {"infno": "3103", "opter": "D0317", "input": {"data": {"warn_type": "1", "warns": [
        {"warn_rslt_id": jr, "dspo_way": "2", "dspo_way_rea": ""}]}}}
    assert post(client, "/", back).json()["output"] == {"stored": 1, "waivers_added": []}
    assert post(client, "/3101", m).json()["output"]["result"][0]["jr_id"] == jr  # still warned


@pytest.mark.parametrize("warn, path", [
    ({"warn_rslt_id": "x", "dspo_way": "1", "dspo_way_rea": ""}, "warns[0].dspo_way_rea"),
    ({"warn_rslt_id": "x", "dspo_way": "3"}, "warns[0].dspo_way"),
    ({"dspo_way": "2"}, "warns[0].warn_rslt_id"),
    ({"warn_rslt_id": "0" * 32, "dspo_way": "2"}, "no result"),
])
def test_a_wrong_disposition_is_refused_naming_the_field(client, warn, path):
    r = post(client, "/3103", {"infno": "3103", "input": {"data": {"warn_type": "1", "warns": [warn]}}})
    assert r.status_code == 400 and r.json()["infcode"] == -1 and path in r.json()["err_msg"]


@pytest.mark.parametrize("mutate, path", [
    (lambda m: m["input"]["data"].pop("patient_dtos"), "input.data: patient_dtos is missing"),
    (lambda m: m["input"]["data"].update(patient_dtos="JSNPN00000059"), "patient_dtos: expected a list"),
    (lambda m: order(m).update(cnt="一"), "fsi_order_dtos[0].cnt: expected a number"),
    (lambda m: order(m).pop("hilist_code"), "fsi_order_dtos[0].hilist_code: is missing"),
    (lambda m: order(m).update(drord_begn_date="20/07/2025"), "drord_begn_date: expected a date or time"),
])
def test_a_malformed_message_gets_infcode_minus_1_naming_the_json_path(client, mutate, path):
    m = message()
    mutate(m)
    r = post(client, "/3101", m)
    assert r.status_code == 400
    a = r.json()
    assert a["infcode"] == -1 and path in a["err_msg"], a["err_msg"]
    assert a["inf_refmsgid"] == m["msgid"] and "Traceback" not in r.text


def test_not_json_oversized_deeply_nested_and_wrong_content_type(client):
    bad = client.post("/3101", content=b'{"infno": "3101", ', headers={"content-type": "application/json"})
    assert bad.status_code == 400 and "not JSON" in bad.json()["err_msg"]
    big = client.post("/3101", content=b" " * 4_500_000, headers={"content-type": "application/json"})
    assert big.status_code == 413 and big.json()["infcode"] == -1 and "4,000,000 bytes" in big.json()["err_msg"]
    deep = client.post("/3101", content=b"[" * 1_500_000 + b"]" * 1_500_000, headers={"content-type": "application/json"})
    assert deep.status_code == 400 and "nested 1500000 levels" in deep.json()["err_msg"]
    xml = client.post("/3101", content=b"<input/>", headers={"content-type": "application/xml"})
    assert xml.status_code == 415 and "application/json" in xml.json()["err_msg"]
    wrong_call = post(client, "/", message(infno="9001"))
    assert wrong_call.status_code == 400 and "request.infno" in wrong_call.json()["err_msg"]


def test_an_unauthenticated_request_is_refused_and_health_stays_open(server):
    with httpx.Client(base_url=server.url, timeout=30) as anon:
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": f"Basic {TOKEN}"}):
            r = post(anon, "/3101", message(), headers=headers)
            assert r.status_code == 401 and r.json()["infcode"] == -1
        assert anon.get("/contracts").status_code == 401
        assert anon.get("/health").json()["status"] == "ok"


def test_health_contracts_rules_and_metrics(client):
    assert client.get("/health").json()["contracts"] >= 6
    listed = client.get("/contracts").json()
    assert "JS-1-price" in next(c for c in listed if c["contract_id"] == "jiangsu-nipt")["rules"]
    explained = subprocess.run([EXE, "explain", "JS-1-price"], cwd=ROOT,
                               capture_output=True, text=True).stdout
    assert client.get("/rules/JS-1-price").text == explained
    assert client.get("/rules/JS-404").status_code == 404
    post(client, "/3101", message())
    text = client.get("/metrics").text
    assert 'claimcheck_requests_total{path="/3101",status="200"}' in text
    assert 'claimcheck_request_seconds_bucket{path="/3101",le="+Inf"}' in text
    assert 'claimcheck_findings_total{rule="jiangsu-nipt/JS-1-price"}' in text
    assert 'claimcheck_errors_total{kind="malformed"}' in text


def test_post_check_takes_parquet_or_arrow_and_answers_json_or_arrow(client):
    path = ROOT / "sample_claims" / "jiangsu-nipt-1.0.0.parquet"
    expected = {(r, m, s) for r, m, s in (x.split(",") for x in
                (ROOT / "sample_claims" / "jiangsu-nipt-1.0.0.expected.csv").read_text().split()[1:])}
    r = client.post("/check", content=path.read_bytes(), headers={"content-type": "application/vnd.apache.parquet"})
    assert r.status_code == 200
    got = {(f["rule_id"], f["mdtrt_id"], f["feedetl_sn"]) for f in r.json()["violations"]
           if f["severity"] != "data_quality"}
    assert got == expected
    sink = pa.BufferOutputStream()
    table = pq.read_table(path)
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    arrow = client.post("/check", content=sink.getvalue().to_pybytes(),
                        headers={"content-type": "application/vnd.apache.arrow.stream",
                                 "accept": "application/vnd.apache.arrow.stream"})
    findings = pa.ipc.open_stream(arrow.content).read_all()
    assert {(r, m, s) for r, m, s, sev in zip(*(findings[c].to_pylist() for c in
            ("rule_id", "mdtrt_id", "feedetl_sn", "severity"))) if sev != "data_quality"} == expected
    assert client.post("/check", content=b"a,b\n1,2\n", headers={"content-type": "text/csv"}).status_code == 415


def test_admin_reload_needs_the_token(server, client):
    assert client.post("/admin/reload").json()["reloaded"] is True
    with httpx.Client(base_url=server.url, timeout=30) as anon:
        assert anon.post("/admin/reload").status_code == 401


def test_a_public_bind_without_a_token_refuses_to_start():
    r = subprocess.run([EXE, "serve", "--host", "0.0.0.0", "--port", "1"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120, env={k: v for k, v in __import__("os").environ.items()
                                                                         if k != "CLAIMCHECK_TOKEN"})
    assert r.returncode == 2 and "--token" in r.stderr and "Traceback" not in r.stderr


def test_the_access_log_carries_no_patient_identifier(server, client):
    post(client, "/3101", message())
    log = server.read_log()
    assert "POST /3101 200" in log
    for ident in ("JSNPN00000059", "JSNV00000059", "RX202507200001", "李某某"):
        assert ident not in log
