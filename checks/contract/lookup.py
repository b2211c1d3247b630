"""Find rules by address, for every command that names one (explain, waivers, outputs).

A rule id is unique within a contract version. An address is

    ID                      every version holding ID (JS-4)
    ID@VERSION              that version only (FZ-2@2.0.0)
    CONTRACT/ID[@VERSION]   when two contracts share an id (fuzhou-nipt-subsidy/FZ-2@2.0.0)

Ids and contract names match without regard to case (js-4-nt finds JS-4-NT); versions exactly.
Entries listed under `not_encoded:` are found too: they are policy rules claimcheck does not check.
Not found is a typed error offering the closest ids first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import Choices, UsageError, choices_text
from .model import ContractVersion, NotEncoded, Rule
from .retired import judging, lineage, retired

_ADDRESS = re.compile(r"^(?:(?P<contract>[^/@\s]+)/)?(?P<rule>[^/@\s]+)(?:@(?P<version>[^/@\s]+))?\Z")


class RuleNotFound(UsageError):
    """No rule at an address; `suggestions` are the closest addresses, closest first."""

    def __init__(self, message: str, address: str, suggestions: list[str]):
        super().__init__(message)
        self.address = address
        self.suggestions = suggestions


class AmbiguousRule(UsageError):
    """An address that matches rules of several contract versions where one is needed."""

    def __init__(self, address: str, matches: list["Entry"]):
        super().__init__(f"{address} is in {len(matches)} contract versions: "
                         f"{', '.join(m.address for m in matches)}; write ID@VERSION (or CONTRACT/ID@VERSION)")
        self.address = address
        self.matches = matches


@dataclass(frozen=True)
class Address:
    rule: str
    version: str | None = None
    contract: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Address":
        m = _ADDRESS.match(text.strip())
        if not m:
            raise UsageError(f"{text!r} is not a rule address; write ID, ID@VERSION or CONTRACT/ID@VERSION "
                             "(e.g. JS-4, FZ-2@2.0.0, fuzhou-nipt-subsidy/FZ-2@2.0.0)")
        return cls(m["rule"], m["version"], m["contract"])

    def __str__(self) -> str:
        return (f"{self.contract}/" if self.contract else "") + self.rule + (f"@{self.version}" if self.version else "")


@dataclass(frozen=True)
class Entry:
    """A rule of one contract version, encoded (`rule`) or listed as not encoded (`not_encoded`)."""

    contract: ContractVersion
    rule: Rule | None = None
    not_encoded: NotEncoded | None = None

    @property
    def id(self) -> str:
        return self.rule.id if self.rule else self.not_encoded.id

    @property
    def title(self) -> str:
        return self.rule.title if self.rule else self.not_encoded.title

    @property
    def encoded(self) -> bool:
        return self.rule is not None

    @property
    def address(self) -> str:
        """The full address: CONTRACT/ID@VERSION."""
        return f"{self.contract.id}/{self.id}@{self.contract.version}"


def entries(versions: list[ContractVersion]) -> list[Entry]:
    """Every rule and not-encoded entry of every version, in contract order."""
    return [e for v in versions for e in
            [Entry(v, rule=r) for r in v.rules] + [Entry(v, not_encoded=n) for n in v.not_encoded]]


def find(versions: list[ContractVersion], text: str) -> list[Entry]:
    """Every entry at the address `text` (one per version holding it); RuleNotFound when none."""
    addr = Address.parse(text)
    every = entries(versions)
    contracts = sorted({v.id for v in versions})
    if addr.contract and addr.contract.lower() not in {c.lower() for c in contracts}:
        raise RuleNotFound(f"no contract {addr.contract!r}{choices_text(Choices(contracts, addr.contract))}",
                           str(addr), [])
    in_contract = [e for e in every if not addr.contract or e.contract.id.lower() == addr.contract.lower()]
    same_id = [e for e in in_contract if e.id.lower() == addr.rule.lower()]
    hits = [e for e in same_id if not addr.version or e.contract.version == addr.version]
    if not addr.version:  # without a version: the versions that judge, if any holds the id
        gone = retired(versions)
        hits = [e for e in hits if (e.contract.id, e.contract.version) not in gone] or hits
    if hits:
        return hits
    if same_id:
        held = ", ".join(f"{e.contract.id}@{e.contract.version}" for e in same_id)
        raise RuleNotFound(f"{same_id[0].id} has no version {addr.version}: it is in {held}", str(addr),
                           [f"{e.id}@{e.contract.version}" for e in same_id])
    ids = Choices(list(dict.fromkeys(e.id for e in in_contract)), addr.rule)
    where = f" in {addr.contract}" if addr.contract else ""
    raise RuleNotFound(f"no rule {addr.rule!r}{where}{choices_text(ids)}", str(addr), list(ids.close))


def resolve(versions: list[ContractVersion], text: str) -> Entry:
    """The one entry at the address `text`; AmbiguousRule when several versions hold it."""
    hits = find(versions, text)
    if len(hits) > 1:
        raise AmbiguousRule(text, hits)
    return hits[0]


def find_version(versions: list[ContractVersion], text: str, contract: str | None = None) -> ContractVersion:
    """The version written CONTRACT@VERSION (or @VERSION, with `contract` given); a typed error naming
    the valid contracts or versions when there is none."""
    name, sep, number = text.strip().partition("@")
    name = name or contract
    if not sep or not name or not number:
        raise UsageError(f"{text!r}: write CONTRACT@VERSION (e.g. fuzhou-nipt-subsidy@2.0.0)"
                         + (" or @VERSION" if contract else ""))
    contracts = list(dict.fromkeys(v.id for v in versions))
    mine = [v for v in versions if v.id.lower() == name.lower()]
    if not mine:
        raise UsageError(f"no contract {name!r}{choices_text(Choices(contracts, name))}")
    hit = [v for v in mine if v.version == number]
    if not hit:
        raise UsageError(f"{mine[0].id} has no version {number}{choices_text([v.version for v in mine])}")
    return hit[0]


def pick_contracts(versions: list[ContractVersion], specs: list[str]) -> list[ContractVersion]:
    """The versions `--contract` names: ID (every version of the contract that judges: not one a
    revision retires) or ID@VERSION (that version, retired or not), in any case, each at least once;
    an unknown one is an error naming the closest. A version named with its revision is an error:
    both would judge the same lines."""
    judges = {(v.id, v.version) for v in judging(versions)}
    out: dict[tuple, ContractVersion] = {}
    for spec in specs:
        name = spec.strip()
        if "@" in name:
            try:
                v = find_version(versions, name)
            except UsageError as e:
                raise UsageError(f"--contract {spec}: {e}") from None
            out[(v.id, v.version)] = v
            continue
        mine = [v for v in versions if v.id.lower() == name.lower()]
        if not mine:
            contracts = list(dict.fromkeys(v.id for v in versions))
            raise UsageError(f"--contract {spec}: no contract {name!r}{choices_text(Choices(contracts, name))}")
        out.update({(v.id, v.version): v for v in mine if (v.id, v.version) in judges})
    for w in list(out.values()):
        for v in lineage(w, versions):
            if (v.id, v.version) in out:
                raise UsageError(f"--contract: {v.id}@{v.version} and its revision {w.version} ({w.file}) are both "
                                 f"chosen, and both would judge the same lines: choose {v.id}@{v.version} alone to "
                                 f"judge by it, or {v.id} for the revision")
    return [v for v in versions if (v.id, v.version) in out]

