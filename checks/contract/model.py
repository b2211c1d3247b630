"""What a loaded contract is. Plain data; the engine and the reporters read it, never YAML."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pyarrow is imported only where a table is read
    import pyarrow as pa


@dataclass(frozen=True)
class Document:
    id: str
    number: str
    title: str
    issuer: str
    date: str | None
    seed: str | None


@dataclass(frozen=True)
class Source:
    document: Document
    section: str
    quote: str

    def as_dict(self) -> dict:
        return {"document": self.document.number, "title": self.document.title,
                "section": self.section, "quote": self.quote}


@dataclass
class CodeSet:
    name: str
    title: str
    codes: list[str]
    prefixes: list[str]
    note: str | None = None
    except_codes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # LIKE patterns over the normalised hilist_name
    names_cut_at_least: int | None = None  # a name cut by a field length to this many characters still matches
    by_amount: dict | None = None  # {column, names}: a line paying this amount (> 0) under a name like these
    lookalike: dict | None = None  # {list_type, names}: lines like the set's items; without its codes: local code


@dataclass
class Table:
    name: str
    file: Path
    title: str
    columns: dict[str, str]
    _data: pa.Table | None  # None: supplied by the user, and not supplied (see `data`)
    source: Source | None = None
    supplied_by_user: bool = False
    sample: Path | None = None
    supplied_from: str | None = None
    shared: bool = False  # one --table NAME=PATH feeds every contract declaring it
    # columns the contract's other versions declare for this table: in the (shared) file, not read here
    tolerated: frozenset[str] = frozenset()
    reader: Callable[[], pa.Table] | None = field(default=None, repr=False, compare=False)

    @property
    def data(self) -> pa.Table | None:
        """The rows, read on first use when the contract was loaded without reading its tables."""
        if self._data is None and self.reader is not None:
            self._data, self.reader = self.reader(), None
        return self._data

    @data.setter
    def data(self, value: pa.Table | None) -> None:
        self._data, self.reader = value, None

    def missing_reason(self) -> str:
        hint = f" (a sample for tests: {self.sample})" if self.sample else ""
        return (f"reference table {self.name!r} ({self.title}) is supplied by the user and was not given: "
                f"pass --table {self.name}=PATH{hint}")


@dataclass
class Rule:
    id: str
    title: str
    title_en: str
    kind: str
    severity: str
    source: Source
    params: dict[str, Any]
    codes: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    except_regions: list[str] = field(default_factory=list)
    when: Any = None  # checks.expr.Expr
    notes: list[str] = field(default_factory=list)
    supersedes: list[str] = field(default_factory=list)
    impl: Any = None  # the kind's instance (checks.kinds.RuleKind)
    line: int | None = None
    examples: list[dict] = field(default_factory=list)
    optional_columns: list[str] = field(default_factory=list)  # refinements: absent -> not applicable

    def missing_optional(self, fields) -> list[str]:
        """The optional columns this rule refines on that the batch does not supply."""
        return [c for c in self.optional_columns if c not in fields]


@dataclass
class Institutions:
    """How a contract tells which of its listed institutions a line's (code, name) is
    (checks/engine/identity.py): canonical names in a table column, aliases, a code crosswalk."""
    names: tuple[str, str]          # (table, column) of the canonical names
    aliases: str | None = None      # table: institution, alias, reason
    crosswalk: str | None = None    # table: fixmedins_code, institution


@dataclass
class NotEncoded:
    id: str
    title: str
    reason: str
    source: Source
    line: int | None = None


@dataclass
class ContractVersion:
    id: str
    version: str
    title: str
    title_en: str
    regions: list[str]
    jurisdiction: str
    effective_from: dt.date
    effective_to: dt.date | None
    file: Path
    documents: dict[str, Document]
    code_sets: dict[str, CodeSet]
    tables: dict[str, Table]
    rules: list[Rule]
    not_encoded: list[NotEncoded]
    notes: list[str]
    example_defaults: dict = field(default_factory=dict)
    institutions: Institutions | None = None
    revises: str | None = None  # the version of this contract this one revises (checks/contract/retired.py)
    revises_at: tuple = (None, None)  # (line, column) of the revises: key, for errors

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def summary(self) -> dict:
        return {
            "contract_id": self.id, "version": self.version, "title": self.title,
            "title_en": self.title_en, "jurisdiction": self.jurisdiction, "regions": self.regions,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "documents": [{"number": d.number, "title": d.title, "issuer": d.issuer, "date": d.date,
                           "seed": d.seed} for d in self.documents.values()],
            "tables": [{"name": t.name, "title": t.title, "rows": t.data.num_rows if t.data is not None else None,
                        "supplied_by_user": t.supplied_by_user, "from": t.supplied_from}
                       for t in self.tables.values()],
            "not_encoded": [{"id": n.id, "title": n.title, "reason": n.reason,
                             "source": n.source.as_dict()} for n in self.not_encoded],
        }
