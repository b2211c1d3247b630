"""Every way a claim batch from elsewhere broke claimcheck, as a user meets it on the command line.

Each case: the exit code says what happened (2: nothing judged), the message names the file (and
column, row or folder), there is no traceback, and the claim files are byte-identical afterwards.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import line, table

EXE = str(Path(sys.executable).parent / "claimcheck")


def run(*args, cwd=None):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120)


def snapshot(*paths):
    out = {}
    for p in paths:
        p = Path(p)
        for f in ([p] if p.is_file() else sorted(x for x in p.rglob("*") if x.is_file())):
            out[f] = f.read_bytes()
    return out


def refused(p, *names):
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stderr + p.stdout and "internal error" not in p.stderr, p.stderr
    for n in names:
        assert str(n) in p.stderr, (n, p.stderr)


# --- data loss -------------------------------------------------------------------------------

@pytest.mark.parametrize("option", ["--json", "--findings", "--html", "--sarif", "--junit", "--nhsa-json"])
def test_an_output_on_an_input_file_is_refused_before_reading(write, option):
    path = write([line(1, price=520.0)])
    before = snapshot(path)
    p = run("check", path, option, path)
    refused(p, path, "claims are never overwritten")
    assert snapshot(path) == before


def test_a_parquet_output_inside_the_claim_folder_is_refused(tmp_path, write):
    write([line(1)], "batch/a.parquet")
    p = run("check", tmp_path / "batch", "--findings", tmp_path / "batch" / "findings.parquet")
    refused(p, "would be read as claims")


def test_two_reports_to_one_file_are_refused(write, tmp_path):
    p = run("check", write([line(1)]), "--json", tmp_path / "r", "--sarif", tmp_path / "r")
    refused(p, "give each report its own file")


def test_an_output_folder_that_does_not_exist_is_refused_before_the_check(write, tmp_path):
    p = run("check", write([line(1)]), "--json", tmp_path / "no" / "r.json")
    refused(p, "does not exist")


def deny(monkeypatch, path: Path, mode: int) -> None:
    """Take permissions away from `path`. chmod does not stop root (CI runs as root), so then the
    calls claimcheck makes are refused for that path, as the kernel would refuse them."""
    path.chmod(mode)
    if os.geteuid() != 0:
        return
    real_access, real_scandir, real_open = os.access, os.scandir, os.open

    def access(p, m, *a, **k):
        return False if Path(p) == path else real_access(p, m, *a, **k)

    def scandir(p="."):
        if Path(p) == path:
            raise PermissionError(13, "Permission denied", str(p))
        return real_scandir(p)

    def open_(p, flags, *a, **k):
        if Path(p) == path:
            raise PermissionError(13, "Permission denied", str(p))
        return real_open(p, flags, *a, **k)
    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "open", open_)


def run_here(*args):
    """The CLI in this process (so deny() applies), as click runs it."""
    from click.testing import CliRunner

    from checks.cli import main
    r = CliRunner().invoke(main, [str(a) for a in args])
    return subprocess.CompletedProcess(args, r.exit_code, r.stdout, r.stderr)


def test_an_output_folder_that_is_not_writable_is_refused_before_the_check(write, tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    deny(monkeypatch, ro, 0o555)
    refused(run_here("check", write([line(1)]), "--json", ro / "r.json"), "not writable")


@pytest.mark.parametrize("name,content", [("old.parquet", None), ("x.csv", b"a,b\n1,2\n"), ("x.json", b"{}")])
def test_a_history_path_that_is_not_a_ledger_is_refused_and_kept(write, tmp_path, name, content):
    target = tmp_path / name
    if content is None:
        pq.write_table(table([line(9)]), target)
    else:
        target.write_bytes(content)
    before = target.read_bytes()
    p = run("check", write([line(1)]), "--history", target)
    refused(p, name, "not a claimcheck ledger")
    assert target.read_bytes() == before


def test_a_json_report_to_stdout_is_the_only_thing_on_stdout(write):
    p = run("check", write([line(1, price=520.0)]), "--json", "-")
    assert p.returncode == 1
    report = json.loads(p.stdout)
    assert report["summary"]["findings"] == 1 and "claimcheck:" in p.stderr


# --- partitions, extensions, permissions -------------------------------------------------------

def test_a_partition_folder_clashing_with_a_data_column_is_an_error_naming_both(tmp_path):
    part = tmp_path / "b" / "mdtrtarea_admvs=999999"
    part.mkdir(parents=True)
    pq.write_table(table([line(1)]), part / "x.parquet")
    p = run("check", tmp_path / "b")
    refused(p, "partition folder mdtrtarea_admvs", "column mdtrtarea_admvs", "mdtrtarea_admvs=999999")


def test_a_partition_value_is_validated_like_data(tmp_path):
    part = tmp_path / "b" / "mdtrtarea_admvs=9999"
    part.mkdir(parents=True)
    pq.write_table(table([{k: v for k, v in line(1).items() if k != "mdtrtarea_admvs"}]), part / "x.parquet")
    p = run("check", tmp_path / "b")
    refused(p, "x.parquet", "mdtrtarea_admvs", "must match", "'9999'")


def test_a_partition_value_that_is_not_a_number_names_the_folder(tmp_path):
    part = tmp_path / "b" / "cnt=notanumber"
    part.mkdir(parents=True)
    pq.write_table(table([{k: v for k, v in line(1).items() if k != "cnt"}]), part / "x.parquet")
    p = run("check", tmp_path / "b")
    refused(p, "cnt", "'notanumber'", "must read as double")


def test_upper_case_extension_is_read(tmp_path):
    (tmp_path / "b").mkdir()
    pq.write_table(table([line(1, price=520.0)]), tmp_path / "b" / "B.PARQUET")
    p = run("check", tmp_path / "b", "--contracts", "contracts/jiangsu-nipt", cwd=Path(__file__).parents[1])
    assert p.returncode == 1 and "JS-1-price" in p.stdout and "1 file(s)" in p.stdout


def test_an_unreadable_file_in_a_folder_is_an_error_not_a_skip(tmp_path, monkeypatch):
    b = tmp_path / "b"
    b.mkdir()
    for n in (1, 2):
        pq.write_table(table([line(n)]), b / f"{n}.parquet")
    deny(monkeypatch, b / "2.parquet", 0o000)
    refused(run_here("check", b), "2.parquet", "cannot be read")


def test_an_unreadable_sub_folder_is_an_error_not_a_skip(tmp_path, monkeypatch):
    b = tmp_path / "b"
    (b / "sub").mkdir(parents=True)
    pq.write_table(table([line(1)]), b / "1.parquet")
    pq.write_table(table([line(2)]), b / "sub" / "2.parquet")
    deny(monkeypatch, b / "sub", 0o000)
    refused(run_here("check", b), "sub", "cannot be read")


def test_a_broken_link_named_parquet_is_an_error(tmp_path):
    b = tmp_path / "b"
    b.mkdir()
    pq.write_table(table([line(1)]), b / "1.parquet")
    (b / "2.parquet").symlink_to(tmp_path / "gone.parquet")
    refused(run("check", b), "2.parquet", "cannot be read")


# --- values ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value,shown", [(float("nan"), "NaN"), (float("inf"), "inf"), (float("-inf"), "-inf")])
def test_non_finite_money_in_an_optional_column_is_an_error_naming_the_row(write, value, shown):
    rows = [line(1), line(2, inscp_scp_amt=value)]
    path = write(rows, types={"inscp_scp_amt": pa.float64()})
    p = run("check", path)
    refused(p, path, "column inscp_scp_amt, row 2", "finite", shown)


def test_an_all_null_optional_column_counts_as_absent(write):
    from conftest import diagnosis
    nantong = dict(mdtrtarea_admvs="320602", fixmedins_name="海安市人民医院", price=54.0)
    rows = [diagnosis(1, price_class=None, **nantong), diagnosis(2, price_class=None, **nantong)]
    path = write(rows, types={"price_class": pa.null()})
    p = run("check", path, "--contracts", "contracts/jiangsu-nipt", cwd=Path(__file__).parents[1])
    assert p.returncode == 3, p.stderr
    assert "JS-4-NT@1.1.0 could not run" in p.stdout, p.stdout
    assert "price_class (医疗机构价格类别（三类/二类/一类/基层）) is empty (null) on every line" in p.stdout


def test_keys_that_differ_only_by_surrounding_spaces_are_duplicates(write):
    path = write([line(1), line(1, mdtrt_id="M00001  ")])
    p = run("check", path)
    refused(p, path, "must be unique", "'M00001'")


def test_a_duplicate_column_is_an_error(tmp_path):
    t = table([line(1)])
    t = pa.Table.from_arrays(t.columns + [t.column("cnt")], names=t.column_names + ["cnt"])
    path = tmp_path / "dup.parquet"
    pq.write_table(t, path)
    refused(run("check", path), path, "'cnt' and 'cnt'")


def test_a_corrupt_page_names_the_file(tmp_path):
    path = tmp_path / "corrupt.parquet"
    pq.write_table(table([line(n) for n in range(1, 400)]), path, compression="zstd")
    data = bytearray(path.read_bytes())
    for i in range(200, 600):  # inside the first column chunk's pages, past the magic bytes
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    refused(run("check", path), path)


# --- text that would reach a terminal or an XML file -------------------------------------------

NASTY = "某医院\x1b[31m红色\u202e反转\x00空字节\x07"


def test_control_and_bidi_characters_never_reach_the_terminal(write, tmp_path):
    path = write([line(1, fixmedins_name=NASTY, hilist_code="CJ30303033341300103001", price=520.0),
                  line(2, mdtrt_id="M\x1b]0;title\x07", price=520.0)])
    p = run("check", path, "--github", "--junit", tmp_path / "j.xml", "--sarif", tmp_path / "s.sarif",
            "--nhsa-json", tmp_path / "n.json", "--json", tmp_path / "r.json", "--html", tmp_path / "r.html")
    assert p.returncode in (1, 3), p.stderr
    for ch in ("\x1b", "\u202e", "\x00", "\x07"):
        assert ch not in p.stdout and ch not in p.stderr
    assert "\\x1b[31m" in p.stdout and "\\u202e" in p.stdout
    import xml.etree.ElementTree as ET
    ET.parse(tmp_path / "j.xml")  # well-formed whatever the claims hold
    for name in ("s.sarif", "n.json", "r.json"):
        json.loads((tmp_path / name).read_text(encoding="utf-8"))
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "\x1b" not in html.split("<script", 1)[0]
