"""The engine's statements on Spark: the part of a DuckDB connection the engine uses, over a SparkSession.

The DuckDB engine talks to its connection in a handful of statement forms. Here each becomes the
Spark equivalent, its query translated by spark/dialect.py:

    CREATE TEMP TABLE t AS q         a checkpointed DataFrame (computed once) as temp view t
    CREATE TEMP VIEW v AS q          the same (the engine reads its views in every rule's query)
    INSERT INTO t BY NAME q          t's cached rows united by name with q's (also cached)
    DELETE FROM t WHERE c            t's rows where c does not hold, cached (c never NULL)
    WITH f AS MATERIALIZED (q) …     q checkpointed as a temp view the query reads as f
    register(name, arrow_table)      a DataFrame made from the Arrow table
    execute(q, [values])             ? and $n placeholders filled with literals
    sql(q).fetchall() / .to_arrow_table()

Everything lives in a session of its own (SparkSession.newSession(): the caller's SparkContext,
its own temp views and SQL settings), and close() releases every checkpointed DataFrame.
"""
from __future__ import annotations

import datetime as dt
import decimal
import itertools
import os
import sys
import time

import sqlglot
from sqlglot import exp

from .dialect import Unsupported, spark_sql, translate

_names = itertools.count()


def _literal(v) -> exp.Expression:
    if v is None:
        return exp.Null()
    if isinstance(v, bool):
        return exp.Boolean(this=v)
    if isinstance(v, (int, float, decimal.Decimal)):
        return exp.Literal.number(v)
    if isinstance(v, dt.datetime):
        return exp.Cast(this=exp.Literal.string(v.isoformat(sep=" ")), to=exp.DataType.build("TIMESTAMP"))
    if isinstance(v, dt.date):
        return exp.Cast(this=exp.Literal.string(v.isoformat()), to=exp.DataType.build("DATE"))
    return exp.Literal.string(str(v))


class Result:
    def __init__(self, df):
        self.df = df

    def fetchall(self) -> list[tuple]:
        return [tuple(r) for r in self.df.collect()]

    def to_arrow_table(self):
        return self.df.toArrow()

    def to_arrow_reader(self, batch_size: int = 1 << 17):
        return self.df.toArrow().to_reader(max_chunksize=batch_size)


class SparkSQL:
    # the findings of every rule as one UNION ALL: one Spark job, whose stages spill as needed
    findings_in_one_query = True

    def __init__(self, session):
        self.spark = session
        self.cached: list = []
        self.views: set[str] = set()
        self.statements: list[str] = []  # the Spark SQL run, in order (for --explain-style debugging)

    # -- translation -------------------------------------------------------------------------------
    def _tree(self, sql: str, params=None) -> exp.Expression:
        try:
            tree = sqlglot.parse_one(sql, read="duckdb")
        except sqlglot.errors.ParseError as e:
            raise Unsupported(f"cannot be read as DuckDB SQL: {e}") from None
        if params is not None:
            values = iter(params)
            for node in list(tree.find_all(exp.Placeholder, exp.Parameter)):
                node.replace(_literal(next(values)))
        return tree

    def _df(self, tree: exp.Expression):
        ctes = tree.args.get("with_") or tree.args.get("with")
        if ctes is not None:  # materialised CTEs become cached views the query reads under their name
            for cte in list(ctes.expressions):
                if cte.args.get("materialized"):
                    name = f"cte_{cte.alias}_{next(_names)}"
                    self._cache(name, cte.this)
                    for t in tree.find_all(exp.Table):
                        if t.name == cte.alias and not t.db:
                            t.replace(exp.Table(this=exp.to_identifier(name), alias=exp.TableAlias(
                                this=exp.to_identifier(t.alias or cte.alias))))
                    cte.pop()
            if not ctes.expressions:
                tree.set("with_" if "with_" in tree.args else "with", None)
        text = spark_sql(translate(tree))
        self.statements.append(text)
        if os.environ.get("CLAIMCHECK_SPARK_TRACE"):  # each statement as Spark runs it, with its time
            print(f"-- {time.strftime('%H:%M:%S')} ({len(text):,} chars)\n{text[:2000]}", file=sys.stderr)
        return self.spark.sql(text)

    def _cache(self, name: str, query: exp.Expression):
        df = self._materialise(self._df(query))
        self._view(df, name)
        return df

    def _view(self, df, name: str) -> None:
        df.createOrReplaceTempView(name)
        self.views.add(name)

    def _materialise(self, df):
        """Computed now, its lineage cut: later plans read it as data, not as the query that made it
        (planning over cached plans, which Spark matches query by query, took longer than running).
        Into the session's checkpoint directory when one is set (it survives a lost executor), else
        into the executors' block stores (memory, then disk)."""
        if self.spark.sparkContext.getCheckpointDir():
            df = df.checkpoint(eager=True)
        else:
            df = df.localCheckpoint(eager=True)
        self.cached.append(df)
        return df

    # -- the connection's API ------------------------------------------------------------------------
    def execute(self, sql: str, params=None):
        tree = self._tree(sql, params)
        if isinstance(tree, exp.Create):
            name = tree.this.name
            kind = tree.args.get("kind", "").upper()
            if kind in ("TABLE", "VIEW"):  # a view too: the engine reads `lines` in every rule's query
                self._cache(name, tree.expression)
            else:
                raise Unsupported(f"CREATE {kind} has no Spark equivalent here")
            return self
        if isinstance(tree, exp.Insert):
            if not tree.args.get("by_name"):
                raise Unsupported("INSERT without BY NAME: name the columns")
            name = tree.this.name
            new = self._materialise(self._df(tree.expression))
            self._view(self.spark.table(name).unionByName(new), name)
            return self
        if isinstance(tree, exp.Delete):
            where = tree.args.get("where")
            if where is None or tree.args.get("using"):
                raise Unsupported("DELETE without WHERE, or with USING, has no Spark equivalent here")
            name = tree.this.name
            kept = exp.select("*").from_(exp.to_table(name)).where(exp.not_(exp.paren(where.this)))
            self._view(self._materialise(self._df(kept)), name)
            return self
        return Result(self._df(tree))

    def sql(self, sql: str) -> Result:
        return Result(self._df(self._tree(sql)))

    def register(self, name: str, table) -> None:
        if table.num_rows == 0:
            from pyspark.sql.pandas.types import from_arrow_schema
            df = self.spark.createDataFrame([], from_arrow_schema(table.schema))
        else:
            df = self.spark.createDataFrame(table)
        self._view(df, name)

    def query_progress(self) -> float:
        """Percent of the tasks of the running stages done (-1 when nothing runs)."""
        tracker = self.spark.sparkContext.statusTracker()
        stages = [tracker.getStageInfo(s) for s in tracker.getActiveStageIds()]
        stages = [s for s in stages if s is not None and s.numTasks]
        if not stages:
            return -1
        return 100.0 * sum(s.numCompletedTasks for s in stages) / sum(s.numTasks for s in stages)

    def close(self) -> None:
        """Drop the views and free the checkpointed data (its blocks; checkpoint files stay for
        Spark's cleaner, spark.cleaner.referenceTracking.cleanCheckpoints)."""
        for name in self.views:
            self.spark.catalog.dropTempView(name)
        for df in self.cached:
            try:
                df._jdf.queryExecution().logical().rdd().unpersist(False)
            except Exception:  # not a checkpointed plan (a Spark Connect DataFrame): left to Spark's cleaner
                pass
        self.views.clear()
        self.cached.clear()
