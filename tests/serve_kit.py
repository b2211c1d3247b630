"""A real `claimcheck serve` process on a free loopback port, and national messages built for it."""
from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXE = str(Path(sys.executable).parent / "claimcheck")  # the installed console script
MESSAGE = ROOT / "tests" / "fixtures" / "nhsa" / "3101_nantong_nipt.json"
STARTUP = 90.0  # seconds a start may take on a loaded machine (bounded wait, never asserted on)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, *args: str, env: dict | None = None, log: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = ["--port", str(self.port), *args]
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.log = log
        self.proc = None

    def start(self) -> "Server":
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen([EXE, "serve", *self.args], cwd=ROOT,
                                     env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + STARTUP
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.read_log()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code in (200, 503):
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def read_log(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log and self.log.exists() else ""

    def send(self, sig) -> None:
        os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout: float = 60) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.send(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: this server's processes only
            return self.proc.wait(10)


@contextlib.contextmanager
def serving(*args, **kw):
    s = Server(*args, **kw).start()
    try:
        yield s
    finally:
        s.stop()


def message(**over) -> dict:
    """The hand-written 3101 message (南通市妇幼保健院, one NIPT order at 520 元), with envelope overrides."""
    m = json.loads(MESSAGE.read_text(encoding="utf-8"))
    m.update(over)
    return m


def order(m: dict) -> dict:
    return m["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]["fsi_order_dtos"][0]


def with_orders(m: dict, n: int) -> dict:
    """`m` with its one order repeated as `n` orders (rx_id …-0001 …), priced within the ceiling."""
    m = copy.deepcopy(m)
    enc = m["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]
    base = enc["fsi_order_dtos"][0]
    enc["fsi_order_dtos"] = [dict(base, rx_id=f"RX{k:06d}", pric="480.00", sumamt="480.00") for k in range(n)]
    return m


def post(client: httpx.Client, path: str, obj, **kw) -> httpx.Response:
    return client.post(path, content=json.dumps(obj, ensure_ascii=False).encode("utf-8"),
                       headers={"content-type": "application/json", **kw.pop("headers", {})}, **kw)


def batch_as_message(parquet: Path, infno: str = "3102") -> dict:
    """A claim batch written as one national request, the way a HIS groups it: patients, their
    encounters, each encounter's orders (one per fee line, rx_id = feedetl_sn)."""
    import pyarrow.parquet as pq

    def text(v):
        return None if v is None else (v.strftime("%Y-%m-%d %H:%M:%S") if hasattr(v, "strftime") else str(v))

    patients: dict = {}
    for r in pq.read_table(parquet).to_pylist():
        p = patients.setdefault(r["psn_no"], {"patn_id": r["psn_no"], "gend": text(r.get("gend")),
                                              "brdy": text(r.get("brdy"))[:10] if r.get("brdy") else None,
                                              "fsi_encounter_dtos": {}})
        e = p["fsi_encounter_dtos"].setdefault(r["mdtrt_id"], {
            "mdtrt_id": r["mdtrt_id"], "medins_id": r["fixmedins_code"], "medins_name": r["fixmedins_name"],
            "medins_admdvs": r["mdtrtarea_admvs"], "insutype": text(r["insutype"]), "med_type": text(r["med_type"]),
            "dscg_main_dise_codg": r.get("main_diag_code"),
            "fsi_diagnose_dtos": ([{"dise_codg": r["main_diag_code"], "maindise_flag": "1", "inout_dise_type": "1"}]
                                  if r.get("main_diag_code") else []),
            "fsi_order_dtos": []})
        e["fsi_order_dtos"].append({
            "rx_id": r["feedetl_sn"], "hilist_code": r["hilist_code"], "hilist_name": r["hilist_name"],
            "hilist_type": text(r.get("list_type")), "cnt": text(r["cnt"]), "pric": text(r["pric"]),
            "sumamt": text(r["det_item_fee_sumamt"]), "ownpay_amt": text(r.get("fulamt_ownpay_amt")),
            "selfpay_amt": text(r.get("preselfpay_amt")), "drord_begn_date": text(r["fee_ocur_time"]),
            "curr_drord_flag": "1"})
    for p in patients.values():
        p["fsi_encounter_dtos"] = list(p["fsi_encounter_dtos"].values())
    return {"infno": infno, "msgid": f"H00000000000{parquet.stem[:8]}", "opter": "batch", "opter_name": "batch",
            "input": {"data": {"trig_scen": "4", "patient_dtos": list(patients.values())}}}
