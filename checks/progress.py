"""A progress line on stderr for long runs on a terminal; silent in CI and when stderr is piped."""
from __future__ import annotations

import os
import sys
import time


class Progress:
    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.on = bool(getattr(self.stream, "isatty", lambda: False)()) and not os.environ.get("CI")
        self.t0 = time.monotonic()
        self.shown = False

    def __call__(self, phase: str, done: int | None = None, total: int | None = None) -> None:
        if not self.on:
            return
        bar = ""
        if total:
            filled = int(30 * min(done or 0, total) / total)
            bar = f" [{'#' * filled}{'.' * (30 - filled)}] {done or 0:,}/{total:,}"
        self.stream.write(f"\r{phase:<12}{bar}  {time.monotonic() - self.t0:5.1f}s   ")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 78 + "\r")
            self.stream.flush()
