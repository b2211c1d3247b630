"""Waivers: accepted findings are counted apart and do not fail the run; expired ones say so."""
from __future__ import annotations

import json
import textwrap

from conftest import line

FUTURE, PAST = "2999-12-31", "2020-01-01"


def waivers(tmp_path, body):
    p = tmp_path / "waivers.yaml"
    p.write_text(textwrap.dedent(body), encoding="utf-8")
    return p


def test_a_waived_violation_does_not_fail_the_run(write, tmp_path, run_cli):
    claims = write([line(1, price=520.0)])
    assert run_cli("check", claims).returncode == 1
    w = waivers(tmp_path, f"""
        waivers:
          - id: W-1
            rule: JS-1-price
            match: {{mdtrt_id: M00001}}
            reason: 经医保局书面同意的临时价格
            owner: 医保办 张三
            expires: {FUTURE}
        """)
    p = run_cli("check", claims, "--waivers", w, "--json", tmp_path / "r.json")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "waived: 1 findings (20.00) by 1 active waiver(s)" in p.stdout
    r = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert r["violations"] == [] and r["waived"][0]["waiver"]["id"] == "W-1"
    assert r["summary"]["waived"] == 1 and r["summary"]["findings"] == 0
    rule = next(x for x in r["rules"] if x["rule_id"] == "JS-1-price")
    assert (rule["status"], rule["findings"], rule["waived"]) == ("waived", 0, 1)


def test_a_condition_waives_only_what_it_says(write, tmp_path, run_cli):
    claims = write([line(1, price=510.0), line(2, price=560.0)])
    w = waivers(tmp_path, f"""
        waivers:
          - {{id: W-2, rule: JS-1-price, when: "amount <= 10", reason: 尾差, owner: 财务科, expires: {FUTURE}}}
        """)
    p = run_cli("check", claims, "--waivers", w, "--json", tmp_path / "r.json")
    r = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert p.returncode == 1
    assert [v["mdtrt_id"] for v in r["violations"]] == ["M00002"] and [v["mdtrt_id"] for v in r["waived"]] == ["M00001"]


def test_an_expired_waiver_no_longer_applies_and_says_so(write, tmp_path, run_cli):
    claims = write([line(1, price=520.0)])
    w = waivers(tmp_path, f"""
        waivers:
          - {{id: W-OLD, rule: JS-1-price, match: {{mdtrt_id: M00001}}, reason: 旧批复, owner: 医保办, expires: {PAST}}}
        """)
    p = run_cli("check", claims, "--waivers", w)
    assert p.returncode == 1
    assert "waiver W-OLD (JS-1-price, 医保办) expired on 2020-01-01: no longer applies to its 1 finding(s)" in p.stdout


def test_a_broken_waiver_file_names_the_line(write, tmp_path, run_cli):
    claims = write([line(1)])
    w = waivers(tmp_path, """
        waivers:
          - id: W-3
            rule: JS-1-price
            when: amout > 1
            reason: x
            owner: y
            expires: 2030-01-01
        """)
    p = run_cli("check", claims, "--waivers", w)
    assert p.returncode == 2 and "waivers.yaml:5:" in p.stderr and "unknown column 'amout'" in p.stderr
    w = waivers(tmp_path, "waivers:\n  - {id: W-4, rule: JS-1-price, reason: x, owner: y}\n")
    p = run_cli("check", claims, "--waivers", w)
    assert p.returncode == 2 and "'expires' is a required property" in p.stderr
