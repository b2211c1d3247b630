"""Terminal views of the contracts: `claimcheck contracts list` and `claimcheck explain RULE_ID`."""
from __future__ import annotations

import sys

import yaml


def _dates(v) -> str:
    return f"{v.effective_from} … {v.effective_to or 'open'}"


def render_list(versions) -> str:
    out = []
    for v in versions:
        out.append(f"{v.id} {v.version}  {_dates(v)}  {v.jurisdiction} ({', '.join(v.regions)})  {v.title}")
        for r in v.rules:
            out.append(f"  {r.id:<16} {r.kind:<14} {r.severity:<9} {r.title}")
        for n in v.not_encoded:
            out.append(f"  {n.id:<16} {'not encoded':<14} {'':<9} {n.title}")
    return "\n".join(out)


def render_rule(v, r) -> str:
    kind_doc = (sys.modules[type(r.impl).__module__].__doc__ or "").strip().split("\n")[0]
    lines = [
        f"{r.id} — {r.title}",
        f"  {r.title_en}",
        f"contract   {v.id} {v.version} ({_dates(v)}), {v.jurisdiction} {', '.join(v.regions)}  [{v.file}:{r.line}]",
        f"kind       {r.kind}: {kind_doc}",
        f"severity   {r.severity}",
    ]
    if r.codes:
        lines.append("codes      " + "; ".join(f"{n} ({v.code_sets[n].title})" for n in r.codes))
    if r.regions or r.except_regions:
        lines.append(f"regions    {', '.join(r.regions) or 'all'}" +
                     (f" except {', '.join(r.except_regions)}" if r.except_regions else ""))
    if r.when is not None:
        lines.append(f"when       {r.when.text}")
    if r.supersedes:
        lines.append(f"supersedes {', '.join(r.supersedes)}")
    params = yaml.safe_dump(r.params, allow_unicode=True, sort_keys=False, default_flow_style=False).rstrip()
    lines.append("params\n" + "\n".join("  " + p for p in params.splitlines()))
    s = r.source
    lines.append(f"source     {s.document.number} {s.section}\n           {s.document.title}\n           「{s.quote}」")
    for n in r.notes:
        lines.append(f"note       {n}")
    for k, ex in enumerate(r.examples):
        lines.append(f"example {k + 1}  {ex['verdict']}" + (f" — {ex['note']}" if ex.get("note") else ""))
        for ln in ex["lines"]:
            lines.append("           " + (", ".join(f"{a}={b}" for a, b in ln.items()) or "(the defaults)"))
    return "\n".join(lines)


def render_functions() -> str:
    """The condition language (`when:`, `where:`, `require:`…), from the registry that validates it."""
    from ..expr import FUNCTION_SPECS, OPERATORS

    out = ["Functions a condition may call (nothing else may be called):", ""]
    for f in sorted(FUNCTION_SPECS, key=lambda f: f.name):
        kind = "ours" if f.template else "DuckDB"
        out.append(f"  {f.signature:<34} arity {f.arity:<10} {f.description} ({kind})")
        out.append(f"  {'':<34} e.g.  {f.example}" + (f"   also spelt: {', '.join(f.aliases)}" if f.aliases else ""))
    out += ["", "Operators and literals:", ""]
    for o in OPERATORS:
        out.append(f"  {o.syntax:<52} arity {o.arity:<12} {o.description}")
        out.append(f"  {'':<52} e.g.  {o.example}" + (f"   also spelt: {', '.join(o.aliases)}(…)" if o.aliases else ""))
    out += ["", "Columns are the claim fields (see the README's field list); a column of a reference table "
                "in a lookup's where:. Sub-queries, statements and other functions are refused when the contract loads."]
    return "\n".join(out)
