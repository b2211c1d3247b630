"""The HTTP service (Starlette on uvicorn): the national audit calls and the pipeline endpoints.

Every answer to a national call is the national envelope; an error is `infcode` -1 with an
`err_msg` naming the JSON path (bad input) or an error id that the server log carries (a fault of
ours) — never a stack trace. Checks run on `concurrency` threads of their own, each bounded by
`timeout`; 3101/3102 calls that wait for a thread are checked together when one comes free,
each answered with its own findings (gather.py).
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..errors import ClaimcheckError
from ..report.nhsa_out import load_codes
from . import national
from .dispose import read_dispositions
from .gather import Gather, grouping_keys, split_answer
from .guard import Failure, Guard, guarded, read_body, read_json
from .metrics import Metrics
from .service import SETTLEMENT, Service, Settings
from .store import Store, append_waivers, dumps

log = logging.getLogger("claimcheck.serve")

ARROW_STREAM = "application/vnd.apache.arrow.stream"


def _now() -> str:
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).strftime("%Y%m%d%H%M%S")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    service = Service(settings)
    metrics = Metrics()
    store = Store(settings.dispositions_path()) if settings.dispositions_path() else None

    async def follow():
        if settings.reload_stamp:  # more than one worker: another may have been told to reload
            await anyio.to_thread.run_sync(service.follow)

    # the checks run on `concurrency` threads of their own, started once: each request's DuckDB
    # work stays on the same few threads (with a thread per waiting request, as anyio's pool gives,
    # the allocator grew an arena per thread: 241 -> 355 MB over 300 requests at 50 clients)
    pool = ThreadPoolExecutor(max_workers=max(1, settings.concurrency), thread_name_prefix="claimcheck-check")

    async def waited(fut, deadline: float, late: Failure):
        """The result of `fut` (a check thread's), within the request timeout."""
        try:
            with anyio.fail_after(max(0.0, deadline - time.monotonic())):
                return await asyncio.wrap_future(fut)
        except TimeoutError:
            fut.cancel()  # still queued: it never runs
            raise late from None

    def too_late() -> Failure:
        return Failure(504, f"the check did not finish within {settings.timeout:g} s (--timeout)", "timeout")

    async def in_thread(fn, *args):
        """Run `fn` on a check thread within the request timeout. A check that started holds its
        thread until it ends, even when its client was answered the timeout and left: a check
        abandoned that way still bounds the others; one still queued at its deadline never runs."""
        deadline, late = time.monotonic() + settings.timeout, too_late()

        def run():
            if time.monotonic() >= deadline:
                raise late
            return fn(*args)
        return await waited(pool.submit(run), deadline, late)

    def audit(msgs: list, record: bool = False, contracts=None) -> list[tuple[dict, dict, dict]]:
        """Calls checked as one batch (one call alone, or calls that may go together,
        checks/serve/gather.py, with the contracts whose keys found them apart): for each, its
        answer, the split of the check's time, what the access log says."""
        timings = {}
        merged = national.Message.concat(msgs, msgs[0].where)  # one call: itself
        t0 = time.perf_counter()
        report = service.check(merged, record, timings, contracts=contracts)
        t1 = time.perf_counter()
        answer = national.national_answer(report, merged, home=service.home)
        answers = [answer] if len(msgs) == 1 else split_answer(answer, msgs, task_default)
        t2 = time.perf_counter()
        if store is not None:
            store.remember(report)
        timing = {"check": t1 - t0, "answer": t2 - t1, "batch": len(msgs),
                  **{k[:-2]: v for k, v in timings.items() if k.endswith("_s") and k != "check_s"}}
        recorded = {"recorded": report.history.get("recorded")} if record and report.history else {}
        return [(a, timing, {"lines": m.table.num_rows, "results": len(a["output"]["result"]), "batch": len(msgs),
                             "check_ms": round((t1 - t0) * 1000, 1), "answer_ms": round((t2 - t1) * 1000, 1),
                             **recorded})
                for a, m in zip(answers, msgs)]

    def work(jobs) -> None:
        """Settle each job's future: the calls together, or one alone. A batch that fails (a call
        with a value no check accepts fails the whole batch) is halved and each half tried again,
        so the failing call ends alone with its own error and the others stay in batches: one
        bad call among 48 costs some 12 checks, not 48."""
        if len(jobs) == 1:
            j = jobs[0]
            try:
                j.future.set_result(audit([j.msg], j.record)[0])
            except BaseException as e:  # noqa: BLE001 - the call's own error, raised in its request
                j.future.set_exception(e)
            return
        try:
            done = audit([j.msg for j in jobs], contracts=jobs[0].contracts)
        except Exception as e:
            log.info("a batch of %d calls failed (%s): checked again in halves", len(jobs),
                     str(e).splitlines()[0][:200] if str(e) else type(e).__name__)
            half = len(jobs) // 2
            work(jobs[:half])
            work(jobs[half:])
            return
        for j, d in zip(jobs, done):
            j.future.set_result(d)

    def keys():
        contracts = service.contracts
        if keys.memo[0] is not contracts:
            keys.memo = (contracts, grouping_keys(contracts))
        return keys.memo
    keys.memo = (None, None)
    gather = Gather(pool, settings.concurrency, work, keys)
    task_default = load_codes()["task_id"]

    async def audit_call(request: Request, infno: str | None = None) -> Response:
        t0 = time.perf_counter()
        obj = await read_json(request, settings)
        refmsgid = str(obj.get("msgid") or "") if isinstance(obj, dict) else ""
        try:
            msg = national.read_message(obj)
        except ClaimcheckError as e:
            raise Failure(400, str(e), "malformed", refmsgid) from None
        if infno is not None:
            msg.infno = infno
        elif msg.infno not in ("3101", "3102"):
            raise Failure(400, f"request.infno: {msg.infno!r} is not an audit call here; expected 3101 or 3102 "
                               "(or 3103 at POST /3103)", "malformed", refmsgid)
        request.state.infno = msg.infno
        record = bool(settings.record_settlements and settings.history and msg.infno == "3102"
                      and national.trig_scen(msg) in SETTLEMENT)
        t_read = time.perf_counter() - t0
        deadline, late = time.monotonic() + settings.timeout, too_late()
        try:
            answer, timing, said = await waited(gather.submit(msg, record, deadline, late), deadline, late)
        except Failure as f:
            f.refmsgid = refmsgid
            raise
        except ClaimcheckError as e:
            raise Failure(400, str(e), "input", refmsgid) from None
        for r in answer["output"]["result"]:
            metrics.found(r["rule_id"])
        metrics.checked(timing["batch"])
        request.state.timing, request.state.log = timing, said
        header = ", ".join([f"{k};dur={v * 1000:.1f}" for k, v in {"read": t_read, **timing}.items()
                            if isinstance(v, float)] + [f'batch;desc="{timing["batch"]}"'])
        return Response(dumps(answer), media_type="application/json", headers={"server-timing": header})

    async def post_3101(request):
        return await audit_call(request, "3101")

    async def post_3102(request):
        return await audit_call(request, "3102")

    async def post_root(request):
        obj = await read_json(request, settings)
        infno = str(obj.get("infno")) if isinstance(obj, dict) and obj.get("infno") is not None else None
        request._json_cache = obj
        if infno == "3103":
            return await post_3103(request)
        return await audit_call(request)

    async def post_3103(request):
        obj = await read_json(request, settings)
        refmsgid = str(obj.get("msgid") or "") if isinstance(obj, dict) else ""
        request.state.infno = "3103"
        rows, entries = read_dispositions(obj, store, settings, refmsgid)

        def keep():
            added = append_waivers(settings.waivers, entries, service.contracts) if entries else []
            store.dispose(rows)
            return added
        added = await in_thread(keep)
        return Response(dumps({"infcode": 0, "inf_refmsgid": refmsgid, "refmsg_time": _now(), "respond_time": _now(),
                               "err_msg": "", "output": {"stored": len(rows), "waivers_added": added}}),
                        media_type="application/json")

    async def post_check(request):
        raw = await read_body(request, settings)
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if raw[:4] != b"PAR1" and kind != ARROW_STREAM:
            raise Failure(415, f"content type {kind or 'none'}: send a Parquet file (application/vnd.apache.parquet) "
                               f"or an Arrow IPC stream ({ARROW_STREAM})", "content_type")
        report = await in_thread(_check_body, raw, service)
        if ARROW_STREAM in request.headers.get("accept", ""):
            import pyarrow as pa
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, report.table.schema) as w:
                w.write_table(report.table)
            return Response(sink.getvalue().to_pybytes(), media_type=ARROW_STREAM)
        return Response(await in_thread(_json_report, report), media_type="application/json")

    async def post_ledger(request):
        if not settings.history:
            raise Failure(400, "this server has no ledger: start it with --history LEDGER", "config")
        raw = await read_body(request, settings)
        if raw[:4] != b"PAR1":
            raise Failure(415, "send the settled lines as a Parquet file", "content_type")
        h = await in_thread(_import_body, raw, service)
        return JSONResponse({k: v for k, v in h.items() if k in ("batch_seq", "recorded", "replaced", "changed")})

    async def health(request):
        await follow()
        ready = service.ready()
        ok = ready["contracts"] > 0 and ready["ledger"] in (None, "readable", "not yet created")
        return JSONResponse({"status": "ok" if ok else "not ready", **ready}, status_code=200 if ok else 503)

    async def contracts(request):
        await follow()
        return JSONResponse([c.summary() | {"rules": [r.id for r in c.rules]} for c in service.contracts])

    async def rule(request):
        from ..contract.lookup import find
        from ..report.explain import render_entry
        await follow()
        try:
            hits = find(service.contracts, request.path_params["rule_id"])
        except ClaimcheckError as e:
            return PlainTextResponse(f"{e}\n", status_code=404)
        return PlainTextResponse("\n\n".join(render_entry(e) for e in hits) + "\n")

    async def metrics_view(request):
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    async def admin_reload(request):
        if not settings.token:
            raise Failure(403, "reload over HTTP needs a server started with --token; send SIGHUP instead", "auth")
        ok, message = await anyio.to_thread.run_sync(service.reload)
        return JSONResponse({"reloaded": ok, "message": message, "contracts": len(service.contracts)},
                            status_code=200 if ok else 409)

    service_lock = threading.Lock()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        loop = __import__("asyncio").get_running_loop()
        hup = {"running": False, "again": False}  # SIGHUPs while a reload runs make one more, not one each

        def reloading():
            while True:
                service.reload()
                with service_lock:
                    if not hup["again"]:
                        hup["running"] = False
                        return
                    hup["again"] = False

        def on_hup():
            with service_lock:
                if hup["running"]:
                    hup["again"] = True
                    return
                hup["running"] = True
            loop.run_in_executor(None, reloading)
        try:
            loop.add_signal_handler(signal.SIGHUP, on_hup)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
        log.info("claimcheck serve: %d contract versions loaded", len(service.contracts))
        yield
        pool.shutdown(wait=True)  # the checks in flight finish (a drain on SIGTERM)
        service.close()
        log.info("claimcheck serve: stopped")

    g = lambda fn: guarded(fn, metrics)  # noqa: E731
    post = ["POST"]
    routes = [Route("/3101", g(post_3101), methods=post), Route("/3102", g(post_3102), methods=post),
              Route("/3103", g(post_3103), methods=post), Route("/", g(post_root), methods=post),
              Route("/check", g(post_check), methods=post), Route("/ledger", g(post_ledger), methods=post),
              Route("/health", g(health)), Route("/contracts", g(contracts)), Route("/rules/{rule_id}", g(rule)),
              Route("/metrics", g(metrics_view)), Route("/admin/reload", g(admin_reload), methods=post)]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.service = service
    return Guard(app, settings, metrics)


@contextlib.contextmanager
def _body_errors(path: str | None):
    """A body that is no claim batch (unreadable, a reserved or missing column, a bad value) is the
    caller's 400 naming the column and row, the temporary file shown as `body`; not a fault of ours."""
    from ..errors import InputErrors
    try:
        yield
    except InputErrors as e:
        text = str(e).replace(path, "body") if path else str(e)
        raise Failure(400, text, "input") from None


def _body_file(raw: bytes, folder: str) -> str:
    """The body (a Parquet file) in `folder`."""
    from pathlib import Path

    path = Path(folder) / "body.parquet"
    path.write_bytes(raw)
    return str(path)


def _check_body(raw: bytes, service: Service):
    """A Parquet body is checked as the file it is; an Arrow IPC stream in memory, as it is read."""
    import tempfile

    import pyarrow as pa
    if raw[:4] != b"PAR1":
        try:
            reader = pa.ipc.open_stream(raw)
        except (pa.ArrowInvalid, OSError) as e:
            raise Failure(400, f"body: not an Arrow IPC stream ({e})", "malformed") from None
        with _body_errors(None):
            return service.check(reader)
    with tempfile.TemporaryDirectory(prefix="claimcheck-body-") as tmp:
        path = _body_file(raw, tmp)
        with _body_errors(path):
            return service.check([path])


def _import_body(raw: bytes, service: Service) -> dict:
    import tempfile

    from ..runner import import_history
    s = service.settings
    with tempfile.TemporaryDirectory(prefix="claimcheck-body-") as tmp, _body_errors(path := _body_file(raw, tmp)):
        return import_history([path], s.history, s.contracts_dir, s.tables or None,
                              wait=s.history_wait, columns=s.columns)


def _json_report(report) -> bytes:
    import tempfile
    from pathlib import Path

    from ..report.json_out import write_json
    with tempfile.TemporaryDirectory(prefix="claimcheck-json-") as tmp:
        out = Path(tmp) / "report.json"
        write_json(report, str(out))
        return out.read_bytes()
