"""The Spark session: started quietly when the caller has none, stopped with its JVM, and the
engine's own private session with the SQL settings its statements assume.

pyspark is imported inside the functions: it is an optional extra (claimcheck[spark]), and
importing this module costs nothing without it.
"""
from __future__ import annotations

import tempfile

from ...errors import UsageError
from .dialect import register
from .source import TZ

NEEDS = ("the Spark engine needs pyspark 4 and Java 17: pip install 'claimcheck[spark]' and, on Debian, "
         "apt-get install openjdk-17-jre-headless")
_created = []  # sessions this process started (stopped by shutdown())


def session(master: str | None = None, conf: dict[str, str] | None = None):
    """The active SparkSession, or a new one (on `master`, else Spark's default: spark-submit's
    master, or local[*]) with the settings `conf` (e.g. spark.driver.memory). A session started
    here is quiet: no UI, no progress bars, errors only."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(NEEDS) from None
    active = SparkSession.getActiveSession()
    if active is not None and (master is None or active.sparkContext.master == master):
        return active
    b = SparkSession.builder.appName("claimcheck")
    if master:
        b = b.master(master)
    b = (b.config("spark.ui.showConsoleProgress", "false").config("spark.log.level", "ERROR")
         .config("spark.sql.session.timeZone", TZ))
    if master is None or master.startswith("local"):
        b = b.config("spark.ui.enabled", "false")
        if "spark.sql.warehouse.dir" not in (conf or {}):  # not a spark-warehouse folder where it runs
            b = b.config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="claimcheck-spark-"))
    for k, v in (conf or {}).items():
        b = b.config(k, v)
    try:
        s = b.getOrCreate()
    except Exception as e:  # no Java: pyspark raises its own error that the gateway did not start
        raise UsageError(f"{NEEDS} ({type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''})") \
            from None
    _created.append(s)
    return s


def shutdown() -> None:
    """Stop the sessions started here and wait for their JVM to exit (so it is not left behind).
    Nothing to do when pyspark was never loaded (not installed, or the run stopped before Spark)."""
    import sys

    if "pyspark" not in sys.modules:
        return
    from pyspark import SparkContext

    while _created:
        _created.pop().stop()
    gateway = getattr(SparkContext, "_gateway", None)
    proc = getattr(gateway, "proc", None)
    if proc is not None:
        try:
            gateway.shutdown()
        except Exception:  # already closed
            pass
        if proc.stdin:
            proc.stdin.close()
        proc.wait(timeout=60)
        SparkContext._gateway = SparkContext._jvm = None


def private(spark):
    """A session of the caller's SparkContext with its own temp views and the SQL settings the
    engine's SQL assumes (China time, ANSI, backslash escapes in literals); the caller's own
    settings are left as they are."""
    s = spark.newSession()
    for k, v in {"spark.sql.session.timeZone": TZ, "spark.sql.ansi.enabled": "true",
                 "spark.sql.parser.escapedStringLiterals": "false", "spark.sql.caseSensitive": "false",
                 "spark.sql.legacy.parquet.nanosAsLong": "true",
                 # inferring constraints through wide plans costs more than it saves here, and over a
                 # union of checkpointed parts Spark 4.0 fails at it ("key not found")
                 "spark.sql.constraintPropagation.enabled": "false"}.items():
        s.conf.set(k, v)
    if spark.sparkContext.master.startswith("local"):
        # one machine: re-planning each stage (AQE) costs more than it saves on these plans, and a
        # shuffle needs no more parts than there are cores
        s.conf.set("spark.sql.adaptive.enabled", "false")
        s.conf.set("spark.sql.shuffle.partitions", str(spark.sparkContext.defaultParallelism))
    register(s)
    return s
