"""What stands between a request and the service: the token, the body's size, its JSON nesting,
and the one shape of every error answer (the national envelope, infcode -1, never a trace).

The access log carries method, path, status, time, the call and its counts: no patient, visit or
order identifier, and not the body.
"""
from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import time
import uuid

import numpy as np
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger("claimcheck.serve")
access = logging.getLogger("claimcheck.access")

JSON_TYPES = ("application/json", "text/json", "application/json-seq", "text/plain")


class Failure(Exception):
    """An answer that is an error: HTTP status, the err_msg, its kind (for /metrics)."""

    def __init__(self, status: int, message: str, kind: str, refmsgid: str = ""):
        super().__init__(message)
        self.status, self.message, self.kind, self.refmsgid = status, message, kind, refmsgid


def envelope(message: str, refmsgid: str = "") -> dict:
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).strftime("%Y%m%d%H%M%S")
    return {"infcode": -1, "inf_refmsgid": refmsgid, "refmsg_time": now, "respond_time": now,
            "err_msg": message, "output": {}}


def error_response(status: int, message: str, refmsgid: str = "", headers=None) -> Response:
    body = json.dumps(envelope(message, refmsgid), ensure_ascii=False).encode("utf-8")
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def guarded(fn, metrics):
    """A route whose every failure is an envelope: ours (Failure) as it says, anything else as an
    internal error with an id the log carries beside the trace."""
    async def route(request: Request) -> Response:
        try:
            return await fn(request)
        except Failure as f:
            metrics.error(f.kind)
            request.state.error = f.kind
            return error_response(f.status, f.message, f.refmsgid)
        except Exception:
            eid = uuid.uuid4().hex[:12]
            log.exception("internal error %s on %s %s", eid, request.method, request.url.path)
            metrics.error("internal")
            request.state.error = f"internal {eid}"
            return error_response(500, f"internal error {eid}: the server log has the details under this id")
    return route


async def read_body(request: Request, settings) -> bytes:
    """The body, refused past `settings.max_body` bytes (413) whatever Content-Length says."""
    limit = settings.max_body
    declared = request.headers.get("content-length")
    too_big = Failure(413, f"request body larger than {limit:,} bytes (--max-body)", "too_large")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def nesting(raw: bytes) -> int:
    """The deepest nesting of objects and arrays in JSON text (brackets inside strings do not count).
    Vectorised: 10 MB of brackets is measured without a Python loop over it."""
    a = np.frombuffer(raw.replace(b"\\\\", b"  "), dtype=np.uint8)  # an escaped backslash escapes nothing
    quote = a == ord('"')
    quote[1:] &= a[:-1] != ord("\\")  # an escaped quote does not open or close a string
    inside = (np.cumsum(quote) % 2 == 1) & ~quote
    step = np.zeros(len(a), dtype=np.int8)
    step[(a == ord("{")) | (a == ord("["))] = 1
    step[(a == ord("}")) | (a == ord("]"))] = -1
    step[inside] = 0
    return int(np.cumsum(step, dtype=np.int64).max(initial=0))


async def read_json(request: Request, settings):
    """The body as JSON: a JSON content type, within the size and nesting limits, parsed."""
    cached = getattr(request, "_json_cache", None)
    if cached is not None:
        return cached
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in JSON_TYPES:
        raise Failure(415, f"content type {kind or 'none'}: send the message as application/json", "content_type")
    raw = await read_body(request, settings)
    # no deeper than it has brackets: a message of a few hundred orders needs no measuring
    depth = 0 if raw.count(b"{") + raw.count(b"[") <= settings.max_depth else nesting(raw)
    if depth > settings.max_depth:
        raise Failure(400, f"request: JSON nested {depth} levels deep; at most {settings.max_depth} are accepted "
                           "(a national message needs 6)", "too_deep")
    try:
        from ..nhsa.message import json_int, json_object
        repeats = []

        def hook(pairs):
            o = json_object(pairs)
            if o.repeated:
                repeats.append(o)
            return o
        obj = json.loads(raw.decode("utf-8-sig"), object_pairs_hook=hook, parse_int=json_int)
    except UnicodeDecodeError as e:
        raise Failure(400, f"request: not UTF-8 text (byte {e.start}); send the message in UTF-8", "malformed") \
            from None
    except json.JSONDecodeError as e:
        raise Failure(400, f"request: not JSON: {e.msg} at line {e.lineno} column {e.colno}; expected the "
                           "request envelope {infno, msgid, …, input: {data: {…}}}", "malformed") from None
    twice = _repeated_keys(obj) if repeats else []  # their paths, walked for only when there are some
    if twice:
        raise Failure(400, "; ".join(f"request: {p}: given more than once (which one is meant?)" for p in twice[:5]),
                      "malformed")
    request._json_cache = obj
    return obj


def _repeated_keys(obj, path: str = "", out: list | None = None) -> list[str]:
    """The JSON paths of keys an object was given more than once (json.loads would keep the last)."""
    out = [] if out is None else out
    if isinstance(obj, dict):
        out += [f"{path}.{k}" if path else str(k) for k in getattr(obj, "repeated", ())]
        for k, v in obj.items():
            _repeated_keys(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _repeated_keys(v, f"{path}[{i}]", out)
    return out


class Guard:
    """ASGI middleware: the bearer token (constant-time compare; /health is open), the access log
    and the request metrics."""

    OPEN = ("/health",)

    def __init__(self, app, settings, metrics):
        self.app, self.settings, self.metrics = app, settings, metrics
        self.state = getattr(app, "state", None)
        self._token = settings.token.encode() if settings.token else None

    def _authorised(self, scope) -> bool:
        if self._token is None or scope["path"] in self.OPEN:
            return True
        for k, v in scope.get("headers", []):
            if k == b"authorization":
                scheme, _, given = v.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self._token)
        return False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        status = [0]

        async def sending(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        scope.setdefault("state", {})
        path = scope["path"] if not scope["path"].startswith("/rules/") else "/rules/{id}"
        self.metrics.begin(path)
        if not self._authorised(scope):
            self.metrics.error("unauthorised")
            resp = error_response(401, "unauthorised: send Authorization: Bearer <token>",
                                  headers={"WWW-Authenticate": "Bearer"})
            await resp(scope, receive, sending)
        else:
            await self.app(scope, receive, sending)
        seconds = time.perf_counter() - t0
        self.metrics.observe(path, status[0], seconds)
        st = scope.get("state", {})
        extra = " ".join(f"{k}={v}" for k, v in {"infno": st.get("infno"), **(st.get("log") or {}),
                                                 "error": st.get("error")}.items() if v is not None)
        access.info("%s %s %d %.1fms %s", scope["method"], path, status[0], seconds * 1000, extra)
