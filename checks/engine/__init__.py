"""Engines run loaded contracts over a claim batch. DuckDB is the embedded default.

Shared planning is at this level (plan.py, survey.py, idle.py, items.py, context.py, lookups.py,
identity.py, findings.py, cache.py, watch.py): it writes the SQL and runs it on whatever connection it is given.
duckdb/ runs it on DuckDB; spark/ runs it on Spark. The shared part imports neither room.
"""
