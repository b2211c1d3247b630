"""The machine and the user turned hostile: a full disk, a read-only folder, standard output that
cannot be written, Ctrl-C, SIGTERM, a poisoned cache, a damaged ledger, a locale that is not UTF-8.

Each case: a clear message naming the path or option (exit 2), or 130 after Ctrl-C and 143 after
SIGTERM; no traceback, no internal error; temporary files removed; the ledger left as it was.
Full-disk cases mount a small tmpfs (root only; skipped otherwise, saying why).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import ROOT, line, table
from test_history import _start, _wait_for_pause, ledger_state
from test_hostile_inputs import EXE, refused, run

NIPT = ROOT / "contracts" / "jiangsu-nipt"


def _mount(where: Path, options: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    where.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({p.stderr.strip()})")


def _fill(folder: Path) -> None:
    """Take every free byte of the file system of `folder`."""
    fd = os.open(folder / "pad", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB file system; fill it with _fill()."""
    mnt = tmp_path / "disk"
    _mount(mnt, "size=4m")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.fixture
def read_only_folder(tmp_path):
    mnt = tmp_path / "ro"
    _mount(mnt, "ro,size=1m")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith((".claimcheck-", "claimcheck-"))
                  or p.suffix == ".tmp")


# --- disks and streams ----------------------------------------------------------------------------

@pytest.mark.parametrize("option,name", [("--html", "r.html"), ("--json", "r.json"), ("--sarif", "r.sarif")])
def test_a_report_to_a_full_disk_names_the_report(small_disk, write, option, name):
    _fill(small_disk)
    p = run("check", write([line(n, price=520.0) for n in range(1, 200)]), option, small_disk / name)
    refused(p, f"{name}: No space left on device")
    assert not (small_disk / name).exists() and leftovers(small_disk) == []


def test_a_new_ledger_on_a_full_disk_names_the_ledger(small_disk, write):
    _fill(small_disk)
    p = run("check", write([line(1)]), "--history", small_disk / "ledger.duckdb")
    refused(p, "ledger.duckdb")
    assert "could not be read" not in p.stderr  # the claims are not at fault


def test_recording_into_a_ledger_on_a_disk_gone_full_leaves_it_as_it_was(small_disk, write):
    ledger = small_disk / "ledger.duckdb"
    first = run("check", write([line(1)], "a.parquet"), "--history", ledger, "--contracts", NIPT)
    assert first.returncode == 0, first.stderr
    before = ledger_state(ledger)
    _fill(small_disk)
    p = run("check", write([line(n) for n in range(2, 3000)], "b.parquet"), "--history", ledger, "--contracts", NIPT)
    refused(p, "ledger.duckdb")
    assert "rollback" not in p.stderr.lower() and "b.parquet" not in p.stderr
    (small_disk / "pad").unlink()
    assert ledger_state(ledger) == before


def test_a_read_only_temp_dir_is_named(read_only_folder, write):
    p = run("check", write([line(1)]), "--temp-dir", read_only_folder)
    refused(p, f"--temp-dir {read_only_folder}: folder is not writable")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("args", [[], ["--json", "-"]])
def test_standard_output_that_cannot_be_written_is_named(write, args):
    with open("/dev/full", "w") as full:
        p = subprocess.run([EXE, "check", str(write([line(1, price=520.0)])), *args], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip() == "error: standard output: No space left on device", p.stderr


# --- signals -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sig,code,word", [(signal.SIGINT, 130, "interrupted (Ctrl-C)"),
                                           (signal.SIGTERM, 143, "terminated (SIGTERM)")])
def test_a_signal_stops_the_check_removes_its_temporary_files_and_keeps_the_ledger(write, tmp_path, sig, code,
                                                                                     word):
    ledger, spill = tmp_path / "ledger.duckdb", tmp_path / "spill"
    spill.mkdir()
    first = run("check", write([line(1)], "a.parquet"), "--history", ledger, "--contracts", NIPT)
    assert first.returncode == 0, first.stderr
    before = ledger_state(ledger)
    proc = _start(["check", write([line(n) for n in range(2, 300)], "b.parquet"), "--history", ledger,
                   "--temp-dir", spill, "--json", tmp_path / "r.json"], pause=60)
    _wait_for_pause(proc)
    assert os.listdir(spill)  # the check's own temporary folder is there while it runs
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == code
    err = proc.stderr.read()
    assert word in err and "Traceback" not in err and "Aborted" not in err, err
    assert os.listdir(spill) == [] and leftovers(tmp_path) == [] and not (tmp_path / "r.json").exists()
    assert ledger_state(ledger) == before


# --- the cache ---------------------------------------------------------------------------------------

def test_cache_entries_that_are_links_to_dev_zero_or_pipes_are_not_read(tmp_path, write):
    cache = tmp_path / "cache"
    env = dict(os.environ, CLAIMCHECK_CACHE=str(cache))
    claims = write([line(1, price=520.0)])
    args = [EXE, "check", str(claims), "--contracts", str(NIPT)]
    first = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    entries = sorted(cache.rglob("*.json"))
    assert first.returncode == 1 and entries, first.stderr
    for i, entry in enumerate(entries):
        entry.unlink()
        if i % 2:
            os.mkfifo(entry)
        else:
            entry.symlink_to("/dev/zero")
    again = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)  # a hang fails here
    assert again.returncode == 1 and again.stdout == first.stdout, again.stderr


def test_a_cache_entry_that_cannot_be_written_leaves_no_partial_file(small_disk):
    from checks.engine.cache import SurveyCache

    cache = SurveyCache(small_disk)
    cache.put("ab" + "0" * 62, {"ok": True})  # the folder is made while there is room
    _fill(small_disk)
    cache.put("ab" + "1" * 62, {"values": "x" * 100_000})
    assert leftovers(small_disk) == [] and cache.get("ab" + "1" * 62) == {}
    assert cache.get("ab" + "0" * 62) == {"ok": True}


# --- the ledger ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("wait", ["nan", "inf", "-1"])
def test_history_wait_must_be_a_number_of_seconds(write, tmp_path, wait):
    refused(run("check", write([line(1)]), "--history", tmp_path / "l.duckdb", "--history-wait", wait),
            f"--history-wait {wait}")
    assert not (tmp_path / "l.duckdb").exists()


def test_a_truncated_ledger_is_blamed_on_the_ledger_not_the_claims(write, tmp_path):
    ledger = tmp_path / "ledger.duckdb"
    claims = write([line(n) for n in range(1, 50)])
    assert run("check", claims, "--history", ledger, "--contracts", NIPT).returncode == 0
    data = ledger.read_bytes()
    for size in (len(data) * 7 // 8, len(data) * 3 // 4, len(data) // 2, len(data) // 4, 20_000):
        ledger.write_bytes(data[:size])
        p = run("check", claims, "--history", ledger, "--contracts", NIPT)
        refused(p, "ledger.duckdb")
        assert "claims.parquet" not in p.stderr and "could not be read" not in p.stderr, p.stderr


def test_history_show_escapes_control_and_bidi_characters(tmp_path):
    ledger = tmp_path / "ledger.duckdb"
    name = "a\x1b[2J\u202eb.parquet"
    pq.write_table(table([line(1)]), tmp_path / name)
    assert run("check", tmp_path / name, "--history", ledger, "--contracts", NIPT).returncode == 0
    p = run("history", "show", "--psn", "P00001", "--ledger", ledger)
    assert p.returncode == 0, p.stderr
    assert "a\\x1b[2J\\u202eb.parquet" in p.stdout and "\x1b" not in p.stdout and "\u202e" not in p.stdout


# --- contracts and names ------------------------------------------------------------------------------

def test_an_identifier_with_a_trailing_newline_is_refused_at_its_line(contracts_copy, write):
    path = contracts_copy / "jiangsu-nipt" / "1.0.0.yaml"
    text = path.read_text(encoding="utf-8")
    assert "  - id: JS-1-price\n" in text
    at = text[:text.index("  - id: JS-1-price\n")].count("\n") + 1  # the line of the id
    path.write_text(text.replace("  - id: JS-1-price\n", '  - id: "JS-1-price\\n"\n', 1), encoding="utf-8")
    refused(run("check", write([line(1)]), "--contracts", contracts_copy), f"1.0.0.yaml:{at}:", "does not match")


def test_an_address_with_a_trailing_newline_is_not_a_rule_address():
    from checks.contract.lookup import _ADDRESS

    assert _ADDRESS.match("jiangsu-nipt/JS-1-price@1.0.0")
    assert _ADDRESS.match("JS-1-price\n") is None


def test_a_name_table_of_three_thousand_patterns_is_matched_not_refused():
    """RE2 refuses one expression of them all ('pattern too large'), which surfaced as an error
    of the claims; the patterns are split across expressions instead."""
    import duckdb

    from checks.claims.normal import name_like

    patterns = [f"%无创产前基因检测服务第{i}号某某医院附属%" for i in range(3000)]
    con = duckdb.connect()
    sql = name_like("n", patterns)
    got = con.execute(f"SELECT n, {sql} FROM (VALUES ('无创产前基因检测服务第2999号某某医院附属（南京）'), "
                      "('无创产前基因检测服务 第 12 号某某医院附属'), ('别的服务')) t(n) ORDER BY n").fetchall()
    assert dict(got) == {"无创产前基因检测服务第2999号某某医院附属（南京）": True,
                         "无创产前基因检测服务 第 12 号某某医院附属": True, "别的服务": False}


@pytest.fixture(scope="session")
def gb18030_locale(tmp_path_factory):
    """zh_CN.GB18030 compiled into a private LOCPATH (no system change)."""
    if not shutil.which("localedef"):
        pytest.skip("localedef is not installed")
    where = tmp_path_factory.mktemp("locales")
    p = subprocess.run(["localedef", "-f", "GB18030", "-i", "zh_CN", str(where / "zh_CN.GB18030")],
                       capture_output=True, text=True)
    if not (where / "zh_CN.GB18030").is_dir():
        pytest.skip(f"cannot compile the zh_CN.GB18030 locale here ({p.stderr.strip()[:200]})")
    return {"LOCPATH": str(where), "LC_ALL": "zh_CN.GB18030", "LANG": "zh_CN.GB18030"}


def test_chinese_paths_are_read_under_a_gb18030_locale(tmp_path, gb18030_locale):
    folder = tmp_path / "江苏批次"
    folder.mkdir()
    pq.write_table(table([line(1, price=520.0)]), folder / "理赔明细.parquet")
    env = dict(os.environ, **gb18030_locale)
    probe = subprocess.run([str(Path(EXE).parent / "python"), "-c", "import sys; print(sys.getfilesystemencoding())"],
                           capture_output=True, text=True, env=env)
    assert probe.stdout.strip() == "gb18030"  # the names reach Python decoded as GB18030
    p = subprocess.run([EXE, "check", "江苏批次", "--contracts", str(NIPT), "--json", "报告.json",
                        "--history", "账本.duckdb", "--findings", "发现.parquet"],
                       capture_output=True, env=env, cwd=tmp_path, timeout=120)
    assert p.returncode == 1, p.stderr.decode("gb18030", "replace")
    report = json.loads((tmp_path / "报告.json").read_text(encoding="utf-8"))
    assert report["inputs"][0]["file"] == "江苏批次/理赔明细.parquet"
    assert pq.read_table(tmp_path / "发现.parquet").num_rows == 1 and (tmp_path / "账本.duckdb").exists()
