"""claimcheck: policy-as-code compliance checking for medical-insurance claim batches."""
__version__ = "0.1.0"


def check(data, contracts_dir=None, threads=None, tables=None, **options):
    """Check claims against the contracts; return a checks.report.Report.

    `data`: Parquet files or folders (a path or a list), CSV / JSON Lines files, 3101/3102 request
    files, or data in memory: a pyarrow Table, RecordBatch or RecordBatchReader (streamed: it may
    be larger than memory), anything with `__arrow_c_stream__` (polars, DuckDB relations …), a
    pandas DataFrame, or a checks.nhsa.Message. In memory as on disk: the same column map
    (`columns`), money convention, structure and value checks; a row is the line's position (from 1).

    options: columns, name (what data in memory is called in the report), encoding, history
    (ledger path), dry_run, history_wait, waivers, contracts (loaded versions), memory_limit,
    temp_dir, engine (checks/runner.py check). The report's findings are one Arrow table
    (`report.table`; `.to_pandas()`); `checks.report.write_outputs` writes every format, and
    `checks.report.nhsa_out.national_answer(report)` the national 3101/3102 answer."""
    from .runner import check as _check
    return _check(data, contracts_dir, threads, tables, **options)
