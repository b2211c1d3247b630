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
