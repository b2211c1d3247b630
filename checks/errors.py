"""Typed errors for broken input. Findings are results; these are for what cannot be read.

Every error says where (file, line, column, row) and, where there is a closed set, what would
be valid. The CLI turns any of them into exit code 2 with one line per problem, never a traceback.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

SHOWN = 12  # valid names listed in a message; the count says how many there are in all
CUTOFF = 0.6  # difflib likeness from which a name is offered as "did you mean"


class ClaimcheckError(Exception):
    """Base of every error that maps to exit code 2."""

    exit_code = 2


def _likeness(a: str, b: str) -> float:
    """difflib's ratio, ignoring case; a name that begins with the other counts as close."""
    a, b = a.lower(), b.lower()
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    return max(ratio, 0.8) if a and b and (a.startswith(b) or b.startswith(a)) else ratio


class Choices(list):
    """The valid names for a wrong one: the names like it first (closest first), then the rest in
    their given order, so a capped list never cuts off the name that was meant."""

    def __init__(self, names, wrong: str | None = None):
        names = [str(n) for n in names]
        self.wrong = wrong
        self.close: list[str] = []
        if wrong is not None:
            scored = sorted(((_likeness(wrong, n), i) for i, n in enumerate(names)), key=lambda t: (-t[0], t[1]))
            self.close = [names[i] for score, i in scored if score >= CUTOFF]
        super().__init__(self.close + [n for n in names if n not in self.close])


def _guess_wrong(message: str, choices) -> str | None:
    """The wrong name of a message that does not say it: of the quoted names in the message that
    are not valid ones, the one most like a valid name."""
    quoted = [q for q in re.findall(r"'([^']*)'", message) if q and q not in choices]
    if not quoted:
        return None
    return max(quoted, key=lambda q: max((_likeness(q, str(c)) for c in choices), default=0.0))


def choices_text(choices, wrong: str | None = None, message: str = "") -> str:
    """'; did you mean 'X'? valid: X, Y, … (31 in all)' — the closest names first, at most SHOWN."""
    if not choices:
        return ""
    if not isinstance(choices, Choices) or (choices.wrong is None and wrong is not None):
        choices = Choices(choices, wrong if wrong is not None else _guess_wrong(message, choices))
    names = list(choices)
    shown = ", ".join(names[:SHOWN])
    more = f", … ({len(names)} in all)" if len(names) > SHOWN else ""
    mean = f" did you mean {choices.close[0]!r}?" if choices.close and choices.close[0] != choices.wrong else ""
    if "did you mean" in message:  # the message already offers the closest: say it once
        mean = ""
    return f";{mean} valid: {shown}{more}"


@dataclass
class ContractError(ClaimcheckError):
    """A contract (YAML or reference table) that cannot be loaded."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None
    choices: list[str] | None = field(default=None)  # a Choices knows the wrong name; else it is guessed

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}{choices_text(self.choices, message=self.message)}"


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
