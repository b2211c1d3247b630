"""claimcheck: policy-as-code compliance checking for medical-insurance claim batches."""
__version__ = "0.1.0"


def check(paths, contracts_dir=None, threads=None, tables=None):
    """Check Parquet claim files against the contracts; return a checks.report.Report."""
    from .runner import check as _check
    return _check(paths, contracts_dir, threads, tables)
