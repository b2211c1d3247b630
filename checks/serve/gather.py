"""Audit calls that wait for a check thread are checked together when one comes free.

A server worker runs `--concurrency` checks at a time. A 3101 check of 50 orders costs nearly what
one of 2,500 costs (measured: 105 ms against 167 ms, every bundled contract loaded): most of its
time is DuckDB binding and planning the rules' statements, not reading lines. So the calls that
queue up behind busy threads are checked as one batch when a thread comes free, and each is
answered with its own findings. A call never waits for company: when a thread is free, it is
checked at once.

Calls go together only when no rule can relate a line of one to a line of another (then each
finding is the one the call would get alone, and so is its answer):
- they share no visit (mdtrt_id of an order or of an encounter's diagnoses), no person (psn_no),
  and no value of any key a loaded rule
  relates lines by, as its kind names them (RuleKind.groups: exclusion and add-on rules look
  within a visit, frequency and ceiling rules within their `per`, every other kind at one line);
  the ledger's earlier lines are read by those keys too;
- they are the same call (infno) with the same request data (trig_scen …), and the same columns
  hold a value on some line (a rule refining on an optional column, or one that cannot judge
  without a column, decides by what the batch supplies);
- none records settled lines (`--record-settlements`), none is larger than MAX_LINES, and none has
  a visit of more than MAX_DIAGNOSES diagnoses (a finding of a diagnosis-scoped rule there has the
  batch judged again once per further diagnosis: one such call would cost the others its time);
- the money parts that decide a file's convention from its other lines are not all in a message
  (a 3101/3102 order carries the total and the full self-pay only), so no line's reading depends
  on another call's lines.

A batch is one message (Message.concat); its answer is split by visit, and each call gets its own
envelope (its msgid as inf_refmsgid and task_id). A batch whose check or split fails for any
reason (one call's value no check accepts fails them all) is halved and each half tried again, down
to single calls: each call gets its own answer or its own error, and the others stay batched.
"""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import cached_property

from ..claims import money
from ..nhsa.message import Message

MAX_LINES = 5_000       # lines of a batch: a larger call is checked alone
MAX_DIAGNOSES = 8       # a call with a visit of more diagnoses is checked alone: a diagnosis-scoped finding
                        # there has the whole batch judged again once per further diagnosis (nhsa/diagnoses.py)
ALWAYS = (("mdtrt_id",), ("psn_no",))


def grouping_keys(contracts) -> list[tuple[str, ...]]:
    """The keys by which some loaded rule relates lines (each kind names its own: RuleKind.groups),
    with visit and person always."""
    keys = set(ALWAYS)
    for c in contracts or []:
        for r in c.rules:
            keys.update(tuple(k) for k in r.impl.groups())
    return sorted(keys)


def values_of(msg: Message, keys) -> dict[tuple, set] | None:
    """{key: the value tuples the message's lines have}, or None when the call must go alone."""
    t = msg.table
    if (t.num_rows > MAX_LINES or set(money.PARTS) <= set(t.column_names)
            or any(len(d) > MAX_DIAGNOSES for d in msg.diagnoses.values())):
        return None
    # a column a message does not carry is empty (NULL) on every line, for the engine and here
    cols = {c: t.column(c).to_pylist() if c in t.column_names else [None] * t.num_rows for k in keys for c in k}
    out = {k: set(zip(*(cols[c] for c in k))) for k in keys}
    # an encounter's diagnoses are kept by visit, orders or not (Message.concat merges them by visit)
    out.setdefault(("mdtrt_id",), set()).update((v,) for v in msg.diagnoses)
    return out


def supplied(msg: Message) -> frozenset:
    """The columns holding a value on some line: the batch's `fields` (claims/batch.py) decides by them."""
    t = msg.table
    return frozenset(c for c in t.column_names if t.column(c).null_count < t.num_rows)


@dataclass
class Job:
    msg: Message
    record: bool
    deadline: float
    late: Exception                         # what a call still waiting at its deadline gets
    future: Future = field(default_factory=Future)
    values: dict | None = None              # values_of(msg, keys) for the keys `keys`
    keys: list | None = None
    contracts: object = None                # the contract set its batch was formed for, and is checked with

    @cached_property
    def kind(self) -> tuple:
        """What calls going together must have alike: the call, its request data, what it supplies."""
        return (self.msg.infno, json.dumps(self.msg.data, sort_keys=True, default=str), supplied(self.msg))

    def values_for(self, keys) -> dict | None:
        if self.keys != keys:  # the first look, or the contracts were reloaded since
            self.values, self.keys = values_of(self.msg, keys), keys
        return self.values


class Gather:
    """Hands audit calls to `threads` check threads of `pool`; a thread that comes free takes
    every waiting call that may go with the oldest one. `work(jobs)` checks them (with
    `jobs[0].contracts`) and settles each job's future; `keys()` gives the contracts in force and
    their grouping keys, read once per batch formed."""

    def __init__(self, pool, threads: int, work, keys):
        self._pool, self._threads, self._work, self._keys = pool, max(1, threads), work, keys
        self._lock = threading.Lock()
        self._waiting: list[Job] = []
        self._running = 0
        self.checks = 0       # checks run
        self.calls = 0        # calls answered by them

    def submit(self, msg: Message, record: bool, deadline: float, late: Exception) -> Future:
        job = Job(msg, record, deadline, late)
        with self._lock:
            self._waiting.append(job)
            if self._running < self._threads:
                self._running += 1
                self._pool.submit(self._drain)
        return job.future

    def _drain(self) -> None:
        """Check one batch, then give the thread back: while calls still wait, the next batch is
        queued behind whatever else waits for the pool (a 3103, a /check), which audit load would
        otherwise starve."""
        while True:
            with self._lock:
                try:
                    group = self._take()
                except BaseException as e:  # noqa: BLE001 - never a thread lost: every waiting call answered
                    group = []
                    for job in self._waiting:
                        if job.future.set_running_or_notify_cancel():
                            job.future.set_exception(e)
                    self._waiting = []
                if not group:
                    self._running -= 1
                    return
                self.checks += 1
                self.calls += len(group)
            try:
                self._work(group)
            except BaseException as e:  # noqa: BLE001 - work settles its jobs; any it left, settled here
                for job in group:
                    if not job.future.done():
                        job.future.set_exception(e)
            with self._lock:
                if not self._waiting:
                    self._running -= 1
                    return
                try:
                    self._pool.submit(self._drain)  # the thread's turn, again, at the back of the pool's queue
                    return
                except RuntimeError:
                    pass  # the pool is shutting down: the calls still waiting are checked on this thread

    def _take(self) -> list[Job]:
        """The oldest waiting call and every later one that may go with it (the lock is held); empty
        only when nothing waits. (A group can come out empty when its calls' clients left while it
        was formed: then the calls set aside are taken in turn.)"""
        while self._waiting:
            group = self._form()
            if group:
                return group
        return []

    def _form(self) -> list[Job]:
        now, keys, contracts = time.monotonic(), None, None
        group, used, lines, rest = [], {}, 0, []
        for job in self._waiting:
            if job.future.cancelled():
                continue  # its client was answered the timeout and left
            if now >= job.deadline:
                if job.future.set_running_or_notify_cancel():
                    job.future.set_exception(job.late)
                continue
            if not group:
                group.append(job)
                lines = job.msg.table.num_rows
                continue
            first = group[0]
            if keys is None:
                contracts, keys = self._keys()
                used = {k: set(v) for k, v in (first.values_for(keys) or {}).items()}
            mine = job.values_for(keys)
            ok = (first.values is not None and mine is not None and not first.record and not job.record
                  and lines + job.msg.table.num_rows <= MAX_LINES and job.kind == first.kind
                  and all(used[k].isdisjoint(v) for k, v in mine.items()))
            if ok:
                group.append(job)
                lines += job.msg.table.num_rows
                for k, v in mine.items():
                    used[k] |= v
            else:
                rest.append(job)
        self._waiting = rest
        group = [j for j in group if j.future.set_running_or_notify_cancel()]
        for j in group:
            j.contracts = contracts  # None for a call alone: checked with the contracts in force
        return group


def split_answer(answer: dict, msgs: list[Message], task_default: str) -> list[dict]:
    """The answer to a batch as each call's own answer: its results and waived findings (by visit),
    its msgid as inf_refmsgid and task_id."""
    owner = {}
    for i, m in enumerate(msgs):
        for v in m.table.column("mdtrt_id").to_pylist():
            owner[v] = i
    out = []
    for m in msgs:
        msgid = (m.envelope or {}).get("msgid")
        ref = msgid or f"claimcheck{time.strftime('%Y%m%d%H%M%S')}{time.perf_counter_ns() % 1_000_000:06d}"[:30]
        out.append({**{k: v for k, v in answer.items() if k != "output"}, "inf_refmsgid": ref,
                    "output": {"result": [], "waived": []}})
    for r in answer["output"]["result"]:
        i = owner[r["mdtrt_id"]]  # KeyError (not a line of any call) fails the batch: it is tried again in halves
        msgid = (msgs[i].envelope or {}).get("msgid")
        out[i]["output"]["result"].append({**r, "task_id": msgid or task_default})
    for w in answer["output"].get("waived", []):
        out[owner[w["mdtrt_id"]]]["output"]["waived"].append(w)
    return out
