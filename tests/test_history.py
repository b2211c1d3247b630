"""The history ledger: limits hold across batches, re-runs count nothing twice, refunds cancel,
recording is atomic under kill -9, concurrent writers never corrupt it, the schema migrates."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from checks import check
from checks.history import Ledger
from checks.history.ledger import ALIAS
from checks.runner import import_history
from conftest import ROOT, line

EXE = str(Path(sys.executable).parent / "claimcheck")
JILIN = dict(code="311600009", price=600.0, limit=600.0, mdtrtarea_admvs="220102", fixmedins_name="吉林大学第一医院",
             med_type="14", fee_ocur_time=dt.datetime(2025, 3, 1, 9))


def found(report):
    return sorted((f.rule_id, f.mdtrt_id) for f in report.findings)


def ledger_state(path):
    con = duckdb.connect()
    con.execute(f"ATTACH '{path}' AS h (READ_ONLY)")
    n, digest = con.sql("SELECT count(*), coalesce(sum(hash(mdtrt_id, feedetl_sn, content_hash, batch_seq)), 0) "
                        "FROM h.lines").fetchall()[0]
    batches = con.sql("SELECT count(*) FROM h.batches").fetchall()[0][0]
    con.close()
    return n, digest, batches


def lines_and_last_batch(path):
    con = duckdb.connect()
    con.execute(f"ATTACH '{path}' AS h (READ_ONLY)")
    tables = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables() WHERE database_name = 'h'").fetchall()}
    if "lines" not in tables:
        return 0, None
    n = con.sql("SELECT count(*) FROM h.lines").fetchall()[0][0]
    last = con.sql("SELECT recorded FROM h.batches ORDER BY seq DESC LIMIT 1").fetchall()
    con.close()
    return n, last[0][0] if last else None


def test_second_payments_across_batches_are_flagged(write, tmp_path):
    ledger = tmp_path / "ledger.duckdb"
    first = write([line(1), line(2, **JILIN)], "week1.parquet")
    second = write([line(3, psn_no="P00001", fee_ocur_time=dt.datetime(2025, 2, 1)),   # same pregnancy, dated earlier
                    line(4, psn_no="P00002", **{**JILIN, "fee_ocur_time": dt.datetime(2025, 5, 1)}),  # same person
                    line(5, psn_no="P00001", fetts="2")], "week2.parquet")              # another pregnancy
    assert check([str(first)], history=ledger).findings == []
    report = check([str(second)], history=ledger)
    assert found(report) == [("JL-3", "M00004"), ("JS-7-detection", "M00003")]
    f = next(f for f in report.findings if f.rule_id == "JS-7-detection")
    assert f.related == {"mdtrt_id": "M00001", "feedetl_sn": "1", "fee_ocur_time": "2025-03-01T09:30:00",
                         "fixmedins_code": "H32010600001", "fixmedins_name": "南京鼓楼医院", "in_history": True,
                         "file": str(first), "row": 1}
    assert report.history["earlier_lines"] == 2 and report.history["recorded"] == 3


def test_without_the_ledger_the_second_batch_looks_clean(write):
    second = write([line(3, psn_no="P00001", fee_ocur_time=dt.datetime(2025, 2, 1))])
    assert check([str(second)]).findings == []


def test_rerunning_batches_flags_nothing_new(write, tmp_path):
    ledger = tmp_path / "ledger.duckdb"
    first = write([line(1)], "a.parquet")
    second = write([line(2, psn_no="P00001", fee_ocur_time=dt.datetime(2025, 4, 1))], "b.parquet")
    check([str(first)], history=ledger)
    once = found(check([str(second)], history=ledger))
    state = ledger_state(ledger)[:2]
    assert found(check([str(second)], history=ledger)) == once == [("JS-7-detection", "M00002")]
    assert found(check([str(first)], history=ledger)) == []  # the earlier batch keeps its place
    assert ledger_state(ledger)[:2] == state


def test_a_changed_line_replaces_the_recorded_one_and_says_so(write, tmp_path):
    ledger = tmp_path / "ledger.duckdb"
    check([str(write([line(1), line(2, psn_no="P7")], "a.parquet"))], history=ledger)
    report = check([str(write([line(1, price=480.0), line(2, psn_no="P7")], "a2.parquet"))], history=ledger)
    h = report.history
    assert (h["replaced"], h["changed"]) == (2, 1) and h["changed_lines"] == [{"mdtrt_id": "M00001", "feedetl_sn": "1"}]
    assert ledger_state(ledger)[0] == 2


@pytest.mark.parametrize("refund", [
    dict(cnt=-1.0, price=500.0),                                     # negative quantity and amounts
    dict(refd_setl_flag="1"),                                        # flagged, amounts as extracted
], ids=["negative", "refd_setl_flag"])
def test_a_refund_in_a_later_batch_cancels_the_payment(write, tmp_path, refund):
    ledger = tmp_path / "ledger.duckdb"
    check([str(write([{**line(1), "refd_setl_flag": "0"}], "a.parquet"))], history=ledger)
    refund_line = {**line(1, feedetl_sn="2", fee_ocur_time=dt.datetime(2025, 3, 5), **{k: v for k, v in refund.items()
                                                                                         if k != "refd_setl_flag"}),
                   "refd_setl_flag": refund.get("refd_setl_flag", "1")}
    assert check([str(write([refund_line], "b.parquet"))], history=ledger).findings == []
    again = {**line(2, psn_no="P00001", fee_ocur_time=dt.datetime(2025, 4, 1)), "refd_setl_flag": "0"}
    assert check([str(write([again], "c.parquet"))], history=ledger).findings == []
    twice = {**line(3, psn_no="P00001", fee_ocur_time=dt.datetime(2025, 5, 1)), "refd_setl_flag": "0"}
    assert found(check([str(write([twice], "d.parquet"))], history=ledger)) == [("JS-7-detection", "M00003")]


def test_dry_run_counts_the_ledger_and_records_nothing(write, tmp_path, run_cli):
    ledger = tmp_path / "ledger.duckdb"
    check([str(write([line(1)], "a.parquet"))], history=ledger)
    before = ledger_state(ledger)
    second = write([line(2, psn_no="P00001")], "b.parquet")
    p = run_cli("check", second, "--history", ledger, "--dry-run")
    assert p.returncode == 1 and "JS-7-detection" in p.stdout and "dry run: nothing recorded" in p.stdout
    assert ledger_state(ledger) == before
    p = run_cli("check", second, "--history", tmp_path / "none.duckdb", "--dry-run")
    assert p.returncode == 2 and "no ledger there" in p.stderr
    assert run_cli("check", second, "--dry-run").returncode == 2


def test_import_seeds_the_ledger_from_settled_claims(write, tmp_path, run_cli):
    ledger = tmp_path / "ledger.duckdb"
    settled = write([line(1), line(2, code="110200001", price=15.0)], "settled.parquet")
    p = run_cli("history", "import", settled, "--ledger", ledger)
    assert p.returncode == 0 and "recorded 1 lines as batch #1" in p.stdout  # only lines a limit counts
    report = check([str(write([line(3, psn_no="P00001")], "new.parquet"))], history=ledger)
    assert found(report) == [("JS-7-detection", "M00003")]
    p = run_cli("history", "stats", "--ledger", ledger)
    assert p.returncode == 0 and "schema 2" in p.stdout and "2 lines, 1 persons, 2 batches" in p.stdout
    p = run_cli("history", "show", "--psn", "P00001", "--ledger", ledger)
    assert p.returncode == 0 and p.stdout.count("CJ30303033341300103001") == 2 and "#1" in p.stdout


def _start(args, pause=None, env_extra=None):
    env = dict(os.environ)
    if pause:
        env["CLAIMCHECK_FAULT_PAUSE_BEFORE_COMMIT"] = str(pause)
    env.update(env_extra or {})
    return subprocess.Popen([EXE, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for_pause(proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = proc.stdout.readline()
        if "paused before commit" in out:
            return
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode}: {proc.stderr.read()}")
    raise AssertionError("never reached the commit")


def test_kill_9_while_recording_leaves_the_ledger_as_it_was(write, tmp_path):
    ledger = tmp_path / "ledger.duckdb"
    check([str(write([line(1), line(2)], "a.parquet"))], history=ledger)
    before = ledger_state(ledger)
    # the killed batch replaces a recorded line (a correction) and adds new ones
    rows = [line(1, price=480.0)] + [line(n) for n in range(3, 400)]
    proc = _start(["check", write(rows, "b.parquet"), "--history", ledger], pause=60)
    _wait_for_pause(proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert ledger_state(ledger) == before
    report = check([str(write([line(500, psn_no="P00001")], "c.parquet"))], history=ledger)  # still usable
    assert found(report) == [("JS-7-detection", "M00500")]


def test_kill_9_at_random_moments_never_leaves_half_a_batch(root, tmp_path):
    batch = tmp_path / "big.parquet"
    subprocess.run([EXE, "sample", batch, "--lines", "60000", "--scenario", "jiangsu-nipt@1.0.0"], check=True,
                   capture_output=True)
    ledger = tmp_path / "ledger.duckdb"
    for delay in (0.4, 0.8, 1.2, 1.6, 2.0, 2.4):
        proc = _start(["check", batch, "--history", ledger, "--show", "0"])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if ledger.exists():
            n, last_recorded = lines_and_last_batch(ledger)
            # every recording of this batch replaces the same identities: the lines are exactly the last
            # recorded batch's, or none before the first recording committed
            assert n == (last_recorded or 0), "half a batch in the ledger"
    p = subprocess.run([EXE, "check", batch, "--history", ledger, "--show", "0", "--allow-incomplete"], capture_output=True, text=True)
    assert p.returncode in (0, 1), p.stderr
    n, _, batches = ledger_state(ledger)
    assert n > 0 and batches >= 1


def test_concurrent_writers_wait_or_fail_clearly(write, tmp_path):
    ledger = tmp_path / "ledger.duckdb"
    a = _start(["check", write([line(1)], "a.parquet"), "--history", ledger], pause=4)
    _wait_for_pause(a)
    b = subprocess.run([EXE, "check", write([line(2)], "b.parquet"), "--history", ledger, "--history-wait", "0.5"],
                       capture_output=True, text=True)
    assert b.returncode == 2 and "in use by another process" in b.stderr and "--history-wait" in b.stderr
    c = _start(["check", write([line(3, psn_no="P00001")], "c.parquet"), "--history", ledger,
                "--history-wait", "60"])
    assert a.wait(timeout=60) == 0
    out, err = c.communicate(timeout=60)
    assert c.returncode == 1, err
    assert "JS-7-detection" in out  # waited, then saw a's payment
    assert ledger_state(ledger)[0] == 2


V1_SCHEMA = """
CREATE TABLE h.meta (key VARCHAR, value VARCHAR);
INSERT INTO h.meta VALUES ('schema_version', '1');
CREATE TABLE h.batches (seq INTEGER, batch_id VARCHAR, recorded_at TIMESTAMP, source VARCHAR, files VARCHAR,
                        lines BIGINT, recorded BIGINT, replaced BIGINT);
INSERT INTO h.batches VALUES (1, 'x', TIMESTAMP '2025-03-02 00:00:00', 'check', 'old.parquet', 1, 1, 0);
"""


def test_a_schema_1_ledger_is_migrated(write, tmp_path):
    from checks.history.ledger import LINE_COLUMNS

    ledger = tmp_path / "old.duckdb"
    con = duckdb.connect()
    con.execute(f"ATTACH '{ledger}' AS h")
    con.execute(V1_SCHEMA)
    con.execute(f"CREATE TABLE h.lines ({', '.join(LINE_COLUMNS)}, fee_date DATE, batch_seq INTEGER, "
                "source_file VARCHAR, source_row BIGINT)")
    con.execute("INSERT INTO h.lines BY NAME SELECT 'M00001' AS mdtrt_id, '1' AS feedetl_sn, 'P00001' AS psn_no, "
                "'1' AS fetts, 'CJ30303033341300103001' AS hilist_code, '320106' AS mdtrtarea_admvs, 1.0 AS cnt, "
                "500.0 AS det_item_fee_sumamt, 333.0 AS inscp_scp_amt, TIMESTAMP '2025-03-01 09:30:00' AS fee_ocur_time, "
                "DATE '2025-03-01' AS fee_date, 1 AS batch_seq, 'H1' AS fixmedins_code, '南京鼓楼医院' AS fixmedins_name")
    con.close()
    report = check([str(write([line(2, psn_no="P00001")]))], history=ledger)
    assert report.history["migrated_from"] == 1 and report.history["schema_version"] == 2
    assert found(report) == [("JS-7-detection", "M00002")]
    con = duckdb.connect()
    con.execute(f"ATTACH '{ledger}' AS h (READ_ONLY)")
    assert con.sql("SELECT count(*) FROM h.lines WHERE content_hash IS NULL").fetchall()[0][0] == 0
    assert con.sql("SELECT value FROM h.meta WHERE key = 'schema_version'").fetchall()[0][0] == "2"


def test_newer_or_foreign_ledgers_are_refused(write, tmp_path, run_cli):
    newer = tmp_path / "newer.duckdb"
    con = duckdb.connect()
    con.execute(f"ATTACH '{newer}' AS h")
    con.execute(V1_SCHEMA.replace("'1');", "'3');").replace("INSERT INTO h.batches", "-- "))
    con.execute("CREATE TABLE h.lines (x INT)")
    foreign = tmp_path / "foreign.duckdb"
    con.execute(f"ATTACH '{foreign}' AS f")
    con.execute("CREATE TABLE f.orders (id INT)")
    con.close()
    claims = write([line(1)])
    p = run_cli("check", claims, "--history", newer)
    assert p.returncode == 2 and "ledger schema 3 is newer than this claimcheck understands (2)" in p.stderr
    p = run_cli("check", claims, "--history", foreign)
    assert p.returncode == 2 and "not a claimcheck ledger" in p.stderr
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(b"this is not a database" * 100)
    p = run_cli("check", claims, "--history", garbage)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "garbage.duckdb" in p.stderr


def test_a_padded_batch_checked_ten_times_records_the_same_lines(write, tmp_path):
    """CHAR columns pad keys with spaces. Uniqueness, engine and ledger normalise them alike, so
    re-checking the same batch never adds lines nor findings (it once doubled them each run)."""
    ledger = tmp_path / "ledger.duckdb"
    rows = [line(1, mdtrt_id="M00001   ", feedetl_sn=" 1"), line(2, psn_no="P00001", mdtrt_id="M00002   ",
                                                               fee_ocur_time=dt.datetime(2025, 4, 1))]
    batch = write(rows)
    seen = []
    for _ in range(10):
        report = check([str(batch)], history=ledger)
        seen.append((ledger_state(ledger)[0], found(report)))
    assert seen == [(2, [("JS-7-detection", "M00002")])] * 10
    con = duckdb.connect(str(ledger), read_only=True)
    assert sorted(con.sql("SELECT mdtrt_id, feedetl_sn FROM lines").fetchall()) == [("M00001", "1"), ("M00002", "1")]
    con.close()


def test_a_new_ledger_appears_whole_or_not_at_all(write, tmp_path, monkeypatch):
    """A process killed while creating a ledger must not leave a header-less file behind that every
    later check refuses: the new database is made aside and linked into place."""
    import checks.history.ledger as ledger_module

    ledger = tmp_path / "ledger.duckdb"

    def killed(*_):
        raise KeyboardInterrupt  # the process dies after the file is made, before it is in place

    monkeypatch.setattr(ledger_module.os, "link", killed)
    with pytest.raises(KeyboardInterrupt):
        check([str(write([line(1)], "a.parquet"))], history=ledger)
    assert not ledger.exists()
    monkeypatch.undo()
    check([str(write([line(1)], "a.parquet"))], history=ledger)
    assert ledger_state(ledger)[0] == 1
    assert sorted(p.name for p in tmp_path.iterdir() if "ledger" in p.name) == ["ledger.duckdb"]


def test_a_ledger_in_a_missing_folder_is_named(write, tmp_path):
    p = subprocess.run([EXE, "check", write([line(1)], "a.parquet"), "--history", tmp_path / "nowhere" / "l.duckdb"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "nowhere" in p.stderr and "does not exist" in p.stderr and "Traceback" not in p.stderr


def test_a_ledger_on_a_file_system_without_hard_links_is_still_made(write, tmp_path, monkeypatch):
    import checks.history.ledger as ledger_module

    def refused(*_):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(ledger_module.os, "link", refused)
    ledger = tmp_path / "ledger.duckdb"
    check([str(write([line(1)], "a.parquet"))], history=ledger)
    assert ledger_state(ledger)[0] == 1
    assert [p.name for p in tmp_path.iterdir() if "ledger" in p.name] == ["ledger.duckdb"]
