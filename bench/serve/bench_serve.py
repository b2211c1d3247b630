"""Benchmark `claimcheck serve`: client and server on loopback, in one run, with every bundled
contract loaded.

1. The floor: GET /health at --clients concurrent clients (what uvicorn + Starlette + httpx cost).
2. A 3101 request of one patient, one encounter, three diagnoses and 50 orders (codes, names and
   prices of real lines of every golden batch): p50 / p99 latency and requests/s at --clients
   concurrent clients, and the mean split of a request's time from the Server-Timing header
   (read = body + JSON + message; check = the library's check, itself open / survey / scan /
   counts / findings as the engine times them; answer = the national envelope).
3. One 3101 request of 5,000 orders.
4. The server's resident memory before and after the 3101 requests.

    python bench/serve/bench_serve.py [--clients 50] [--requests 100] [--health 2000]
"""
from __future__ import annotations

import argparse
import asyncio
import json
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


def request_of(n: int) -> dict:
    m = message()
    enc = m["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]
    enc["fsi_order_dtos"] = orders(n)
    assert len(enc["fsi_diagnose_dtos"]) == 3
    return m


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def load(url: str, method: str, path: str, body: bytes | None, clients: int, total: int):
    """`total` requests from `clients` concurrent clients; latencies (s), Server-Timing splits, wall."""
    latencies, splits, failures = [], [], []
    queue = asyncio.Queue()
    for _ in range(total):
        queue.put_nowait(None)

    async def client(c: httpx.AsyncClient):
        while not queue.empty():
            queue.get_nowait()
            t0 = time.perf_counter()
            r = await c.request(method, path, content=body, headers={"content-type": "application/json"})
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                failures.append(r.status_code)
            if "server-timing" in r.headers:
                splits.append({p.split(";dur=")[0].strip(): float(p.split(";dur=")[1])
                               for p in r.headers["server-timing"].split(",")})

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=3600, limits=limits) as c:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(c) for _ in range(clients)))
        wall = time.perf_counter() - t0
    return latencies, splits, failures, wall


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def report(name: str, lat, failures, wall) -> dict:
    row = {"what": name, "requests": len(lat), "failed": len(failures), "p50_ms": pct(lat, 0.5) * 1000,
           "p99_ms": pct(lat, 0.99) * 1000, "rps": len(lat) / wall}
    print(f"{name:<34} {row['requests']:>6} req  p50 {row['p50_ms']:>9.1f} ms  p99 {row['p99_ms']:>9.1f} ms  "
          f"{row['rps']:>8.1f} req/s  failed {row['failed']}")
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--health", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=2, help="the server's --concurrency")
    args = ap.parse_args()

    s = Server("--timeout", "3600", "--concurrency", str(args.concurrency), "--max-body", str(64 << 20)).start()
    try:
        rows = []
        lat, _, fail, wall = asyncio.run(load(s.url, "GET", "/health", None, args.clients, args.health))
        rows.append(report(f"GET /health ({args.clients} clients)", lat, fail, wall))
        body50 = json.dumps(request_of(50), ensure_ascii=False).encode()
        asyncio.run(load(s.url, "POST", "/3101", body50, 1, 2))  # warm: first DuckDB use in the worker
        rss0 = rss_kb(s.proc.pid)
        lat, splits, fail, wall = asyncio.run(load(s.url, "POST", "/3101", body50, args.clients, args.requests))
        rss1 = rss_kb(s.proc.pid)
        rows.append(report(f"POST /3101 50 orders ({args.clients} clients)", lat, fail, wall))
        lat1, splits1, _, _ = asyncio.run(load(s.url, "POST", "/3101", body50, 1, 10))
        rows.append(report("POST /3101 50 orders (1 client)", lat1, [], sum(lat1)))
        split = {k: statistics.mean(x.get(k, 0.0) for x in splits1) for k in splits1[0]}
        print("split of one request alone (mean ms, Server-Timing): "
              + ", ".join(f"{k} {v:.1f}" for k, v in split.items()))
        body5k = json.dumps(request_of(5000), ensure_ascii=False).encode()
        lat5k, splits5k, fail5k, _ = asyncio.run(load(s.url, "POST", "/3101", body5k, 1, 3))
        rows.append(report("POST /3101 5,000 orders (1 client)", lat5k, fail5k, sum(lat5k)))
        print("split of the 5,000-order request (mean ms): "
              + ", ".join(f"{k} {statistics.mean(x.get(k, 0.0) for x in splits5k):.1f}" for k in splits5k[0]))
        print(f"server RSS: {rss0 / 1024:.0f} MB before the {args.requests} requests, {rss1 / 1024:.0f} MB after "
              f"({(rss1 - rss0) / max(rss0, 1) * 100:+.1f}%)")
        floor = rows[0]["p50_ms"]
        print(f"3101 p50 is {rows[1]['p50_ms'] / floor:,.0f}x the /health floor")
        print(json.dumps({"rows": rows, "split_ms": split, "rss_kb": [rss0, rss1]}))
    finally:
        s.stop()


if __name__ == "__main__":
    main()
