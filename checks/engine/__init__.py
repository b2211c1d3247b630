"""Engines run loaded contracts over a claim batch. DuckDB is the embedded default."""
