"""Names and folders nobody planned for: each is read as exactly what it names, or refused with a
message naming it (exit 2, no traceback, no internal error); no output ever replaces an input.

Decisions this suite holds claimcheck to:
- a file name is a name, never a pattern: `claims[1].parquet`, `a*b.parquet`, `a?b.parquet` are
  those files, never their look-alike neighbours;
- `key=value` folders are partition values only below the folder named on the command line;
- a link to a folder inside a batch folder is followed (as the folder it points to); a link
  leading back to a folder already read (a loop) is an error naming it;
- columns named `filename`, `file_row_number` or `file_index` are refused (the reader adds
  those names to every line to locate it, and a claim column would be taken for them).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, line, table
from test_hostile_inputs import EXE, refused, run, snapshot

NIPT = ROOT / "contracts" / "jiangsu-nipt"


def judged(p, *in_stdout):
    """Claims were judged (exit 0, 1 or 3), with no internal error."""
    assert p.returncode in (0, 1, 3), p.stdout + p.stderr
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
    for s in in_stdout:
        assert s in p.stdout, (s, p.stdout)


# --- names taken literally ---------------------------------------------------------------------

@pytest.mark.parametrize("name,decoy", [("claims[1].parquet", "claims1.parquet"), ("a*b.parquet", "axb.parquet"),
                                        ("a?b.parquet", "axb.parquet"), ("[ab].parquet", "a.parquet"),
                                        ("**.parquet", "x.parquet")])
def test_a_file_name_with_glob_characters_is_that_file_and_no_other(tmp_path, name, decoy):
    pq.write_table(table([line(1)]), tmp_path / name)  # clean
    pq.write_table(table([line(2, price=520.0), line(3, price=520.0)]), tmp_path / decoy)  # a violation
    p = run("check", name, "--contracts", NIPT, cwd=tmp_path)
    judged(p, "1 lines in 1 file(s)", "findings: 0")
    assert p.returncode == 0


def test_a_folder_name_with_glob_characters_is_read_literally(tmp_path):
    for folder, rows in (("batch[1]", [line(1)]), ("batch1", [line(2, price=520.0)])):
        (tmp_path / folder).mkdir()
        pq.write_table(table(rows), tmp_path / folder / "x.parquet")
    judged(run("check", "batch[1]", "--contracts", NIPT, cwd=tmp_path), "1 lines in 1 file(s)", "findings: 0")


def test_a_name_with_a_backslash_and_a_glob_character_is_refused_naming_it(tmp_path):
    """DuckDB reads such a path as a pattern however it is escaped: refused, never a neighbour read."""
    pq.write_table(table([line(1)]), tmp_path / "a\\[1].parquet")
    pq.write_table(table([line(2, price=520.0)]), tmp_path / "a1.parquet")
    refused(run("check", "a\\[1].parquet", cwd=tmp_path), "a\\[1].parquet", "backslash")


# --- partitions --------------------------------------------------------------------------------

def test_a_key_value_folder_above_the_named_folder_is_not_a_partition(tmp_path):
    """`mdtrtarea_admvs=999999` above the batch would move every line out of Jiangsu: no rule would
    apply and a violation would pass unseen."""
    batch = tmp_path / "mdtrtarea_admvs=999999" / "batch"
    part = batch / "fetts=1"
    part.mkdir(parents=True)
    pq.write_table(table([{k: v for k, v in line(1, price=520.0).items() if k != "fetts"}]), part / "x.parquet")
    p = run("check", batch, "--contracts", NIPT)
    judged(p, "JS-1-price")
    assert p.returncode == 1


def test_a_partition_folder_whose_value_holds_an_equals_sign(tmp_path):
    part = tmp_path / "b" / "gend=a=b"
    part.mkdir(parents=True)
    pq.write_table(table([{k: v for k, v in line(1, price=520.0).items() if k != "gend"}]), part / "x.parquet")
    judged(run("check", tmp_path / "b", "--contracts", NIPT), "JS-1-price")


# --- links ----------------------------------------------------------------------------------------

def test_a_linked_sub_folder_is_followed(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "elsewhere").mkdir()
    pq.write_table(table([line(1)]), tmp_path / "b" / "1.parquet")
    pq.write_table(table([line(2, price=520.0)]), tmp_path / "elsewhere" / "2.parquet")
    (tmp_path / "b" / "more").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    p = run("check", tmp_path / "b", "--contracts", NIPT)
    judged(p, "2 lines in 2 file(s)", "JS-1-price")
    assert p.returncode == 1


def test_a_link_looping_back_up_is_an_error_naming_it(tmp_path):
    (tmp_path / "b").mkdir()
    pq.write_table(table([line(1)]), tmp_path / "b" / "1.parquet")
    (tmp_path / "b" / "loop").symlink_to(tmp_path / "b", target_is_directory=True)
    refused(run("check", tmp_path / "b"), "loop", "already read")


# --- outputs never replace an input --------------------------------------------------------------

def test_an_output_onto_a_table_file_is_refused_and_the_table_kept(tmp_path, write):
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text("hilist_code,hilist_name\nC1,x\n", encoding="utf-8")
    before = snapshot(catalogue)
    p = run("check", write([line(1)]), "--table", f"sunshine_catalogue={catalogue}", "--json", catalogue)
    refused(p, "--json", "catalogue.csv", "--table sunshine_catalogue", "overwritten")
    assert snapshot(catalogue) == before


@pytest.mark.parametrize("option", ["--json", "--html", "--junit"])
def test_an_output_onto_a_contract_file_is_refused_and_the_contract_kept(contracts_copy, write, option):
    target = contracts_copy / "jiangsu-nipt" / "1.0.0.yaml"
    before = snapshot(contracts_copy)
    refused(run("check", write([line(1)]), "--contracts", contracts_copy, option, target), "contract", "overwritten")
    assert snapshot(contracts_copy) == before


def test_an_output_onto_a_default_contract_is_refused_without_contracts_option(contracts_copy, write):
    """The contracts read by default ($CLAIMCHECK_CONTRACTS here, a copy) are as protected."""
    target = contracts_copy / "jiangsu-nipt" / "attachment1.csv"
    before = snapshot(contracts_copy)
    env = dict(os.environ, CLAIMCHECK_CONTRACTS=str(contracts_copy))
    p = subprocess.run([EXE, "check", str(write([line(1)])), "--json", str(target)],
                       capture_output=True, text=True, timeout=120, env=env)
    refused(p, "contract", "overwritten")
    assert snapshot(contracts_copy) == before


def test_an_output_through_a_link_to_an_input_is_refused(tmp_path, write):
    claims = write([line(1)])
    (tmp_path / "alias.json").symlink_to(claims)
    before = snapshot(claims)
    refused(run("check", claims, "--json", tmp_path / "alias.json"), "claims are never overwritten")
    assert snapshot(claims) == before


def test_a_ledger_inside_the_claim_folder_is_refused(tmp_path):
    (tmp_path / "b").mkdir()
    pq.write_table(table([line(1)]), tmp_path / "b" / "1.parquet")
    refused(run("check", tmp_path / "b", "--history", tmp_path / "b" / "ledger.duckdb"), "--history", "claim folder")
    assert sorted(os.listdir(tmp_path / "b")) == ["1.parquet"]


# --- reserved column names -------------------------------------------------------------------------

@pytest.mark.parametrize("column", ["filename", "file_row_number", "FILE_INDEX"])
def test_a_column_named_as_the_readers_own_is_refused_naming_it(tmp_path, column):
    t = table([line(1), line(2)])
    t = t.append_column(column, pa.array([7, 8], pa.int64()) if "row" in column or "INDEX" in column
                        else pa.array(["a.parquet", "b.parquet"]))
    pq.write_table(t, tmp_path / "c.parquet")
    refused(run("check", tmp_path / "c.parquet"), "c.parquet", f"column {column}", "rename it")


# --- money that would overflow -----------------------------------------------------------------------

def test_amounts_whose_sum_overflows_are_refused_naming_column_and_row(tmp_path):
    big = 1.7e308  # each finite; two of them sum to infinity
    money = {c: pa.float64() for c in ("pric", "det_item_fee_sumamt", "inscp_scp_amt", "preselfpay_amt",
                                       "overlmt_amt", "fulamt_ownpay_amt")}
    path = tmp_path / "big.parquet"
    pq.write_table(table([line(1, price=big), line(2, price=big)], money), path)
    p = run("check", path, "--json", tmp_path / "r.json")
    refused(p, "big.parquet, column det_item_fee_sumamt, row 1", "at most 1e15", "1.7e+308")
    assert "inf" not in p.stdout.lower() and not (tmp_path / "r.json").exists()


# --- the environment ----------------------------------------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv to run as a user with no password entry")
def test_no_home_and_no_password_entry_still_checks():
    """A container's arbitrary user: no HOME, no entry in /etc/passwd. The cache is then off."""
    import tempfile

    as_nobody = ["setpriv", "--reuid", "54321", "--regid", "54321", "--clear-groups"]
    if subprocess.run([*as_nobody, EXE, "--version"], capture_output=True, timeout=60).returncode != 0:
        pytest.skip("claimcheck's installation is not readable by another user here")
    tmp_path = Path(tempfile.mkdtemp(prefix="claimcheck-nohome-"))  # pytest's folders are private to root
    try:
        tmp_path.chmod(0o777)
        path = tmp_path / "c.parquet"
        pq.write_table(table([line(1, price=520.0)]), path)
        path.chmod(0o644)
        env = {k: v for k, v in os.environ.items() if k not in ("HOME", "CLAIMCHECK_CACHE", "XDG_CACHE_HOME")}
        p = subprocess.run([*as_nobody, EXE, "check", str(path), "--contracts", str(NIPT)],
                           capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)
    judged(p, "JS-1-price")


def test_a_file_name_too_long_is_named(tmp_path, write):
    long = "长" * 100 + ".parquet"  # 300 bytes: past the 255 a name may have
    refused(run("check", tmp_path / long), "File name too long")
    refused(run("check", write([line(1)]), "--json", tmp_path / ("r" * 300 + ".json")), "r" * 50, "File name too long")


def test_a_path_too_long_is_named(tmp_path):
    deep = tmp_path.joinpath(*["d" * 200] * 25) / "x.parquet"  # 5,000 characters: past PATH_MAX
    refused(run("check", deep), "d" * 50)


# --- escaped names ----------------------------------------------------------------------------------

def test_control_and_bidi_characters_in_a_file_name_are_escaped_in_errors(tmp_path):
    name = "bad\x1b[31m\u202eteuqrap.parquet"
    (tmp_path / name).write_bytes(b"not parquet at all")
    p = run("check", tmp_path / name)
    refused(p, "bad\\x1b[31m\\u202eteuqrap.parquet")
    assert "\x1b" not in p.stderr and "\u202e" not in p.stderr


def test_a_line_break_in_a_file_name_stays_on_its_error_line(tmp_path):
    name = "two\nlines.parquet"
    (tmp_path / name).write_bytes(b"not parquet at all")
    p = run("check", tmp_path / name)
    refused(p, "two\\x0alines.parquet")
    assert all(line.startswith("error: ") for line in p.stderr.splitlines()), p.stderr


def test_control_characters_in_a_folder_name_are_escaped_in_errors(tmp_path):
    folder = tmp_path / "b\u2066x\x07"
    folder.mkdir()
    (folder / "x.parquet").write_bytes(b"PAR1 truncated")
    p = run("check", folder)
    refused(p, "b\\u2066x\\x07")
    assert "\x07" not in p.stderr and "\u2066" not in p.stderr


def test_report_refuses_a_json_holding_infinity(tmp_path, write):
    p = run("check", write([line(1, price=520.0)]), "--json", tmp_path / "r.json")
    assert p.returncode == 1, p.stderr
    text = (tmp_path / "r.json").read_text(encoding="utf-8")
    (tmp_path / "inf.json").write_text(text.replace('"lines": 1,', '"lines": Infinity,', 1), encoding="utf-8")
    assert "Infinity" in (tmp_path / "inf.json").read_text(encoding="utf-8")
    refused(run("report", tmp_path / "inf.json", "--html", tmp_path / "r.html"), "inf.json", "Infinity")
    assert not (tmp_path / "r.html").exists()
