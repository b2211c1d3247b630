"""Exports of contracts into other tools' formats (Great Expectations suites).

Each exporter is optional: it is imported only by its own command, so the main CLI never pays
for (or needs) the other tool. `frame` and `pandas_query` use pandas alone; `gx`, `gx_kinds`,
`gx_require` and `gx_run` need the `claimcheck[gx]` extra.
"""
