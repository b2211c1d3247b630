"""Benchmark `claimcheck serve`: client and server on loopback, in one run, with every bundled
contract loaded, each load with the server's CPU time per request.

1. The floor: GET /health at --clients concurrent clients.
2. A 3101 request of one patient, one encounter, three diagnoses and 50 orders, in two shapes:
   codes, names and prices of real lines of every golden batch (no finding), and a NIPT lab's
   50 detections above the price ceiling (findings of several rules in every call), at --clients concurrent clients, each call a
   patient and visit of its own (as the calls of 50 clinicians are), so that calls waiting for a
   check thread go together (checks/serve/gather.py); then every call the same patient and visit,
   which never go together: p50 / p99 latency, requests/s, the mean batch, and the mean split of
   a request's time from the Server-Timing header (read = body + JSON + message; check = the
   library's check, itself open / survey / scan / counts / findings as the engine times them;
   answer = the national envelope).
3. The same requests from one client, and one request of 5,000 orders.
4. The server's resident memory before and after the 3101 requests.

Two clients: a lean one (HTTP/1.1 keep-alive on asyncio streams, about 0.1 ms of CPU a request)
and httpx (about 3 ms a request). Both run on the machine's two cores beside the server; with
httpx, the /health "floor" is the client's.

    python bench/serve/bench_serve.py [--clients 50] [--requests 500] [--health 5000]
                                      [--concurrency 2] [--workers 1] [--long 100000]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from serve_kit import Server, message  # noqa: E402


def orders(n: int) -> list[dict]:
    """n orders cycling over real lines of every golden batch (code, name, type, count, price)."""
    lines = pa.concat_tables([pq.read_table(p, columns=["hilist_code", "hilist_name", "list_type", "cnt", "pric"])
                              for p in sorted((ROOT / "sample_claims").glob("*.parquet"))]).to_pylist()
    base = message()["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]["fsi_order_dtos"][0]
    out = []
    for k in range(n):
        r = lines[(k * 7919) % len(lines)]
        out.append(dict(base, rx_id=f"RX{k:06d}", hilist_code=r["hilist_code"], hilist_name=r["hilist_name"],
                        hilist_type=str(r["list_type"] or "301"), cnt=f"{float(r['cnt']):g}", pric=f"{float(r['pric']):.2f}",
                        sumamt=f"{float(r['cnt']) * float(r['pric']):.2f}"))
    return out


def failing(n: int) -> list[dict]:
    """n orders as a NIPT lab's HIS sends them when they break rules: every order the message's
    NIPT detection (南通市妇幼保健院, Jiangsu) billed at 520 元, above its 500 元 ceiling, so each
    call draws findings of several rules (the price, the visit's sum, one test per pregnancy)."""
    base = message()["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]["fsi_order_dtos"][0]
    return [dict(base, rx_id=f"RX{k:06d}", pric="520.00", sumamt="520.00", cnt="1") for k in range(n)]


def request_of(n: int, patient: int | None = None, shape: str = "golden") -> dict:
    """The 3101 request of 50 (n) orders; `patient` k: the same orders for patient k in visit k (the
    calls of 50 clinicians at once are of 50 patients), each with a msgid of its own. `shape`
    golden: real lines of every golden batch (they draw no finding); failing: failing(n)."""
    m = message()
    p = m["input"]["data"]["patient_dtos"][0]
    enc = p["fsi_encounter_dtos"][0]
    enc["fsi_order_dtos"] = orders(n) if shape == "golden" else failing(n)
    assert len(enc["fsi_diagnose_dtos"]) == 3
    if patient is not None:
        p["patn_id"] = f"{p['patn_id']}-{patient}"
        enc["mdtrt_id"] = p["curr_mdtrt_id"] = f"{enc['mdtrt_id']}-{patient}"
        m["msgid"] = f"{m.get('msgid', 'BENCH')}-{patient}"[:30]
    return m


def findings_of(s, body: bytes) -> int:
    """How many results (findings) the server answers `body` with."""
    r = httpx.post(s.url + "/3101", content=body, headers={"content-type": "application/json"}, timeout=60)
    return len(r.json()["output"]["result"])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def timing_of(header: str) -> dict:
    """Server-Timing as {name: ms}, and `batch`: how many calls the check that answered this one held."""
    out = {}
    for part in header.split(","):
        name, _, rest = part.strip().partition(";")
        if rest.startswith("dur="):
            out[name] = float(rest[4:])
        elif rest.startswith("desc="):
            out[name] = float(rest[5:].strip('"'))
    return out


async def load(url: str, method: str, path: str, body, clients: int, total: int):
    """`total` requests from `clients` concurrent clients (`body`: bytes, or a list whose i-th body
    the i-th request sends, round the list); latencies (s), Server-Timing splits, wall."""
    latencies, splits, failures = [], [], []
    bodies = body if isinstance(body, list) else [body]
    queue = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(bodies[i % len(bodies)])

    async def client(c: httpx.AsyncClient):
        while not queue.empty():
            content = queue.get_nowait()
            t0 = time.perf_counter()
            r = await c.request(method, path, content=content, headers={"content-type": "application/json"})
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                failures.append(r.status_code)
            if "server-timing" in r.headers:
                splits.append(timing_of(r.headers["server-timing"]))

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=3600, limits=limits) as c:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(c) for _ in range(clients)))
        wall = time.perf_counter() - t0
    return latencies, splits, failures, wall


async def load_raw(url: str, method: str, path: str, body, clients: int, total: int):
    """load() with a lean client: HTTP/1.1 keep-alive over asyncio streams, a fraction of the CPU
    httpx spends on a request (the client runs on the same two cores as the server)."""
    host, port = url.split("//")[1].split(":")
    latencies, splits, failures = [], [], []
    bodies = body if isinstance(body, list) else [body]
    queue = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(bodies[i % len(bodies)])

    async def client():
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while not queue.empty():
                content = queue.get_nowait() or b""
                head = (f"{method} {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
                        f"content-length: {len(content)}\r\n\r\n").encode()
                t0 = time.perf_counter()
                writer.write(head + content)
                status_line = await reader.readline()
                headers = {}
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    k, _, v = line.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                await reader.readexactly(int(headers.get("content-length", 0)))
                latencies.append(time.perf_counter() - t0)
                if int(status_line.split()[1]) != 200:
                    failures.append(int(status_line.split()[1]))
                if "server-timing" in headers:
                    splits.append(timing_of(headers["server-timing"]))
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, splits, failures, time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def report(name: str, lat, failures, wall) -> dict:
    row = {"what": name, "requests": len(lat), "failed": len(failures), "p50_ms": pct(lat, 0.5) * 1000,
           "p99_ms": pct(lat, 0.99) * 1000, "rps": len(lat) / wall}
    print(f"{name:<34} {row['requests']:>6} req  p50 {row['p50_ms']:>9.1f} ms  p99 {row['p99_ms']:>9.1f} ms  "
          f"{row['rps']:>8.1f} req/s  failed {row['failed']}")
    return row


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far."""
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def measured(s, loader, name: str, path: str, body, clients: int, total: int, method: str = "POST") -> dict:
    """One load, reported with the server's CPU per request and the batches its calls were checked in."""
    c0 = cpu_s(s.proc.pid)
    lat, splits, fail, wall = asyncio.run(loader(s.url, method, path, body, clients, total))
    row = report(name, lat, fail, wall)
    row["server_cpu_ms"] = 1000 * (cpu_s(s.proc.pid) - c0) / len(lat)
    sizes = [x.get("batch", 1) for x in splits] or [1]
    row["mean_batch"] = statistics.mean(sizes)
    row["split_ms"] = {k: statistics.mean(x.get(k, 0.0) for x in splits) for k in (splits[0] if splits else {})}
    print(f"{'':<34} server CPU {row['server_cpu_ms']:.2f} ms a request" +
          (f"; checked with {row['mean_batch']:.1f} calls on average (largest {max(sizes):.0f})"
           if path != "/health" else ""))
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--health", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=2, help="the server's --concurrency")
    ap.add_argument("--workers", type=int, default=1, help="the server's --workers")
    ap.add_argument("--long", type=int, default=0, help="then this many more 3101 calls, the server's memory "
                                                        "sampled ten times (100000: memory flat over 100,000)")
    args = ap.parse_args()

    s = Server("--timeout", "3600", "--concurrency", str(args.concurrency), "--workers", str(args.workers),
               "--max-body", str(64 << 20)).start()
    n, k = args.requests, args.clients
    try:
        rows = []
        body50 = json.dumps(request_of(50), ensure_ascii=False).encode()
        patients = [json.dumps(request_of(50, i), ensure_ascii=False).encode() for i in range(n)]
        asyncio.run(load(s.url, "POST", "/3101", body50, 1, 2))  # warm: first DuckDB use in the worker
        print("-- lean client (HTTP/1.1 keep-alive on asyncio streams, ~0.1 ms of CPU a request)")
        rows.append(measured(s, load_raw, f"GET /health ({k} clients)", "/health", None, k, args.health, "GET"))
        rss0 = rss_kb(s.proc.pid)
        rows.append(measured(s, load_raw, f"POST /3101 50 orders ({k} clients)", "/3101", patients, k, n))
        rss1 = rss_kb(s.proc.pid)
        print(f"{'':<34} (each call a patient and visit of its own, as {k} clinicians' calls are)")
        rows.append(measured(s, load_raw, f"POST /3101 one patient ({k} cl.)", "/3101", body50, k, n // 2))
        print(f"{'':<34} (every call the same patient and visit: none may go together)")
        bad = [json.dumps(request_of(50, i, "failing"), ensure_ascii=False).encode() for i in range(n)]
        rows.append(measured(s, load_raw, f"POST /3101 failing ({k} clients)", "/3101", bad, k, n))
        print(f"{'':<34} (the second shape: 50 NIPT orders above the ceiling, {findings_of(s, bad[0])} "
              "findings a call)")
        print("-- httpx client (~3 ms of CPU a request, on the same two cores)")
        rows.append(measured(s, load, f"GET /health ({k} clients)", "/health", None, k, args.health // 2, "GET"))
        rows.append(measured(s, load, f"POST /3101 50 orders ({k} clients)", "/3101", patients, k, n))
        print("-- one client")
        one = measured(s, load_raw, "POST /3101 50 orders (1 client)", "/3101", patients[:20], 1, 20)
        rows.append(one)
        rows.append(measured(s, load_raw, "POST /3101 failing (1 client)", "/3101", bad[:20], 1, 20))
        print("split of one request alone (mean ms, Server-Timing): "
              + ", ".join(f"{k_} {v:.1f}" for k_, v in one["split_ms"].items() if k_ != "batch"))
        body5k = json.dumps(request_of(5000), ensure_ascii=False).encode()
        big = measured(s, load_raw, "POST /3101 5,000 orders (1 client)", "/3101", body5k, 1, 3)
        rows.append(big)
        print("split of the 5,000-order request (mean ms): "
              + ", ".join(f"{k_} {v:.1f}" for k_, v in big["split_ms"].items() if k_ != "batch"))
        print(f"server RSS: {rss0 / 1024:.0f} MB before the {n} calls of {k} clients, {rss1 / 1024:.0f} MB after "
              f"({(rss1 - rss0) / max(rss0, 1) * 100:+.1f}%)")
        if args.long:
            step = max(1, args.long // 10)
            rss = [rss_kb(s.proc.pid)]
            t0 = time.perf_counter()
            for done in range(0, args.long, step):
                asyncio.run(load_raw(s.url, "POST", "/3101", patients, k, min(step, args.long - done)))
                rss.append(rss_kb(s.proc.pid))
            print(f"server RSS over {args.long:,} more calls of {k} clients ({args.long / (time.perf_counter() - t0):.0f} "
                  f"calls/s), every {step:,}: " + ", ".join(f"{r / 1024:.0f}" for r in rss) + " MB "
                  f"(last {(rss[-1] - rss[1]) / rss[1] * 100:+.1f}% of the first {step:,})")
        print(f"3101 at {k} clients: {rows[1]['rps'] / rows[0]['rps']:.3f} of the /health throughput, "
              f"p50 {rows[1]['p50_ms'] / rows[0]['p50_ms']:,.0f}x the /health p50 (lean client); "
              f"{rows[1]['rps'] / rows[2]['rps']:.1f}x the calls/s, and {rows[2]['server_cpu_ms'] / rows[1]['server_cpu_ms']:.1f}x "
              "less server CPU a call, than the same load of calls that may not go together")
        print(json.dumps({"rows": rows, "rss_kb": [rss0, rss1]}))
    finally:
        s.stop()


if __name__ == "__main__":
    main()
