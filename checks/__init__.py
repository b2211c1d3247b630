"""claimcheck: policy-as-code compliance checking for medical-insurance claim batches."""
__version__ = "0.1.0"


def check(paths, contracts_dir=None, threads=None, tables=None, **options):
    """Check Parquet claim files against the contracts; return a checks.report.Report.

    options: history (ledger path), dry_run, history_wait, contracts (loaded versions)."""
    from .runner import check as _check
    return _check(paths, contracts_dir, threads, tables, **options)
