"""Exports of contracts into other tools' formats (Great Expectations suites).

Each exporter is optional: it is imported only by its own command, so the main CLI never pays
for (or needs) the other tool. `plan`, `gx_context`, `gx_kinds`, `gx_require` and
`pandas_query` translate rules without Great Expectations; `frame` computes the lines a suite
runs on with claimcheck's own DuckDB SQL; `gx` and `gx_run` need the `claimcheck[gx]` extra.
"""
