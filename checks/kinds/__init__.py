"""Rule kinds: one module each, registered by the @register decorator, discovered on import.

A kind turns one contract rule into a set-based DuckDB query that returns the rule's findings.
Its docstring is its documentation (shown by `claimcheck kinds`): what it checks, why, and an
example in contract YAML. Its `params_schema` is the JSON Schema of its `params:` block and goes
into the published contract schema.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import ClassVar

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
    """Base of every kind. Subclasses set params_schema and implement findings()."""

    name: ClassVar[str]
    params_schema: ClassVar[dict] = {"type": "object", "additionalProperties": False, "properties": {}}
    window_rule: ClassVar[bool] = False  # judged on lines outside the contract's dates too
    counts_history: ClassVar[bool] = False  # counts lines across batches (recorded in a ledger)
    # Message template; fields: expected, actual, amount, ref.
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
        """Claim columns this rule reads, beyond its scope's (codes, regions, when)."""
        return set()

    def tables(self) -> list[str]:
        """Reference tables this rule reads."""
        return []

    def candidate(self, ctx, a: str) -> str:
        """The lines this rule may read at all (its codes and its `when`), before any other scope."""
        parts = []
        if self.rule.codes:
            parts.append(ctx.codes(a, self.rule.codes))
        if self.rule.when is not None:
            parts.append(f"coalesce({self.rule.when.sql(a)}, FALSE)")
        return "(" + " AND ".join(parts) + ")"

    def applies(self, ctx, a: str) -> str | None:
        """An extra predicate on line alias `a` narrowing the lines the rule judges."""
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
