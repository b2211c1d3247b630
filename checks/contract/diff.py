"""What changed between two versions of a contract: `claimcheck contracts diff A B`.

The shape is that of a payer's quarterly change file (CMS publishes NCCI edits as records added,
deleted and revised, each with its effective date): every section lists what was added, what was
removed and what changed, each record carrying its id, its source (document, article, quoted
words; a table row its source_row) and the date from which the new version is in force.

JSON (`--json`, format "claimcheck.contract-diff/1"; keys are never renamed within a format):

    format                      "claimcheck.contract-diff/1"
    from, to                    {contract, version, title, effective_from, effective_to, file}
    in_force_from               the date the changes take effect (to.effective_from)
    summary                     {section: {added, removed, changed}} counts
    version                     [change]: effective_from, effective_to, title, title_en,
                                jurisdiction, regions, notes
    documents                   {added: [document], removed: [document], changed: [item]}
    rules, not_encoded          {added: [rule], removed: [rule], changed: [item]}
    code_sets                   {added, removed: [{name, title}], changed: [code set]}
    tables                      {added, removed: [{name, title}], changed: [table]}

    change     {field, before, after}   dotted field (params.limit.value); null where absent
    item       {id, title, changes: [change]}
    rule       {id, title, kind, severity, source: {document, section, quote}}  (not_encoded: id,
               title, reason, source)
    code set   {name, title, codes_added, codes_removed, prefixes_added, prefixes_removed,
               except_codes_added, except_codes_removed, changes: [change]}
    table      {name, title, key: "source_row", rows_added: [row], rows_removed: [row],
               rows_changed: [{source_row, changes: [change], row}], changes: [change]}
               (row: the whole row, column: value, as it is in the new version)

Rule fields compared: title, title_en, kind, severity, params (key by key), codes, regions,
except_regions, when, supersedes, notes, source. Examples are not compared (they test a rule,
they do not state it). Table rows are matched by source_row; rows sharing a source_row are
matched first where equal, then by the most equal columns. Rows of tables the user supplies are
not compared (they are not part of the contract).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from .model import ContractVersion

FORMAT = "claimcheck.contract-diff/1"
RULE_FIELDS = ["title", "title_en", "kind", "severity", "params", "codes", "regions", "except_regions", "when",
               "supersedes", "notes", "source"]


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


@dataclass
class Section:
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)

    def counts(self) -> dict:
        return {"added": len(self.added), "removed": len(self.removed), "changed": len(self.changed)}


@dataclass
class ContractDiff:
    before: ContractVersion
    after: ContractVersion
    version: list[Change]
    documents: Section
    rules: Section
    not_encoded: Section
    code_sets: Section
    tables: Section

    SECTIONS = ("documents", "rules", "not_encoded", "code_sets", "tables")

    def is_empty(self) -> bool:
        return not self.version and not any(any(getattr(self, s).counts().values()) for s in self.SECTIONS)

    def to_dict(self) -> dict:
        def head(v):
            return {"contract": v.id, "version": v.version, "title": v.title,
                    "effective_from": v.effective_from.isoformat(),
                    "effective_to": v.effective_to.isoformat() if v.effective_to else None, "file": str(v.file)}
        out = {"format": FORMAT, "from": head(self.before), "to": head(self.after),
               "in_force_from": self.after.effective_from.isoformat(),
               "summary": {s: getattr(self, s).counts() for s in self.SECTIONS},
               "version": [asdict(c) for c in self.version]}
        for s in self.SECTIONS:
            out[s] = _plain(asdict(getattr(self, s)))
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"


def _plain(value):
    """JSON-ready: dates as ISO text, Change objects as dicts, tuples as lists."""
    if isinstance(value, Change):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _flat(value, prefix: str) -> dict[str, Any]:
    """Nested mappings as dotted keys; lists and scalars are values."""
    if isinstance(value, dict) and value:
        out = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}"))
        return out
    return {prefix: value}


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Field by field (nested mappings key by key), in the order the fields are given."""
    flat_b, flat_a = {}, {}
    for k in dict.fromkeys([*before, *after]):
        flat_b.update(_flat(before.get(k), k))
        flat_a.update(_flat(after.get(k), k))
    return [Change(k, _plain(flat_b.get(k)), _plain(flat_a.get(k)))
            for k in dict.fromkeys([*flat_b, *flat_a]) if flat_b.get(k) != flat_a.get(k)]


def _source(s) -> dict:
    return {"document": s.document.number, "section": s.section, "quote": s.quote}


def _rule_fields(r) -> dict:
    return {"title": r.title, "title_en": r.title_en, "kind": r.kind, "severity": r.severity, "params": r.params,
            "codes": r.codes, "regions": r.regions, "except_regions": r.except_regions,
            "when": r.when.text if r.when is not None else None, "supersedes": r.supersedes, "notes": r.notes,
            "source": _source(r.source)}


def _rule_record(r) -> dict:
    return {"id": r.id, "title": r.title, "kind": r.kind, "severity": r.severity, "source": _source(r.source)}


def _not_encoded_fields(n) -> dict:
    return {"title": n.title, "reason": n.reason, "source": _source(n.source)}


def _section(before: dict, after: dict, fields, record, key="id", title=lambda x: x.title) -> Section:
    """Items keyed by id: added (in `after` order), removed (in `before` order), changed."""
    sec = Section(added=[record(after[k]) for k in after if k not in before],
                  removed=[record(before[k]) for k in before if k not in after])
    for k in after:
        if k in before:
            ch = changes(fields(before[k]), fields(after[k]))
            if ch:
                sec.changed.append({key: k, "title": title(after[k]), "changes": ch})
    return sec


def _code_set_diff(a, b) -> dict | None:
    out = {"name": b.name, "title": b.title}
    for attr in ("codes", "prefixes", "except_codes"):
        old, new = getattr(a, attr), getattr(b, attr)
        out[f"{attr}_added"] = [c for c in new if c not in set(old)]
        out[f"{attr}_removed"] = [c for c in old if c not in set(new)]
    out["changes"] = changes({"title": a.title, "note": a.note}, {"title": b.title, "note": b.note})
    return out if any(v for k, v in out.items() if k not in ("name", "title")) else None


def _rows(t) -> list[dict] | None:
    if t.supplied_by_user or t.data is None:
        return None
    return [{k: _plain(v) for k, v in row.items()} for row in t.data.to_pylist()]


def _table_diff(a, b) -> dict | None:
    head = lambda t: {"title": t.title, "columns": t.columns, "file": t.file.name if t.file else None,  # noqa: E731
                      "supplied_by_user": t.supplied_by_user, "source": _source(t.source) if t.source else None}
    out = {"name": b.name, "title": b.title, "key": "source_row", "rows_added": [], "rows_removed": [],
           "rows_changed": [], "changes": changes(head(a), head(b))}
    old, new = _rows(a), _rows(b)
    if old is not None and new is not None:
        out["rows_added"], out["rows_removed"], out["rows_changed"] = match_rows(old, new)
    return out if out["changes"] or out["rows_added"] or out["rows_removed"] or out["rows_changed"] else None


def match_rows(old: list[dict], new: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """(added, removed, changed) rows, matched by source_row; see the module's docstring."""
    pending_old = list(old)
    added, changed, unmatched_new = [], [], []
    for row in new:  # equal rows first
        if row in pending_old:
            pending_old.remove(row)
        else:
            unmatched_new.append(row)
    for row in unmatched_new:
        same = [o for o in pending_old if o.get("source_row") == row.get("source_row")]
        if not same:
            added.append(row)
            continue
        best = max(same, key=lambda o: sum(o.get(k) == v for k, v in row.items()))
        pending_old.remove(best)
        changed.append({"source_row": row.get("source_row"),
                        "changes": [c for c in changes(best, row) if c.field != "source_row"], "row": row})
    return added, pending_old, changed


def diff(before: ContractVersion, after: ContractVersion) -> ContractDiff:
    """Everything that differs from `before` to `after` (two versions, usually of one contract)."""
    def version_fields(v):
        return {"effective_from": v.effective_from, "effective_to": v.effective_to, "title": v.title,
                "title_en": v.title_en, "jurisdiction": v.jurisdiction, "regions": v.regions, "notes": v.notes}

    def doc(d):
        return {"number": d.number, "title": d.title, "issuer": d.issuer, "date": d.date}

    tables = Section(added=[{"name": n, "title": t.title} for n, t in after.tables.items() if n not in before.tables],
                     removed=[{"name": n, "title": t.title} for n, t in before.tables.items() if n not in after.tables],
                     changed=[d for n, t in after.tables.items() if n in before.tables
                              and (d := _table_diff(before.tables[n], t))])
    code_sets = Section(
        added=[{"name": n, "title": c.title} for n, c in after.code_sets.items() if n not in before.code_sets],
        removed=[{"name": n, "title": c.title} for n, c in before.code_sets.items() if n not in after.code_sets],
        changed=[d for n, c in after.code_sets.items() if n in before.code_sets
                 and (d := _code_set_diff(before.code_sets[n], c))])
    return ContractDiff(
        before, after, changes(version_fields(before), version_fields(after)),
        documents=_section(before.documents, after.documents, doc, lambda d: {"id": d.id, **doc(d)}),
        rules=_section({r.id: r for r in before.rules}, {r.id: r for r in after.rules}, _rule_fields, _rule_record),
        not_encoded=_section({n.id: n for n in before.not_encoded}, {n.id: n for n in after.not_encoded},
                             _not_encoded_fields, lambda n: {"id": n.id, **_not_encoded_fields(n)}),
        code_sets=code_sets, tables=tables)
