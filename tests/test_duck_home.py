"""A server worker's DuckDB home (checks/duck.py Home): checks run on cursors of one database
instead of a database each, and answer exactly what a check with a database of its own answers,
in the same order; cursors do not see each other; the database is renewed and the old one closed
once no cursor holds it."""
from __future__ import annotations

import threading

import duckdb
import pytest

from checks import check
from checks.duck import Home
from checks.nhsa import read_message
from checks.report.nhsa_out import national_answer
from serve_kit import ROOT, batch_as_message

GOLDEN = sorted((ROOT / "sample_claims").glob("*.parquet"))


@pytest.fixture
def home():
    h = Home(renew=3)
    yield h
    h.close()


def _results(answer: dict) -> list:
    return answer["output"]["result"]


@pytest.mark.parametrize("batch", GOLDEN, ids=lambda p: p.stem)
def test_a_check_on_a_home_answers_what_a_check_of_its_own_answers_in_the_same_order(home, batch):
    msg = read_message(batch_as_message(batch))
    alone = check(msg, cache=False, dry_run=True)
    on_home = check(msg, cache=False, dry_run=True, threads=1, home=home)
    assert on_home.table.equals(alone.table)
    assert [r.status for r in on_home.rules] == [r.status for r in alone.rules]
    # the answer is written on a cursor of the home, which keeps no insertion order: rows are sorted
    assert _results(national_answer(on_home, msg, home=home)) == _results(national_answer(alone, msg))


def test_the_answers_were_over_findings(home):
    found = [len(_results(national_answer(check(read_message(batch_as_message(b)), cache=False, dry_run=True,
                                                   home=home), home=home))) for b in GOLDEN]
    assert sum(1 for n in found if n > 1) >= 3, found


def test_two_cursors_do_not_see_each_other_s_temporary_tables(home):
    a, b = home.cursor(), home.cursor()
    a.execute("CREATE TEMP TABLE lines AS SELECT 1 AS x")
    b.execute("CREATE TEMP TABLE lines AS SELECT 2 AS x")
    assert a.execute("SELECT x FROM lines").fetchall() == [(1,)]
    assert b.execute("SELECT x FROM lines").fetchall() == [(2,)]
    home.release(a)
    home.release(b)
    c = home.cursor()
    with pytest.raises(duckdb.CatalogException):
        c.execute("SELECT x FROM lines")  # a released cursor's tables went with it
    home.release(c)


def test_the_database_is_renewed_and_the_old_one_closed_when_its_last_cursor_is_released(home):
    held = home.cursor()
    held.execute("CREATE TEMP TABLE t AS SELECT 42 AS x")
    for _ in range(3):  # renew=3: the fourth cursor opens a new database
        home.release(home.cursor())
    assert home.databases_opened == 2
    assert home.databases_open == 2  # the first is still held
    assert held.execute("SELECT x FROM t").fetchall() == [(42,)]  # and still answers
    home.release(held)
    assert home.databases_open == 1


def test_checks_side_by_side_on_one_home_each_get_their_own_findings(home):
    msgs = [read_message(batch_as_message(b)) for b in GOLDEN[:4]]
    want = [check(m, cache=False, dry_run=True).table for m in msgs]
    got: dict[int, object] = {}

    def run(k):
        for _ in range(2):
            got[k] = check(msgs[k], cache=False, dry_run=True, threads=1, home=home).table

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(msgs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(got[k].equals(want[k]) for k in range(len(msgs)))
    assert home.databases_opened >= 2  # renewed while checks ran side by side


def test_the_service_checks_messages_on_its_home_and_a_batch_on_a_database_of_its_own():
    """A 3101/3102 message is small and many: it runs on the worker's home. A batch sent to
    /check may be large: its memory is its own, as with `claimcheck check`, and does not take
    the home's limit from the messages checked beside it."""
    from checks.serve.service import Service, Settings

    service = Service(Settings())
    try:
        service.check(GOLDEN[0])
        assert service.home.cursors == 0
        service.check(read_message(batch_as_message(GOLDEN[0])))
        assert service.home.cursors == 1
    finally:
        service.close()


def _kept(home) -> int:
    """Tables of the home's database (not a cursor's temporary ones): what Home.keep made."""
    con = home.cursor()
    try:
        return con.execute("SELECT count(*) FROM duckdb_tables() WHERE NOT temporary").fetchall()[0][0]
    finally:
        home.release(con)


def test_what_is_made_from_the_contracts_alone_is_made_once_and_a_reload_s_tables_are_read(tmp_path):
    """A lookup keyed by a reference table's values and the names a contract knows institutions by
    are made by the first check on a home and read by the checks after it; a reload whose table
    differs (the same SQL over other rows) gets tables of its own, never the earlier set's."""
    from checks.contract import load_contracts

    fewer = tmp_path / "art_institutions.csv"
    fewer.write_text("source_row,institution,fixmedins_code\n第2行,吉林省妇幼保健院,\n", encoding="utf-8")
    listed = load_contracts(ROOT / "contracts", {"art_institutions": str(ROOT / "contracts/jilin-art/sample_art_institutions.csv")})
    other = load_contracts(ROOT / "contracts", {"art_institutions": str(fewer)})
    batch = [str(ROOT / "sample_claims/jilin-art-1.0.0.parquet")]
    home = Home(renew=1000)
    try:
        alone = {id(c): check(batch, contracts=c, cache=False, dry_run=True) for c in (listed, other)}
        first = check(batch, contracts=listed, cache=False, dry_run=True, home=home)
        made = _kept(home)
        assert made > 0
        again = check(batch, contracts=listed, cache=False, dry_run=True, home=home)
        assert _kept(home) == made, "the second check made its tables again"
        reloaded = check(batch, contracts=other, cache=False, dry_run=True, home=home)
        back = check(batch, contracts=listed, cache=False, dry_run=True, home=home)
        for report, contracts in ((first, listed), (again, listed), (reloaded, other), (back, listed)):
            assert report.table.equals(alone[id(contracts)].table)
        unlisted = [f for f in reloaded.findings if f.rule_id == "JL-INST"]
        assert len(unlisted) > len([f for f in first.findings if f.rule_id == "JL-INST"])
    finally:
        home.close()
