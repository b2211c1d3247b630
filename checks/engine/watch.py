"""Progress of a long query, polled from a second thread (DuckDB reports a percentage; the Spark
engine's connection (spark/sql.py) answers the same call from its stages)."""
from __future__ import annotations

import contextlib
import threading


@contextlib.contextmanager
def watching(con, progress, phase: str, total: int, every: float = 0.25):
    """Report `phase` with done/total lines while the block's queries run on `con`."""
    if progress is None:
        yield
        return
    stop = threading.Event()

    def poll():
        while not stop.wait(every):
            try:
                pct = con.query_progress()
            except Exception:  # the connection is busy closing, or the query ended: nothing to show
                continue
            if pct and pct > 0:
                progress(phase, int(total * min(pct, 100.0) / 100), total)

    progress(phase, 0, total)
    t = threading.Thread(target=poll, daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join()
    progress(phase, total, total)
