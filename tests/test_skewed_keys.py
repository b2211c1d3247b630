"""A count's key that cannot be paired line by line: a placeholder person id (`未知`, `0`) on
hundreds of NIPT lines whose pregnancy number (fetts) is empty, as extracts write them.

JS-7's fallback pairs the lines of one psn_no within 210 days when fetts is empty; pairing costs
the square of a key's lines, and a key with more lines than one person can have
(kinds/frequency.py PAIRABLE) is one data-quality finding naming the key and its line count,
not hundreds of suspect second payments and not a hang. Keys of ordinary size are paired as
before, in the same batch.
"""
from __future__ import annotations

import datetime as dt

from checks import check
from checks.kinds.frequency import PAIRABLE
from conftest import line


def placeholder_lines(psn: str, n: int, first: int) -> list[dict]:
    """`n` detections of psn_no `psn`, fetts empty, a day apart, each in its own visit."""
    return [line(first + k, psn_no=psn, fetts=None, fee_ocur_time=dt.datetime(2025, 1, 2, 9) + dt.timedelta(days=k % 300))
            for k in range(n)]


def js7(report):
    return [f for f in report.findings if f.rule_id == "JS-7-detection"]


def test_a_placeholder_person_with_more_lines_than_can_be_paired_is_one_data_quality_finding(write):
    rows = placeholder_lines("未知", PAIRABLE + 40, 1000)
    rows += [line(1, fetts=None), line(2, psn_no="P00001", fetts=None, fee_ocur_time=dt.datetime(2025, 5, 1))]
    found = js7(check([str(write(rows))]))
    dq = [f for f in found if f.severity == "data_quality"]
    assert len(dq) == 1
    assert "psn_no 未知" in dq[0].message and f"{PAIRABLE + 40} 行" in dq[0].message
    assert dq[0].amount == 0 and dq[0].mdtrt_id == "M01000"  # the key's first line
    # the ordinary person is still paired: her second payment within 210 days is a suspect
    assert [(f.severity, f.mdtrt_id) for f in found if f.severity != "data_quality"] == [("suspect", "M00002")]


def test_a_key_with_as_many_lines_as_can_be_paired_is_paired_line_by_line(write):
    rows = placeholder_lines("P12345", PAIRABLE, 1000)
    found = js7(check([str(write(rows))]))
    assert not [f for f in found if f.severity == "data_quality"]
    assert len(found) == PAIRABLE - 1  # every line after the first is a second payment within 210 days
    assert {f.severity for f in found} == {"suspect"}
