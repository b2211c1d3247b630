"""Rule kinds: one module each, registered by the @register decorator, discovered on import.

A kind turns one contract rule into set-based SQL over the candidate lines: which lines it is
about (its scope), which of those it can judge (every value it reads present), and a query that
returns one row per finding. Its docstring is its documentation (shown by `claimcheck kinds`):
what it checks, why, and an example in contract YAML. Its `params_schema` is the JSON Schema of
its `params:` block and goes into the published contract schema.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import ClassVar

from ..claims.fields import DERIVED, LATE

KINDS: dict[str, type["RuleKind"]] = {}


def register(name: str):
    def deco(cls):
        if name in KINDS:
            raise RuntimeError(f"rule kind {name!r} registered twice")
        cls.name = name
        KINDS[name] = cls
        return cls
    return deco


class RuleKind:
    """Base of every kind. Subclasses set params_schema and message, and implement findings()."""

    name: ClassVar[str]
    params_schema: ClassVar[dict] = {"type": "object", "additionalProperties": False, "properties": {}}
    window_rule: ClassVar[bool] = False  # judged on lines outside the contract's dates too
    counts_history: ClassVar[bool] = False  # counts lines across batches (recorded in a ledger)
    # Message template; fields: expected, actual, amount, ref, related.
    message: ClassVar[str] = "{actual} (expected {expected})"

    def __init__(self, rule, contract, ctx_error):
        """`ctx_error(path, message, choices)` builds a ContractError at params.<path>."""
        self.rule = rule
        self.contract = contract
        self.p = rule.params
        self.prepare(ctx_error)

    def prepare(self, error) -> None:
        """Check what JSON Schema cannot (tables, columns, expressions); raise error(...)."""

    def columns(self) -> set[str]:
        """Columns whose values this rule reads, beyond its scope's: a line where one is empty
        cannot be judged (unless nullable_columns() says the kind handles the gap itself)."""
        return set()

    def reads(self) -> set[str]:
        """Every column this rule's SQL reads (columns() and any it reads without needing)."""
        return self.columns()

    def nullable_columns(self) -> set[str]:
        """Columns of columns() the kind copes with when empty (e.g. a fallback key)."""
        return set()

    def tables(self) -> list[str]:
        """Reference tables this rule reads."""
        return []

    def groups(self) -> list[tuple[str, ...]]:
        """The keys by which this rule relates a line to other lines (a visit, a pregnancy): its
        finding on a line may depend on any line that shares one. None: it judges each line on
        its own. The audit service checks calls together only when they share no such key
        (checks/serve/gather.py), so a kind whose SQL looks across lines must name them here."""
        return []

    def bind(self, ctx) -> None:
        """Declare the lookups this rule joins (ctx.lookup(...)), before any SQL is written."""

    def candidate_codes(self) -> list[str] | None:
        """The code sets whose lines this rule may read; None: it selects lines by candidate()."""
        return list(self.rule.codes) if self.rule.codes else None

    def candidate(self, ctx, a: str) -> str:
        """The lines this rule may read at all (its codes, and its `when` unless false)."""
        parts = []
        if self.rule.codes:
            parts.append(ctx.codes(a, self.rule.codes))
        if self.rule.when is not None:
            # a condition on a column derived after the scan (inpolicy_amt, institution) cannot narrow it
            late = self.rule.when.columns & (LATE | set(DERIVED))
            parts.append("TRUE" if late else f"coalesce({self.rule.when.sql(a)}, TRUE)")
        return "(" + " AND ".join(parts) + ")" if parts else "FALSE"

    def companions(self, ctx) -> list[tuple[list[str], list[str]]]:
        """[(code sets, trigger code sets)]: lines of the first it reads only in visits that also
        bill the second (the engine adds them in a second, cheap step)."""
        return []

    def applies(self, ctx, a: str) -> str | None:
        """An extra predicate on line alias `a` narrowing the lines the rule is about."""
        return None

    def judgeable(self, ctx, a: str) -> str | None:
        """An extra predicate a line in scope must meet to be judged (beyond present values)."""
        return None

    def findings(self, ctx) -> str:
        """A SELECT of ctx.finding(...) rows: one per finding."""
        raise NotImplementedError


def discover() -> dict[str, type[RuleKind]]:
    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")
    return KINDS


discover()
