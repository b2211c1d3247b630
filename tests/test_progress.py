"""The progress line appears on a terminal, and is silent when stderr is piped or in CI."""
from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from conftest import line

EXE = str(Path(sys.executable).parent / "claimcheck")


def run_on_tty(args, env):
    master, slave = pty.openpty()
    p = subprocess.Popen([EXE, *map(str, args)], stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    p.wait()
    os.close(master)
    return out.decode("utf-8", "replace")


def test_progress_on_a_terminal(write):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    out = run_on_tty(["check", write([line(n) for n in range(1, 50)])], env)
    assert "validating" in out and "judging" in out and "49/49" in out  # lines, when each phase ends


def test_silent_in_ci_even_on_a_terminal(write):
    out = run_on_tty(["check", write([line(1)])], {**os.environ, "CI": "true"})
    assert "validating" not in out and "judging" not in out


def test_silent_when_piped(write, run_cli):
    p = run_cli("check", write([line(1)]))
    assert p.stderr == ""
