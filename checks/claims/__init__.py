"""The claim-line data contract: one row per fee line, national platform field names."""
from .fields import FIELDS, OPTIONAL, REQUIRED, Field
from .batch import Batch, open_batch

__all__ = ["FIELDS", "REQUIRED", "OPTIONAL", "Field", "Batch", "open_batch"]
