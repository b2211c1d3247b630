"""Terminal views of the contracts: `claimcheck contracts list` and `claimcheck explain RULE_ID`."""
from __future__ import annotations

import sys

import yaml


def _dates(v) -> str:
    return f"{v.effective_from} … {v.effective_to or 'open'}"


def render_list(versions) -> str:
    """Every version (dates, jurisdiction), then its rules, each with its CONTRACT@VERSION."""
    width = max((len(v.key) for v in versions), default=0)
    idw = max((len(x.id) for v in versions for x in [*v.rules, *v.not_encoded]), default=0)
    out = []
    for v in versions:
        out.append(f"{v.id} {v.version}  {_dates(v)}  {v.jurisdiction} ({', '.join(v.regions)})  {v.title}")
        for r in v.rules:
            out.append(f"  {v.key:<{width}}  {r.id:<{idw}}  {r.kind:<14} {r.severity:<9} {r.title}")
        for n in v.not_encoded:
            out.append(f"  {v.key:<{width}}  {n.id:<{idw}}  {'not encoded':<14} {'':<9} {n.title}")
    return "\n".join(out)


def _source(s) -> str:
    return f"source     {s.document.number} {s.section}\n           {s.document.title}\n           「{s.quote}」"


def render_entry(entry) -> str:
    """A lookup.Entry: an encoded rule in full, or a not-encoded one with its reason."""
    if entry.rule is not None:
        return render_rule(entry.contract, entry.rule)
    v, n = entry.contract, entry.not_encoded
    return "\n".join([
        f"{n.id} — {n.title}",
        f"address    {entry.address}",
        f"contract   {v.id} {v.version} ({_dates(v)}), {v.jurisdiction} {', '.join(v.regions)}  [{v.file}:{n.line}]",
        "status     not encoded: claimcheck does not check this rule; the policy states it",
        f"reason     {n.reason}",
        _source(n.source),
    ])


def render_rule(v, r) -> str:
    kind_doc = (sys.modules[type(r.impl).__module__].__doc__ or "").strip().split("\n")[0]
    lines = [
        f"{r.id} — {r.title}",
        f"  {r.title_en}",
        f"address    {v.id}/{r.id}@{v.version}",
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
    lines.append(_source(r.source))
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


def rule_sql(v, r) -> str:
    """The query the DuckDB engine runs for rule `r` of version `v` over the claim lines (`lines`,
    one row per fee line with the derived fields; reference tables as `ref_N`), exactly as run.
    For auditors and contract authors: reports say the same in words."""
    import textwrap

    from ..engine.context import RuleContext
    from ..engine.plan import table_names
    from ..engine.lookups import Lookups

    names = {t: n for (_, t), n in table_names([v]).items()}
    ctx = RuleContext(r, v, names, Lookups())
    r.impl.bind(ctx)
    return textwrap.dedent(r.impl.findings(ctx)).strip()
