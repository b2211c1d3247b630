"""`claimcheck serve` under operations: reload while answering, SIGTERM with a request in flight,
kill -9 while a settlement is being recorded, and 200 clients at once. Real processes, loopback
only, every loop bounded."""
from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from serve_kit import EXE, ROOT, Server, message, post, serving, with_orders

TOKEN = "ops-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


def wait_for(pred, what: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def in_flight(client, path: str) -> int:
    m = re.search(rf'claimcheck_in_flight\{{path="{re.escape(path)}"\}} (\d+)', client.get("/metrics").text)
    return int(m.group(1)) if m else 0


def settlement(patient: str, orders: int = 3) -> dict:
    m = with_orders(message(infno="3102"), orders)
    m["input"]["data"]["trig_scen"] = "6"  # 门诊结算
    p = m["input"]["data"]["patient_dtos"][0]
    p["patn_id"] = patient
    enc = p["fsi_encounter_dtos"][0]
    enc["mdtrt_id"] = f"V-{patient}"
    for o in enc["fsi_order_dtos"]:
        o["rx_id"] = f"{patient}-{o['rx_id']}"
    return m


def ledger_lines(ledger) -> int:
    out = subprocess.run([EXE, "history", "stats", "--ledger", str(ledger)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return int(re.search(r"([\d,]+) lines", out.stdout).group(1).replace(",", ""))


def test_reload_under_load_answers_every_request_and_a_broken_folder_keeps_the_old_set(tmp_path, contracts_copy):
    with serving("--contracts", str(contracts_copy), env={"CLAIMCHECK_TOKEN": TOKEN}, log=tmp_path / "log") as s, \
            httpx.Client(base_url=s.url, headers=AUTH, timeout=120) as c:
        expected = [r["jr_id"] for r in post(c, "/3101", message()).json()["output"]["result"]]
        answers, stop = [], threading.Event()

        def client_loop():
            with httpx.Client(base_url=s.url, headers=AUTH, timeout=120) as own:
                for _ in range(3):  # bounded
                    r = post(own, "/3101", message())
                    answers.append((r.status_code, r.json()["infcode"], [x["jr_id"] for x in r.json()["output"]["result"]]))
                    if stop.is_set():
                        break

        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(client_loop) for _ in range(6)]
            wait_for(lambda: in_flight(c, "/3101") >= 1, "a request in flight")
            assert c.post("/admin/reload").json()["reloaded"] is True
            s.send(signal.SIGHUP)
            assert c.post("/admin/reload").json()["reloaded"] is True
            stop.set()
            for f in futures:
                f.result()
        assert answers and all(a == (200, 0, expected) for a in answers), answers

        broken = contracts_copy / "jiangsu-nipt" / "1.0.0.yaml"
        broken.write_text(broken.read_text(encoding="utf-8").replace("kind: ceiling", "kind: cieling", 1),
                          encoding="utf-8")
        r = c.post("/admin/reload")
        assert r.status_code == 409 and r.json()["reloaded"] is False
        assert "1.0.0.yaml" in r.json()["message"] and "previous contracts stay in force" in r.json()["message"]
        assert c.get("/health").json()["reload_error"] == r.json()["message"]
        assert [x["jr_id"] for x in post(c, "/3101", message()).json()["output"]["result"]] == expected


def test_sigterm_lets_the_request_in_flight_finish_then_exits(tmp_path):
    s = Server(log=tmp_path / "log").start()
    with httpx.Client(base_url=s.url, timeout=120) as c, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(post, c, "/3101", with_orders(message(), 50))
        wait_for(lambda: in_flight(c, "/3101") >= 1, "the request in flight")
        s.send(signal.SIGTERM)
        r = pending.result()
        assert r.status_code == 200 and r.json()["infcode"] == 0
        # after a clean shutdown the command exits as a terminated program does (128 + SIGTERM)
        assert s.proc.wait(60) == 128 + signal.SIGTERM
        with pytest.raises(httpx.TransportError):
            c.get("/health")
    log = s.read_log()
    assert "Waiting for application shutdown" in log and "claimcheck serve: stopped" in log
    assert log.index("POST /3101 200") < log.index("claimcheck serve: stopped")


def test_kill_9_while_a_settlement_is_recorded_loses_nothing_and_counts_nothing_twice(tmp_path):
    ledger = tmp_path / "ledger.duckdb"
    args = ("--history", str(ledger), "--record-settlements", "--workers", "2", "--history-wait", "240",
            "--timeout", "300")  # bounds for a loaded machine: the workers take the ledger in turn
    with serving(*args, log=tmp_path / "first.log") as s, httpx.Client(base_url=s.url, timeout=120) as c:
        assert post(c, "/3102", settlement("P1")).json()["infcode"] == 0  # creates the ledger: 3 lines
    assert ledger_lines(ledger) == 3

    s = Server(*args, env={"CLAIMCHECK_FAULT_PAUSE_BEFORE_COMMIT": "60"}, log=tmp_path / "killed.log").start()
    with httpx.Client(base_url=s.url, timeout=120) as c, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(post, c, "/3102", settlement("P2"))
        wait_for(lambda: "paused before commit" in s.read_log(), "the recording to pause before its commit")
        s.stop(signal.SIGKILL)
        import os
        os.killpg(s.proc.pid, signal.SIGKILL)  # the workers too: the whole server dies at once
        with pytest.raises(httpx.TransportError):
            pending.result()

    with serving(*args, log=tmp_path / "after.log") as s, httpx.Client(base_url=s.url, timeout=120) as c:
        assert ledger_lines(ledger) == 3  # the killed settlement left no line, the earlier one is intact
        sent = [settlement(p) for p in ("P1", "P2", "P3", "P2")]  # P1 again, P2 twice, at once
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda m: post(c, "/3102", m), sent))
        assert all(a.status_code == 200 and a.json()["infcode"] == 0 for a in answers), [a.json()["err_msg"] for a in answers]
    assert ledger_lines(ledger) == 9  # three settlements of three lines: none counted twice


def test_200_concurrent_clients_are_all_answered(tmp_path):
    bad = message()
    bad["input"]["data"]["patient_dtos"] = {}

    async def one(client, k: int):
        h = await client.get("/health")
        if k % 20 == 0:  # every twentieth client sends a real order
            r = await client.post("/3101", json=message())
            return h.status_code, r.status_code, r.json()["infcode"]
        r = await client.post("/3101", json=bad)
        return h.status_code, r.status_code, r.json()["infcode"]

    async def run(url):
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
            return await asyncio.gather(*(one(client, k) for k in range(200)))

    with serving("--timeout", "600", log=tmp_path / "log") as s:  # the real orders queue: a bound, not a target
        results = asyncio.run(run(s.url))
    assert len(results) == 200
    assert sorted(set(results)) == [(200, 200, 0), (200, 400, -1)]
    assert sum(1 for r in results if r == (200, 200, 0)) == 10


def test_a_reload_through_one_worker_reaches_every_worker(tmp_path, contracts_copy):
    import shutil
    with serving("--contracts", str(contracts_copy), "--workers", "2", env={"CLAIMCHECK_TOKEN": TOKEN},
                 log=tmp_path / "log") as s:
        def contract_ids():
            with httpx.Client(base_url=s.url, headers=AUTH, timeout=120) as fresh:  # a new connection each time
                return {c["contract_id"] for c in fresh.get("/contracts").json()}
        assert all("jiangsu-consumables" in contract_ids() for _ in range(10))
        shutil.rmtree(contracts_copy / "jiangsu-consumables")
        with httpx.Client(base_url=s.url, headers=AUTH, timeout=120) as c:
            assert c.post("/admin/reload").json()["reloaded"] is True
        seen = [contract_ids() for _ in range(20)]
        assert all("jiangsu-consumables" not in ids and "jiangsu-nipt" in ids for ids in seen)


def test_an_internal_fault_is_answered_with_an_error_id_the_log_carries(tmp_path):
    store = tmp_path / "dispositions.sqlite"
    with serving("--dispositions", str(store), log=tmp_path / "log") as s, \
            httpx.Client(base_url=s.url, timeout=120) as c:
        for f in tmp_path.glob("dispositions.sqlite*"):
            f.unlink()
        store.mkdir()  # the store's file is now a folder: recording the answered results fails
        r = post(c, "/3101", message())
        assert r.status_code == 500
        a = r.json()
        assert a["infcode"] == -1 and "Traceback" not in r.text and "sqlite" not in r.text.lower()
        eid = re.search(r"internal error ([0-9a-f]{12})", a["err_msg"]).group(1)
        log = s.read_log()
        assert f"internal error {eid} on POST /3101" in log and "Traceback" in log
        assert c.get("/health").json()["status"] == "ok"  # the server goes on


def test_the_example_systemd_unit_starts_the_server_with_its_variables(tmp_path):
    unit = (ROOT / "deploy" / "claimcheck-serve.service").read_text(encoding="utf-8")
    env = dict(line.split("=", 2)[1:] for line in unit.splitlines() if line.startswith("Environment="))
    assert set(env) >= {"CLAIMCHECK_HOST", "CLAIMCHECK_PORT", "CLAIMCHECK_HISTORY", "CLAIMCHECK_WAIVERS"}
    env.update(CLAIMCHECK_HISTORY=str(tmp_path / "ledger.duckdb"), CLAIMCHECK_WAIVERS=str(tmp_path / "waivers.yaml"))
    args = next(line for line in unit.splitlines() if line.startswith("ExecStart=")).split()[1:]
    assert args[0] == "serve"
    s = Server(*args[1:], env=env, log=tmp_path / "log")
    s.env["CLAIMCHECK_PORT"] = str(s.port)
    s.args = args[1:]  # the port comes from the variable, as under systemd
    with httpx.Client(base_url=s.start().url, timeout=120) as c:
        try:
            m = settlement("U1")
            assert post(c, "/3102", m).json()["infcode"] == 0
            assert ledger_lines(tmp_path / "ledger.duckdb") == 3  # --record-settlements and CLAIMCHECK_HISTORY
        finally:
            s.stop()


def test_a_check_over_the_timeout_is_answered_504_with_the_national_envelope(tmp_path):
    with serving("--timeout", "0.001", log=tmp_path / "log") as s, httpx.Client(base_url=s.url, timeout=120) as c:
        r = post(c, "/3101", message())
        assert r.status_code == 504
        a = r.json()
        assert a["infcode"] == -1 and "--timeout" in a["err_msg"] and a["inf_refmsgid"] == message()["msgid"]
        assert c.get("/health").json()["status"] == "ok"


def test_post_ledger_records_settled_lines_once_and_needs_a_ledger(tmp_path, write):
    from conftest import diagnosis, line
    settled = write([line(1), diagnosis(1, feedetl_sn="2"), line(2, cnt=1.0)]).read_bytes()
    ledger = tmp_path / "ledger.duckdb"
    with serving("--history", str(ledger), log=tmp_path / "log") as s, httpx.Client(base_url=s.url, timeout=120) as c:
        parquet = {"content-type": "application/vnd.apache.parquet"}
        first = c.post("/ledger", content=settled, headers=parquet)
        assert first.status_code == 200 and first.json()["recorded"] == 3 and first.json()["replaced"] == 0
        again = c.post("/ledger", content=settled, headers=parquet).json()
        assert again["recorded"] == 3 and again["replaced"] == 3  # the same lines replace themselves
        assert c.post("/ledger", content=b"mdtrt_id,feedetl_sn\n", headers={"content-type": "text/csv"}).status_code == 415
    assert ledger_lines(ledger) == 3
    with serving(log=tmp_path / "log2") as s, httpx.Client(base_url=s.url, timeout=120) as c:
        r = c.post("/ledger", content=settled, headers={"content-type": "application/vnd.apache.parquet"})
        assert r.status_code == 400 and "--history" in r.json()["err_msg"]


def test_a_burst_of_sighups_reloads_a_few_times_not_once_each(tmp_path):
    """SIGHUPs that arrive while a reload runs make one more reload, not one each (a burst of
    signals from a deploy script must not keep the worker reloading for minutes)."""
    with serving(log=tmp_path / "log") as s, httpx.Client(base_url=s.url, timeout=120) as c:
        for _ in range(40):
            s.send(signal.SIGHUP)
        wait_for(lambda: "reloaded" in s.read_log(), "a reload")
        time.sleep(3)  # any reload the burst still makes has time to log
        reloads = s.read_log().count("reloaded ")
        assert 1 <= reloads <= 3, reloads
        assert post(c, "/3101", message()).json()["infcode"] == 0
