"""The claim-line data contract: one row per fee line, national platform field names.

`Batch` and `open_batch` are imported on first use: they need DuckDB, pandas and pandera, which
the contract loader (which only needs the field list) must not pay for."""
from .fields import FIELDS, OPTIONAL, REQUIRED, Field

__all__ = ["FIELDS", "REQUIRED", "OPTIONAL", "Field", "Batch", "open_batch"]


def __getattr__(name):
    if name in ("Batch", "open_batch"):
        from . import batch
        return getattr(batch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
