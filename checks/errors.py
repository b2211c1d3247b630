"""Typed errors for broken input. Findings are results; these are for what cannot be read.

Every error says where (file, line, column, row) and, where there is a closed set, what would
be valid. The CLI turns any of them into exit code 2 with one line per problem, never a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass, field


class ClaimcheckError(Exception):
    """Base of every error that maps to exit code 2."""

    exit_code = 2


def _choices(choices: list[str] | tuple[str, ...] | None) -> str:
    if not choices:
        return ""
    shown = ", ".join(str(c) for c in list(choices)[:12])
    more = f", … ({len(choices)} in all)" if len(choices) > 12 else ""
    return f"; valid: {shown}{more}"


@dataclass
class ContractError(ClaimcheckError):
    """A contract (YAML or reference table) that cannot be loaded."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None
    choices: list[str] | None = field(default=None)

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}{_choices(self.choices)}"


@dataclass
class InputError(ClaimcheckError):
    """A claim file that cannot be read or breaks the claim-line contract."""

    file: str
    message: str
    column: str | None = None
    row: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.column is not None:
            parts.append(f"column {self.column}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        return ": ".join([", ".join(parts), self.message])


class InputErrors(ClaimcheckError):
    """Several input errors found in one pass (all are reported, not just the first)."""

    def __init__(self, errors: list[InputError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class UsageError(ClaimcheckError):
    """A command-line request that cannot be carried out."""
