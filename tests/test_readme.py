"""The README's examples are run, so the figures it quotes cannot drift.

Every ```console block is a session: `$ claimcheck …` lines are run from the repository root, the
lines after each are what it must print (stdout and stderr together), in order; a line `…` stands
for any number of lines left out, `…` inside a line for any text, and `[exit N]` is the exit code.
The README's column map must load, and every key of its JSON example must be a key of a real report.
"""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXE = Path(sys.executable).parent / "claimcheck"


def sessions() -> list[tuple[str, list[str], int | None]]:
    out = []
    for block in re.findall(r"```console\n(.*?)```", README, flags=re.S):
        cmd, expected, code = None, [], None
        for line in block.splitlines():
            if line.startswith("$ "):
                if cmd:
                    out.append((cmd, expected, code))
                cmd, expected, code = line[2:], [], None
            elif (m := re.fullmatch(r"\[exit (\d+)\]", line.strip())):
                code = int(m.group(1))
            else:
                expected.append(line.rstrip())
        if cmd:
            out.append((cmd, expected, code))
    return out


def matches(expected: list[str], actual: list[str]) -> str | None:
    """None when `actual` shows `expected` (with … gaps); else what is missing."""
    i, gap = 0, False
    for line in expected:
        if line.strip() == "…":
            gap = True
            continue
        rx = re.compile(".*".join(re.escape(part) for part in line.split("…")) + r"\s*")
        while i < len(actual) and not rx.fullmatch(actual[i].rstrip()):
            if not gap:
                return f"expected {line!r} at output line {i + 1}, got {actual[i]!r}"
            i += 1
        if i == len(actual):
            return f"expected {line!r}, not in the output"
        i, gap = i + 1, False
    return None


SESSIONS = sessions()


def test_the_readme_has_examples_to_run():
    assert len(SESSIONS) >= 4 and all(cmd.startswith("claimcheck ") for cmd, _, _ in SESSIONS)


@pytest.mark.parametrize("cmd,expected,code", SESSIONS, ids=[c[:60] for c, _, _ in SESSIONS])
def test_a_readme_command_prints_what_the_readme_says(cmd, expected, code):
    args = shlex.split(cmd)
    p = subprocess.run([str(EXE), *args[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300)
    actual = (p.stdout + p.stderr).splitlines()
    problem = matches(expected, actual)
    assert problem is None, problem + "\n--- output ---\n" + "\n".join(actual)
    if code is not None:
        assert p.returncode == code, p.stdout + p.stderr


def test_the_column_map_shown_loads(tmp_path):
    from checks.claims.columns import load_column_map

    block = re.search(r"```yaml\n(mdtrt_id: 就诊ID.*?)```", README, flags=re.S).group(1)
    (tmp_path / "map.yaml").write_text(block, encoding="utf-8")
    cmap = load_column_map(tmp_path / "map.yaml")
    assert cmap["fixmedins_name"] == ["机构名称", "HOSP_NAME"]


def keys_of(value, out=None) -> set[str]:
    out = set() if out is None else out
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            keys_of(v, out)
    elif isinstance(value, list):
        for v in value:
            keys_of(v, out)
    return out


def test_every_key_of_the_json_example_is_in_a_real_report(tmp_path):
    out = tmp_path / "r.json"
    subprocess.run([str(EXE), "check", "sample_claims/jiangsu-nipt-1.0.0.parquet", "--contracts",
                    "contracts/jiangsu-nipt", "--json", out, "-q"], cwd=ROOT, timeout=300)
    real = keys_of(json.loads(out.read_text(encoding="utf-8"))) | {"columns", "waiver"}
    block = re.search(r"## The JSON report.*?```json\n(.*?)```", README, flags=re.S).group(1)
    shown = set(re.findall(r'"(\w+)":', block))
    assert shown <= real, sorted(shown - real)
