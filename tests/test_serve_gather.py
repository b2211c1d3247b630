"""Audit calls that wait for a check thread are checked together (checks/serve/gather.py), and
each call's answer is the one it gets checked alone: the same results, its own msgid. Calls that
a rule could relate (one patient, one visit, another call or request data, a settlement being
recorded) never go together."""
from __future__ import annotations

import copy
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from checks.contract import load_contracts
from checks.serve.gather import Gather, grouping_keys
from checks.serve.national import read_message
from serve_kit import ROOT, batch_as_message, message, post, serving

GOLDEN = sorted((ROOT / "sample_claims").glob("*.parquet"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving("--max-body", str(50 * 1024 * 1024), "--timeout", "600",
                 log=tmp_path_factory.mktemp("gather") / "log") as s:
        yield s


def call(patients: list[dict], msgid: str, trig_scen: str = "4") -> dict:
    return {"infno": "3102", "msgid": msgid, "opter": "hand", "opter_name": "hand",
            "input": {"data": {"trig_scen": trig_scen, "patient_dtos": patients}}}


def calls_of_golden(client) -> list[dict]:
    """Calls of single patients of every golden batch: patients the whole batch has results for
    and some it has none for; and, for patients with more than one visit, the visits split over
    two calls of the same patient (which must not go together: a second payment in the other call
    would be a finding only if they did)."""
    out = []
    for b in GOLDEN:
        whole = batch_as_message(b)
        found = {r["patn_id"] for r in post(client, "/3102", whole).json()["output"]["result"]}
        pats = whole["input"]["data"]["patient_dtos"]
        with_results = [p for p in pats if p["patn_id"] in found][:6]
        without = [p for p in pats if p["patn_id"] not in found][:3]
        split = [p for p in pats if p["patn_id"] in found and len(p["fsi_encounter_dtos"]) > 1][:2]
        for p in with_results + without:
            out.append(call([p], f"G{b.stem[:12]}{len(out):05d}"))
        for p in split:
            for half in (p["fsi_encounter_dtos"][:1], p["fsi_encounter_dtos"][1:]):
                out.append(call([dict(p, fsi_encounter_dtos=half)], f"S{b.stem[:12]}{len(out):05d}"))
    return out


def as_patient(m: dict, k: int) -> dict:
    """Message `m` (a HIS's, as tests/fixtures/nhsa has them) for patient k: ids suffixed."""
    m = copy.deepcopy(m)
    inp = m["input"] if "input" in m else m
    for p in inp["data"]["patient_dtos"]:
        p["patn_id"] = f"{p['patn_id']}-{k}"
        encs = p["fsi_encounter_dtos"] if isinstance(p["fsi_encounter_dtos"], list) else [p["fsi_encounter_dtos"]]
        for e in encs:
            e["mdtrt_id"] = f"{e['mdtrt_id']}-{k}"
        if p.get("curr_mdtrt_id"):
            p["curr_mdtrt_id"] = f"{p['curr_mdtrt_id']}-{k}"
    if "msgid" in m:
        m["msgid"] = f"{m['msgid'][:24]}-{k}"
    return m


def calls_by_his() -> list[tuple[str, dict]]:
    """Each hand-written HIS message (several diagnoses, earlier orders sent as context, amounts as
    strings, a bare `input`) as the calls of four patients."""
    out = []
    for f in sorted((ROOT / "tests" / "fixtures" / "nhsa").glob("*.json")):
        m = json.loads(f.read_text(encoding="utf-8"))
        path = "/3102" if m.get("infno") == "3102" else "/3101"
        out += [(path, as_patient(m, k)) for k in range(4)]
    return out


def batch_of(r: httpx.Response) -> int:
    for part in r.headers["server-timing"].split(","):
        name, _, rest = part.strip().partition(";")
        if name == "batch":
            return int(rest.removeprefix("desc=").strip('"'))
    raise AssertionError(f"no batch in Server-Timing: {r.headers['server-timing']}")


def answered(r: httpx.Response) -> dict:
    """The answer but its times (and the id made from the time for a call without a msgid)."""
    a = r.json()
    assert a["infcode"] == 0, a["err_msg"]
    if a["inf_refmsgid"].startswith("claimcheck"):
        assert len(a["inf_refmsgid"]) == 30
        a["inf_refmsgid"] = "claimcheck…"
    return {k: v for k, v in a.items() if k not in ("refmsg_time", "respond_time")}


def test_calls_checked_together_get_the_answers_they_get_alone(server):
    with httpx.Client(base_url=server.url, timeout=600) as c:
        calls = [("/3102", m) for m in calls_of_golden(c)] + calls_by_his()
        alone = []
        for path, m in calls:  # one at a time: nothing waits, so each is checked alone
            r = post(c, path, m)
            assert batch_of(r) == 1
            alone.append(answered(r))

    def send(call):
        with httpx.Client(base_url=server.url, timeout=600) as c:
            return post(c, *call)
    with ThreadPoolExecutor(len(calls)) as pool:
        together = list(pool.map(send, calls))

    assert [answered(r) for r in together] == alone
    assert max(batch_of(r) for r in together) > 1, "no call waited beside another: nothing was checked together"
    assert sum(len(a["output"]["result"]) for a in alone) >= 20
    assert all(a["inf_refmsgid"] == m["msgid"] and all(x["task_id"] == m["msgid"] for x in a["output"]["result"])
               for a, (_, m) in zip(alone, calls) if "msgid" in m)
    with httpx.Client(base_url=server.url) as c:
        metrics = c.get("/metrics").text
    assert 'claimcheck_audit_calls_total{checked="together"}' in metrics


def test_a_call_no_check_accepts_gets_its_own_error_and_the_others_stay_together(server):
    """A value out of range (cnt 1e300) fails the check of any batch holding it: the batch is
    halved until the call is alone, and the others are still answered from batches."""
    from serve_kit import with_orders
    blocker = as_patient(with_orders(message(), 5000), 999)  # 5,000 orders: checked alone, for a second
    calls = [nipt(f"P{k}", f"V{k}", msgid=f"POISON{k:05d}") for k in range(24)]
    calls[7]["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]["fsi_order_dtos"][0]["cnt"] = 1e300
    with httpx.Client(base_url=server.url, timeout=600) as c:
        alone = [post(c, "/3101", m) for m in calls]
    assert alone[7].status_code == 400 and "1e+300" in alone[7].json()["err_msg"]

    def send(m):
        with httpx.Client(base_url=server.url, timeout=600) as c:
            return post(c, "/3101", m)
    with ThreadPoolExecutor(len(calls) + 2) as pool:
        busy = [pool.submit(send, as_patient(blocker, k)) for k in range(2)]  # both check threads taken
        time.sleep(0.3)
        together = list(pool.map(send, calls))
        assert all(b.result().status_code == 200 for b in busy)
    assert together[7].status_code == 400
    assert together[7].json()["err_msg"] == alone[7].json()["err_msg"]
    good = [k for k in range(len(calls)) if k != 7]
    assert [answered(together[k]) for k in good] == [answered(alone[k]) for k in good]
    assert sum(batch_of(together[k]) > 1 for k in good) >= len(good) // 2, [batch_of(together[k]) for k in good]


# -- which waiting calls go together: a check thread held while calls queue behind it -------------

@pytest.fixture(scope="module")
def keys():
    contracts = load_contracts(ROOT / "contracts")
    return grouping_keys(contracts)


def nipt(patient: str, visit: str, **over) -> dict:
    m = message(**over)
    p = m["input"]["data"]["patient_dtos"][0]
    p["patn_id"] = patient
    p["fsi_encounter_dtos"][0]["mdtrt_id"] = p["curr_mdtrt_id"] = visit
    return m


class FirstHeld:
    """A Gather `work` that records each batch's call names and answers every call, holding the
    thread on the first batch until release(): the calls submitted meanwhile queue behind it."""

    def __init__(self):
        self.batches, self.busy, self._release = [], threading.Event(), threading.Event()

    def __call__(self, jobs):
        self.batches.append([j.msg.where for j in jobs])
        if len(self.batches) == 1:
            self.busy.set()
            self._release.wait(30)
        for j in jobs:
            j.future.set_result("answered")

    def release(self):
        self._release.set()


def submit(g: Gather, patient: str, visit: str, name: str, obj: dict | None = None, record: bool = False):
    return g.submit(read_message(obj or nipt(patient, visit), name), record, 1e18, TimeoutError())


def groups_of(keys, waiting: list[tuple[str, dict, bool]]) -> list[list[str]]:
    """The groups a one-thread Gather forms of `waiting` (name, request, record), queued while
    its thread is busy with a first call; `keys`: the grouping keys, or what Gather asks for them
    (a function giving the contracts and their keys)."""
    held = FirstHeld()
    with ThreadPoolExecutor(1) as pool:
        g = Gather(pool, 1, held, keys if callable(keys) else lambda: (None, keys))
        first = submit(g, "P0", "V0", "first")
        assert held.busy.wait(30)
        futures = [submit(g, "", "", name, obj, record) for name, obj, record in waiting]
        held.release()
        for f in [first, *futures]:
            f.result(30)
    return held.batches[1:]


def test_waiting_calls_of_other_patients_and_visits_go_together(keys):
    assert groups_of(keys, [("a", nipt("P1", "V1"), False), ("b", nipt("P2", "V2"), False),
                            ("c", nipt("P3", "V3"), False)]) == [["a", "b", "c"]]


def test_calls_of_one_patient_or_one_visit_never_go_together(keys):
    assert groups_of(keys, [("a", nipt("P1", "V1"), False), ("same patient", nipt("P1", "V2"), False),
                            ("same visit", nipt("P9", "V1"), False), ("other", nipt("P3", "V3"), False)]) == [
        ["a", "other"], ["same patient", "same visit"]]  # apart from "a", these two share nothing


def test_another_call_other_request_data_or_a_recorded_settlement_goes_alone(keys):
    settle = nipt("P4", "V4")
    settle["input"]["data"]["trig_scen"] = "6"
    other_call = nipt("P2", "V2", infno="3102")
    assert groups_of(keys, [("a", nipt("P1", "V1"), False), ("3102", other_call, False),
                            ("settlement", settle, True), ("b", nipt("P3", "V3"), False)]) == [
        ["a", "b"], ["3102"], ["settlement"]]


def test_a_key_a_contract_groups_by_keeps_calls_apart(keys):
    """A rule counting per institution (a `per` no bundled rule has) would relate the calls of one
    hospital: with such a key loaded, they go one at a time."""
    assert ("fixmedins_code",) not in keys
    two = [("a", nipt("P1", "V1"), False), ("b", nipt("P2", "V2"), False)]
    assert groups_of(keys + [("fixmedins_code",)], two) == [["a"], ["b"]]
    assert groups_of(keys, copy.deepcopy(two)) == [["a", "b"]]


def test_the_grouping_keys_are_read_from_the_rules(keys):
    assert ("psn_no", "fetts") in keys and ("psn_no",) in keys and ("mdtrt_id",) in keys
    assert json.dumps(keys)  # plain tuples of field names


def test_every_rule_whose_query_looks_across_lines_names_its_groups():
    """A window over a key, an aggregate, or lines joined to lines: the rule relates lines, and
    its kind must say by what (RuleKind.groups), or the service would check together calls that
    the rule relates. A rule judging each line alone names none."""
    import re

    from checks.report.explain import rule_sql
    contracts = load_contracts(ROOT / "contracts", {
        "sunshine_catalogue": ROOT / "contracts/jiangsu-consumables/sample_catalogue.csv",
        "art_institutions": ROOT / "contracts/jilin-art/sample_art_institutions.csv"})
    across = re.compile(r"OVER \(PARTITION BY|GROUP BY|\bFROM lines\b.*\bFROM lines\b|JOIN \(SELECT [^)]*FROM lines",
                        re.S)
    seen = set()
    for v in contracts:
        for r in v.rules:
            looks_across = bool(across.search(rule_sql(v, r)))
            assert looks_across == bool(r.impl.groups()), f"{v.id} {v.version} {r.id} ({r.impl.name})"
            seen.add((r.impl.name, looks_across))
    assert {k for k, a in seen if a} == {"frequency", "exclusion", "addon", "ceiling"}


def test_a_reload_that_adds_a_key_is_heeded_by_calls_already_waiting(keys):
    """Calls compared under the keys before a reload are compared again under the new ones: two
    calls of one hospital, apart before, may not go together once a rule counts per hospital."""
    asked = []

    def reloading():
        asked.append(1)
        return None, keys if len(asked) == 1 else keys + [("fixmedins_code",)]
    waiting = [("a", nipt("P1", "V1"), False), ("b", nipt("P1", "V2"), False), ("d", nipt("P3", "V1"), False)]
    assert groups_of(reloading, waiting) == [["a"], ["b"], ["d"]]  # b and d share the hospital
    assert groups_of(keys, copy.deepcopy(waiting)) == [["a"], ["b", "d"]]


def test_a_failure_forming_a_batch_answers_the_waiting_calls_and_loses_no_thread():
    failing = [True]

    def keys():
        if failing[0]:
            failing[0] = False
            raise RuntimeError("keys unreadable")
        return None, [("mdtrt_id",), ("psn_no",)]

    held = FirstHeld()
    with ThreadPoolExecutor(1) as pool:
        g = Gather(pool, 1, held, keys)
        first = submit(g, "P0", "V0", "first")
        assert held.busy.wait(30)
        waiting = [submit(g, f"P{k}", f"V{k}", str(k)) for k in (1, 2)]
        held.release()
        assert first.result(30) == "answered"
        for f in waiting:
            with pytest.raises(RuntimeError, match="keys unreadable"):
                f.result(30)
        assert submit(g, "P9", "V9", "later").result(30) == "answered"


def test_a_visit_named_only_by_an_encounters_diagnoses_keeps_calls_apart(keys):
    no_orders = nipt("P5", "V1")
    no_orders["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]["fsi_order_dtos"] = []
    assert groups_of(keys, [("a", nipt("P1", "V1"), False), ("diagnoses of V1", no_orders, False),
                            ("c", nipt("P3", "V3"), False)]) == [["a", "c"], ["diagnoses of V1"]]


def test_calls_whose_lines_fill_other_columns_go_apart(keys):
    """What a batch supplies (a column with a value on some line) decides whether a rule refining
    on an optional column judges at all: a call without a birth date goes with calls without."""
    no_birth = [nipt(f"P{k}", f"V{k}") for k in (2, 4)]
    for m in no_birth:
        m["input"]["data"]["patient_dtos"][0]["brdy"] = ""
    assert groups_of(keys, [("a", nipt("P1", "V1"), False), ("no brdy", no_birth[0], False),
                            ("c", nipt("P3", "V3"), False), ("no brdy 2", no_birth[1], False)]) == [
        ["a", "c"], ["no brdy", "no brdy 2"]]


def test_a_call_set_aside_is_taken_when_the_one_before_it_left_while_its_batch_was_formed():
    """The oldest call's client leaves (its timeout cancels it) while its batch is being formed:
    the call set aside behind it (same patient) is still checked, not left with no thread."""
    futures, held = {}, FirstHeld()

    def keys():  # asked while the batch headed by A is formed: A's client leaves now
        futures["A"].cancel()
        return None, [("mdtrt_id",), ("psn_no",)]

    with ThreadPoolExecutor(1) as pool:
        g = Gather(pool, 1, held, keys)
        submit(g, "P0", "V0", "first")
        assert held.busy.wait(30)
        futures["A"] = submit(g, "P1", "V1", "A")
        futures["B"] = submit(g, "P1", "V2", "B")
        held.release()
        assert futures["B"].result(30) == "answered"
    assert futures["A"].cancelled() and held.batches == [["first"], ["B"]]


def test_audit_calls_that_keep_coming_do_not_starve_other_work_of_the_check_threads():
    """A check thread gives its turn back after each batch: a 3103 or a /check queued for the
    same threads runs between batches, not after every audit call waiting."""
    held = FirstHeld()
    with ThreadPoolExecutor(1) as pool:
        g = Gather(pool, 1, held, lambda: (None, [("mdtrt_id",), ("psn_no",)]))
        submit(g, "P0", "V0", "first")
        assert held.busy.wait(30)
        same = [submit(g, "P1", f"V{k}", f"call {k}") for k in range(3)]  # one patient: one at a time
        other = pool.submit(held.batches.append, ["a 3103"])
        held.release()
        other.result(30)
        for f in same:
            f.result(30)
    assert held.batches == [["first"], ["a 3103"], ["call 0"], ["call 1"], ["call 2"]]


def test_a_call_with_a_visit_of_many_diagnoses_goes_alone(keys):
    """Each further diagnosis of a visit may have the batch judged again: such a call would cost
    the calls beside it its time."""
    many = nipt("P2", "V2")
    enc = many["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]
    enc["fsi_diagnose_dtos"] = [dict(enc["fsi_diagnose_dtos"][0], dise_codg=f"O09.{k:03d}", maindise_flag="0")
                                for k in range(9)] + enc["fsi_diagnose_dtos"]
    assert groups_of(keys, [("a", nipt("P1", "V1"), False), ("twelve diagnoses", many, False),
                            ("c", nipt("P3", "V3"), False)]) == [["a", "c"], ["twelve diagnoses"]]
