"""`claimcheck contracts diff` as text for a policy expert: + added, - removed, ~ changed,
every record with its id, title and source; table rows with their source_row."""
from __future__ import annotations

import json

NAMES = {"documents": "Documents", "rules": "Rules", "not_encoded": "Not encoded", "code_sets": "Code sets",
         "tables": "Reference tables"}


def _value(v) -> str:
    if v is None or v == []:
        return "(none)"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _changes(changes, indent="      ") -> list[str]:
    """One line per changed field; a list (notes, codes, regions) as its items added and removed."""
    out = []
    for c in changes:
        old, new = c["before"], c["after"]
        if isinstance(old, list) or isinstance(new, list):
            old, new = old or [], new or []
            out += [f"{indent}{c['field']} + {_value(x)}" for x in new if x not in old]
            out += [f"{indent}{c['field']} - {_value(x)}" for x in old if x not in new]
            if sorted(map(str, old)) == sorted(map(str, new)):
                out.append(f"{indent}{c['field']}: reordered")
        else:
            out.append(f"{indent}{c['field']}: {_value(old)} → {_value(new)}")
    return out


def _source(s) -> str:
    return f"{s['document']} {s['section']}「{s['quote']}」"


def _row(row: dict) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in row.items() if k != "source_row")


def _counts(c: dict) -> str:
    parts = [f"{n} {what}" for what, n in c.items() if n]
    return ", ".join(parts) if parts else "no change"


def render_diff(d: dict) -> str:
    """Text of a ContractDiff.to_dict()."""
    a, b = d["from"], d["to"]
    span = lambda v: f"{v['effective_from']} … {v['effective_to'] or 'open'}"  # noqa: E731
    out = [f"{a['contract']} {a['version']} → {b['contract']} {b['version']}",
           f"  {a['version']:<8} {span(a):<25} {a['title']}  [{a['file']}]",
           f"  {b['version']:<8} {span(b):<25} {b['title']}  [{b['file']}]",
           f"  changes in force from {d['in_force_from']}", ""]
    out.append("Version: " + ("no change" if not d["version"] else f"{len(d['version'])} field(s) changed"))
    out += _changes(d["version"], "  ~ ")
    for s in ("documents", "rules", "not_encoded", "code_sets", "tables"):
        sec = d[s]
        out += ["", f"{NAMES[s]}: {_counts(d['summary'][s])}"]
        for x in sec["added"]:
            out.append(f"  + {_title(s, x)}")
            out += _detail(s, x)
        for x in sec["removed"]:
            out.append(f"  - {_title(s, x)}")
            out += _detail(s, x)
        for x in sec["changed"]:
            out.append(f"  ~ {_title(s, x)}")
            out += _changed(s, x)
    return "\n".join(out)


def _title(section: str, x: dict) -> str:
    if section == "documents":
        return f"{x.get('id', '')} {x.get('number', '')} {x['title']}".strip()
    if section in ("code_sets", "tables"):
        return f"{x['name']} ({x['title']})"
    return f"{x['id']} — {x['title']}"


def _detail(section: str, x: dict) -> list[str]:
    lines = []
    if section == "rules":
        lines += [f"      {x['kind']}, {x['severity']}", f"      source {_source(x['source'])}"]
    elif section == "not_encoded":
        lines += [f"      reason {x['reason']}", f"      source {_source(x['source'])}"]
    elif section == "documents":
        lines.append(f"      issued by {x['issuer']}" + (f", {x['date']}" if x.get("date") else ""))
    return lines


def _changed(section: str, x: dict) -> list[str]:
    lines = _changes(x.get("changes", []))
    if section == "code_sets":
        for attr in ("codes", "prefixes", "except_codes"):
            if x[f"{attr}_added"]:
                lines.append(f"      {attr} added: {', '.join(x[f'{attr}_added'])}")
            if x[f"{attr}_removed"]:
                lines.append(f"      {attr} removed: {', '.join(x[f'{attr}_removed'])}")
    if section == "tables":
        n = (len(x["rows_added"]), len(x["rows_removed"]), len(x["rows_changed"]))
        if any(n):
            lines.append(f"      rows by {x['key']}: {n[0]} added, {n[1]} removed, {n[2]} changed")
        lines += [f"      + {r.get('source_row')}: {_row(r)}" for r in x["rows_added"]]
        lines += [f"      - {r.get('source_row')}: {_row(r)}" for r in x["rows_removed"]]
        for r in x["rows_changed"]:
            lines.append(f"      ~ {r['source_row']}: " + "; ".join(
                f"{c['field']} {_value(c['before'])} → {_value(c['after'])}" for c in r["changes"]))
            lines.append(f"          now: {_row(r['row'])}")
    return lines
