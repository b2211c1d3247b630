"""The DuckDB room: what runs only on DuckDB, the embedded default engine.

run.py opens the connection (memory limit, threads, spill folder, time zone) and runs the shared
plan (engine/plan.py) on it; diagnose.py turns a DuckDB error of reading the claims into an error
naming the file. Nothing here imports pyspark.
"""
