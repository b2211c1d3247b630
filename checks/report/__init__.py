"""Our report model and the outputs built from it. Reporters never see engine objects."""
from .model import Finding, Report, RuleResult, SEVERITY_RANK

__all__ = ["Report", "RuleResult", "Finding", "SEVERITY_RANK"]
