"""Contracts, waivers and maps written carelessly or with malice: always a located error, fast.

Each case: exit 2, no traceback, the message names the file (and line:column where there is
one), and nothing hangs or eats memory."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import line

EXE = str(Path(sys.executable).parent / "claimcheck")


def run(*args, timeout=60):
    t0 = time.monotonic()
    p = subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    p.seconds = time.monotonic() - t0
    return p


def refused(p, *names):
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
    for n in names:
        assert str(n) in p.stderr, (n, p.stderr)


def nipt(contracts_copy) -> Path:
    return contracts_copy / "jiangsu-nipt" / "1.0.0.yaml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


BILLION_LAUGHS = """contract: x
version: 1.0.0
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_a_billion_laughs_contract_is_refused_quickly(tmp_path, write):
    d = tmp_path / "c" / "x"
    d.mkdir(parents=True)
    (d / "1.0.0.yaml").write_text(BILLION_LAUGHS, encoding="utf-8")
    p = run("check", write([line()]), "--contracts", tmp_path / "c")
    refused(p, "1.0.0.yaml", "expands to more than")
    assert p.seconds < 20


def test_a_table_file_outside_the_contract_folder_is_refused(contracts_copy, write):
    edit(nipt(contracts_copy), "file: attachment3.csv", "file: ../../../../../../etc/passwd")
    p = run("check", write([line()]), "--contracts", contracts_copy)
    refused(p, "1.0.0.yaml:", "lies outside the contract's folder")
    assert "root:" not in p.stderr


def test_a_fifo_named_like_a_contract_does_not_hang(tmp_path, write):
    d = tmp_path / "c" / "x"
    d.mkdir(parents=True)
    os.mkfifo(d / "1.0.0.yaml")
    p = run("check", write([line()]), "--contracts", tmp_path / "c", timeout=30)
    refused(p, "1.0.0.yaml", "not a regular file")


def test_waivers_from_dev_zero_are_refused(write):
    refused(run("check", write([line()]), "--waivers", "/dev/zero", timeout=30), "/dev/zero", "not a regular file")


def test_a_huge_waiver_file_is_refused(tmp_path, write):
    big = tmp_path / "w.yaml"
    with big.open("wb") as fh:
        fh.truncate(64 << 20)
    refused(run("check", write([line()]), "--waivers", big), "w.yaml", "at most")


@pytest.mark.parametrize("value", ["2025-02-30", "'2025-02-30'"])
def test_a_date_that_does_not_exist_in_a_contract_is_located(contracts_copy, write, value):
    edit(nipt(contracts_copy), "effective_from: 2025-01-01", f"effective_from: {value}")
    refused(run("check", write([line()]), "--contracts", contracts_copy), "1.0.0.yaml:10:", "2025-02-30")


def test_a_date_that_does_not_exist_in_a_waiver_is_located(tmp_path, write):
    w = tmp_path / "w.yaml"
    w.write_text("waivers:\n  - {id: W1, rule: JS-5, reason: r, owner: o, expires: '2025-02-30'}\n", encoding="utf-8")
    refused(run("check", write([line()]), "--waivers", w), "w.yaml:2:", "2025-02-30")


def test_nan_as_a_ratio_is_located(contracts_copy, write):
    edit(nipt(contracts_copy), "params: {ratio: 0.10, mode: at_most}", "params: {ratio: .nan, mode: at_most}")
    refused(run("check", write([line()]), "--contracts", contracts_copy), "1.0.0.yaml:", "not a finite number")


def test_three_thousand_nested_parentheses_in_a_condition_are_located(contracts_copy, write):
    edit(nipt(contracts_copy), "when: price_class IN ('一类', '基层')",
         "when: " + "(" * 3000 + "price_class IN ('一类', '基层')" + ")" * 3000)
    p = run("check", write([line()]), "--contracts", contracts_copy)
    refused(p, "1.0.0.yaml:", "nests parentheses at most 64 deep")


def test_yaml_nested_deeper_than_the_limit_is_located(tmp_path, write):
    d = tmp_path / "c" / "x"
    d.mkdir(parents=True)
    (d / "1.0.0.yaml").write_text("a: " + "[" * 200 + "]" * 200 + "\n", encoding="utf-8")
    refused(run("check", write([line()]), "--contracts", tmp_path / "c"), "1.0.0.yaml")


def test_a_reference_table_with_nan_names_the_row(contracts_copy, write):
    path = contracts_copy / "jiangsu-nipt" / "attachment3.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",370,", ",nan,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    refused(run("check", write([line()]), "--contracts", contracts_copy), "attachment3.csv", "row 1",
            "not a finite number")


def test_a_column_map_that_is_not_a_mapping(tmp_path, write):
    m = tmp_path / "m.yaml"
    m.write_text("- mdtrt_id\n", encoding="utf-8")
    refused(run("check", write([line()]), "--columns", m), "m.yaml", "a column map is a mapping")


def test_memory_limit_that_is_not_a_size(write):
    refused(run("check", write([line()]), "--memory-limit", "lots"), "--memory-limit", "512MB")


def test_a_memory_limit_too_small_for_the_batch_says_so_and_how_to_go_on():
    sample = Path(__file__).resolve().parents[1] / "sample_claims" / "jiangsu-nipt-1.0.0.parquet"
    refused(run("check", sample, "--memory-limit", "4MB", "--no-cache"),
            "3,000 lines needs more memory than --memory-limit 4MB allows", "give it more with --memory-limit")
