"""The service and `claimcheck check` give the same verdicts on the same message: every golden
batch, written as a national request, through POST /3102 and through the command line."""
from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from serve_kit import EXE, ROOT, batch_as_message, post, serving

GOLDEN = sorted((ROOT / "sample_claims").glob("*.parquet"))
FOUND: dict[str, int] = {}  # batch -> results answered (some rules need columns a message cannot carry)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving("--max-body", str(50 * 1024 * 1024), "--timeout", "600",
                 log=tmp_path_factory.mktemp("parity") / "log") as s:
        yield s


@pytest.mark.parametrize("batch", GOLDEN, ids=lambda p: p.stem)
def test_the_service_answers_what_check_answers_on_the_same_message(server, batch, tmp_path):
    msg = batch_as_message(batch)
    request = tmp_path / "request.json"
    request.write_text(json.dumps(msg, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "answer.json"
    cli = subprocess.run([EXE, "check", str(request), "--nhsa-json", str(out), "-q"], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert cli.returncode in (0, 1, 3), cli.stderr
    by_cli = json.loads(out.read_text(encoding="utf-8"))["output"]["result"]
    with httpx.Client(base_url=server.url, timeout=600) as c:
        answer = post(c, "/3102", msg).json()
    assert answer["infcode"] == 0, answer["err_msg"]
    by_service = answer["output"]["result"]
    FOUND[batch.stem] = len(by_cli)
    assert sorted(by_service, key=lambda r: r["jr_id"]) == sorted(by_cli, key=lambda r: r["jr_id"])


def test_the_parity_was_over_findings_not_only_empty_answers():
    assert len(FOUND) == len(GOLDEN) and sum(1 for n in FOUND.values() if n) >= 3, FOUND
