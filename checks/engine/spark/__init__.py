"""The Spark room: what runs only with --engine spark (pyspark 4 and Java 17, claimcheck[spark]).

run.py runs the shared plan (engine/plan.py) on Spark, refusing per rule what has no Spark form;
session.py starts and stops the SparkSession; source.py reads the claims into Spark; sql.py takes
the plan's DuckDB statements as a DuckDB connection would and runs them as cached DataFrames;
dialect.py translates DuckDB SQL to Spark SQL (sqlglot). Importing any of these imports no
pyspark: it is loaded inside the functions that need a session.
"""
