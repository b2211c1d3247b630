"""The claim batch as Spark reads it: local Parquet files, a dataset URI, or a catalog table.

- Local paths (files, folders, hive-partitioned folders) are opened exactly as for DuckDB
  (claims/batch.py: discovery, column mapping, pandera structure check on each Parquet schema,
  statistics); Spark then reads those files, one DataFrame per file with its index as a literal.
- `table:NAME` (a table of the session's catalog: Hive, Delta, …) and a URI with a scheme
  (hdfs://…, s3a://…, file:///…) are read by Spark; their structure is checked by the same
  pandera schema on the Arrow form of the Spark schema, and each data file is one ClaimFile.

Either way the lines are one temp view, `claim_src`, with a column per national field supplied
(the field's column cast to its family's type; partition-folder values as text), `file_index`,
`file_row_number` (from 0, `_metadata.row_index`) and `filename` — the names DuckDB's
read_parquet gives them, so the engine's SQL reads both the same way.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ...claims.batch import Batch, ClaimFile, open_batch
from ...claims.columns import resolve
from ...claims.fields import FIELDS
from ...claims.structure import structure_errors
from ...errors import InputError, InputErrors, UsageError

VIEW = "claim_src"
TABLE_PREFIX = "table:"
TZ = "Asia/Shanghai"
SPARK_TYPE = {"code": "STRING", "text": "STRING", "number": "DOUBLE", "timestamp": "TIMESTAMP_NTZ",
              "date": "DATE", "boolean": "BOOLEAN"}


@dataclass
class SparkBatch(Batch):
    """A batch whose lines Spark reads through the view `claim_src` (national field names)."""
    spec: str = ""              # the table or URI Spark reads whole ("" for local files)

    def source_sql(self) -> str:
        return VIEW

    def raw(self, name: str) -> str:
        return f'r."{name}"' if any(name in cf.sources for cf in self.files) else "NULL"


def is_spark_source(path: str) -> bool:
    return str(path).startswith(TABLE_PREFIX) or "://" in str(path)


def open_spark_batch(spark, paths: list[str], column_map: dict | None = None) -> SparkBatch:
    column_map = column_map or {}
    remote = [p for p in paths if is_spark_source(p)]
    if remote and len(paths) > 1:
        raise UsageError(f"{remote[0]}: a table or a URI is checked on its own; give one dataset at a time")
    if not remote:
        b = open_batch(list(paths), column_map)
        out = SparkBatch(b.files, b.hive, b.column_map)
        out.__dict__.update({k: v for k, v in vars(b).items() if k in ("_hashing", "_hashed")})  # SHA-256 running
        return out
    return _open_remote(spark, remote[0], column_map)


def _open_remote(spark, spec: str, column_map: dict) -> SparkBatch:
    from pyspark.errors import PySparkException
    from pyspark.sql.pandas.types import to_arrow_schema

    try:
        df = _read(spark, spec)
    except PySparkException as e:
        raise InputErrors([InputError(spec, f"cannot be read by Spark: {_first_line(e)}")]) from None
    try:
        schema = to_arrow_schema(df.schema)
    except Exception as e:  # a Spark type with no Arrow form (interval, map of structs …)
        raise InputErrors([InputError(spec, f"has a column type claimcheck cannot read: {e}")]) from None
    sources, errors = resolve(spec, list(df.columns), {}, column_map)
    if not errors:
        errors = structure_errors(spec, schema, sources)
    if errors:
        raise InputErrors(errors)
    try:
        counts = df.select("_metadata.file_path").groupBy("file_path").count().collect()
    except PySparkException as e:
        raise InputErrors([InputError(spec, "is not read from files, so its lines cannot be located by file "
                                      f"and row (_metadata.file_path, _metadata.row_index): {_first_line(e)}")]) \
            from None
    files = [ClaimFile(path, f"{spec} {path}", n, list(df.columns), sources, fid=i,
                       arrow_types={f.name: f.type for f in schema})
             for i, (path, n) in enumerate(sorted(counts))]
    return SparkBatch(files, False, column_map, spec=spec)


def _read(spark, spec: str):
    return spark.table(spec[len(TABLE_PREFIX):]) if spec.startswith(TABLE_PREFIX) else spark.read.parquet(spec)


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _glob_escaped(path: str) -> str:
    """A local path as a Hadoop path: glob characters taken literally."""
    return re.sub(r"([\[\]{}*?\\])", r"\\\1", path)


def _field(col, family: str, arrow_type):
    """A file column as its field's type; nanosecond timestamps arrive as longs (nanosAsLong)."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    if arrow_type is not None and pa.types.is_timestamp(arrow_type) and arrow_type.unit == "ns":
        micros = F.timestamp_micros(F.floor(col / 1000))
        local = micros.cast("timestamp_ntz")
        if arrow_type.tz is None:  # wall-clock values stored as if UTC
            local = F.convert_timezone(F.lit(TZ), F.lit("UTC"), local)
        return local if family != "date" else local.cast("date")
    return col.cast(SPARK_TYPE[family])


def register_claims(spark, batch: SparkBatch) -> None:
    """Create the view `claim_src` over the batch in `spark` (the engine's own session)."""
    from functools import reduce

    from pyspark.sql import functions as F

    if batch.spec:
        df = _read(spark, batch.spec)
        paths = spark.createDataFrame([(cf.path, cf.fid, str(cf.path)) for cf in batch.files],
                                      "file_path STRING, file_index INT, filename STRING")
        cols = [F.col("_metadata.file_path").alias("file_path"), F.col("_metadata.row_index").alias("file_row_number")]
        cols += [_field(F.col(f"`{s.column}`"), FIELDS[f].family, None).alias(f) for f, s in batch.files[0].sources.items()]
        view = df.select(*cols).join(F.broadcast(paths), "file_path").drop("file_path")
    else:
        frames = []
        for cf in batch.files:
            df = spark.read.parquet(_glob_escaped(os.path.abspath(cf.path)))
            cols = [F.lit(cf.fid).alias("file_index"), F.col("_metadata.row_index").alias("file_row_number"),
                    F.lit(str(cf.path)).alias("filename")]
            for f, s in cf.sources.items():
                if s.partition:
                    cols.append(F.lit(cf.partitions[s.column]).cast("string").alias(f))
                else:
                    cols.append(_field(F.col(f"`{s.column}`"), FIELDS[f].family, cf.arrow_types.get(s.column)).alias(f))
            frames.append(df.select(*cols))
        view = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)
    view.createOrReplaceTempView(VIEW)
