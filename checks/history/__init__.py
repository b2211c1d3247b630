"""The history ledger: the lines frequency-limited rules count, kept across batches."""
from .ledger import Ledger, LedgerError, SCHEMA_VERSION

__all__ = ["Ledger", "LedgerError", "SCHEMA_VERSION"]
