"""What `claimcheck export gx` writes for one contract version, before any Great Expectations
object is made: per exported rule its expectations, each with the pandas row condition selecting
the lines claimcheck judges for the rule; the helper columns they read; the rules not exported,
each with the reason. No Great Expectations import: frame.py plans again to compute the frame.

A rule's row condition is the line's scope and judgeability as the engine defines them
(checks/engine/context.py): the version's jurisdiction (mdtrtarea_admvs prefixes) and dates (fee
date within effective_from … effective_to; window rules judge every date), the rule's regions and
except_regions, code sets (codes, prefixes, names, exceptions), `when` TRUE (NULL: in scope but
not judged), every value the kind needs present, an optional column it refines on supplied at
all, the kind's own narrowing (its applies() and judgeable() SQL, as a helper column) and — for
a rule another rule supersedes — "not where the superseding rule finds the line".
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..claims import money
from .gx_context import Context, Expect, NotExportable, Translation
from .gx_kinds import translate
from .pandas_query import Unsupported, conjunction

KEYS = ["mdtrt_id", "feedetl_sn"]
TIME_ZONE = "Asia/Shanghai"


@dataclass
class RulePlan:
    rule: object
    expectations: list[Expect]  # each condition: the whole row condition


@dataclass
class VersionPlan:
    contract: object
    ctx: Context
    exported: list[RulePlan] = field(default_factory=list)
    not_exportable: list[dict] = field(default_factory=list)

    @property
    def tables_supplied(self) -> list[str]:
        return sorted(t.name for t in self.contract.tables.values() if t.supplied_by_user and t.data is not None)

    def frame_spec(self) -> dict:
        """What the frame must hold (compared by frame.prepare with the suite it is given)."""
        return {"contract_id": self.contract.id, "version": self.contract.version,
                "tables_supplied": self.tables_supplied, "time_zone": TIME_ZONE,
                "columns": dict(sorted(self.ctx.columns.items())),
                "helpers": [h.as_dict() for h in self.ctx.helpers.values()]}


DERIVED = {
    "fee_date": "the calendar date of fee_ocur_time in China time (claimcheck's fee_date)",
    "inpolicy_amt": "政策范围内金额 incl. 先行自付, as claimcheck derives it (checks/claims/money.py): "
                    "round(det_item_fee_sumamt − fulamt_ownpay_amt − overlmt_amt, 2) when the three are given and "
                    "the line's parts add up under a convention; else inscp_scp_amt (+ preselfpay_amt under the "
                    "file's convention 'excl'); NULL where it cannot be known. SQL: "
                    + money.inpolicy(lambda n: f"l.{n}", "l._conv", "f.convention"),
    "institution": "the institution the contract's identity resolves the line to (checks/engine/identity.py): "
                   "the user's crosswalk by fixmedins_code, else the canonical name or an alias equal to the "
                   "normalised fixmedins_name, in the contract's jurisdiction; else the printed name normalised",
    "institution_via": "how institution was found: 'code', 'alias', 'name', or NULL (nothing matched)",
}
FILE_CONVENTION = ("a file's money convention ('excl', 'incl', mixed or unknown) is decided over the lines the "
                   "contract's rules read (every version's code sets in its jurisdiction), as `claimcheck check "
                   "--contracts <this contract>` decides it; give prepare() one table per claim file")


def plan_contracts(contracts) -> list[VersionPlan]:
    newest_window = {}
    for c in contracts:  # loaded in date order per contract: the last one defining a window rule judges it
        for r in c.rules:
            if r.impl.window_rule:
                newest_window[(c.id, r.id)] = c.version
    return [plan_version(c, newest_window) for c in contracts]


def plan_version(c, newest_window: dict) -> VersionPlan:
    ctx = Context(c)
    ctx.use(*KEYS, "mdtrtarea_admvs", "fee_ocur_time")
    done: dict[str, tuple[Translation, str]] = {}
    reasons: dict[str, str] = {}
    try:
        for r in c.rules:
            kept = dict(ctx.helpers), dict(ctx.columns), dict(ctx._by_sql)
            try:
                not_run_by_claimcheck(c, r, newest_window)
                t = translate(r, ctx)
                done[r.id] = (t, rule_scope(ctx, c, r))
            except (NotExportable, Unsupported) as e:
                reasons[r.id] = str(e) if isinstance(e, NotExportable) else f"its scope has no pandas form: {e}"
                ctx.helpers, ctx.columns, ctx._by_sql = kept  # no helper column for a rule not exported
    finally:
        ctx.close()
    out = VersionPlan(c, ctx)
    for r in c.rules:
        if r.id in done:
            t, scope = done[r.id]
            try:
                scope = conjunction([scope, *superseded_by(c, r, done, reasons)])
            except NotExportable as e:
                reasons[r.id] = str(e)
        if r.id in reasons:
            out.not_exportable.append({"rule_id": r.id, "kind": r.kind, "severity": r.severity, "title": r.title,
                                       "reason": reasons[r.id], "source": r.source.as_dict()})
            continue
        out.exported.append(RulePlan(r, [Expect(e.type, e.kwargs, e.what, conjunction([scope, e.condition]),
                                                e.severity) for e in t.expectations]))
    return out


def not_run_by_claimcheck(c, r, newest_window) -> None:
    """Rules claimcheck itself does not run in this version are not exported either."""
    for t in r.impl.tables():
        if c.tables[t].data is None:
            raise NotExportable(c.tables[t].missing_reason())
    if r.impl.window_rule and newest_window[(c.id, r.id)] != c.version:
        raise NotExportable(f"judged by the newest version defining {r.id} ({newest_window[(c.id, r.id)]}), "
                            "as claimcheck does when the versions are checked together")


def superseded_by(c, r, done, reasons) -> list[str]:
    """Conditions dropping the lines a superseding rule finds (claimcheck drops those findings)."""
    out = []
    for s in c.rules:
        if r.id not in s.supersedes:
            continue
        if s.id in reasons or done[s.id][0].fails is None:
            raise NotExportable(f"its findings are dropped where {s.id} (which supersedes it) finds the same "
                                f"line, and {s.id} is not exportable ({reasons.get(s.id, 'no pandas condition')})")
        t, scope = done[s.id]
        out.append(f"~(({scope}) & {t.fails})")
    return out


def regions(ctx, prefixes) -> str:
    ctx.use("mdtrtarea_admvs")
    return " | ".join(f"mdtrtarea_admvs.str.startswith({p!r}, na=False)" for p in prefixes)


def codes(ctx, c, names) -> str:
    """Lines billing a code of the named code sets (engine/context.py codes_pred, NULL as false)."""
    ctx.use("hilist_code")
    sets = []
    for n in names:
        cs = c.code_sets[n]
        parts = [f"(hilist_code in {sorted(set(cs.codes))!r})"] if cs.codes else []
        parts += [f"hilist_code.str.startswith({p!r}, na=False)" for p in sorted(set(cs.prefixes))]
        if cs.names or cs.by_amount:
            parts.append(f"({ctx.names(cs)} == True)")
        pred = "(" + " | ".join(parts) + ")"
        if cs.except_codes:
            pred = f"({pred} & (hilist_code == hilist_code) & (hilist_code not in {sorted(set(cs.except_codes))!r}))"
        sets.append(pred)
    return " | ".join(sets)


def rule_scope(ctx, c, r) -> str:
    parts = [f"({ctx.supplied(col)} == True)" for col in r.optional_columns]
    parts.append(regions(ctx, c.regions))
    if not r.impl.window_rule:
        parts.append(f"fee_date >= {c.effective_from.isoformat()!r}")
        if c.effective_to:
            parts.append(f"fee_date <= {c.effective_to.isoformat()!r}")
    if r.regions:
        parts.append(regions(ctx, r.regions))
    if r.except_regions:
        parts.append(f"~({regions(ctx, r.except_regions)})")
    if r.codes:
        parts.append(codes(ctx, c, r.codes))
    if r.when is not None:
        parts.append(ctx.q.true(r.when._tree))
    impl = r.impl
    needed = sorted(set(impl.columns()) - set(impl.nullable_columns()))
    ctx.use(*needed)
    parts += [f"{col}.notna()" for col in needed]
    rc = ctx.rule_context(r)
    own = [s for s in (impl.applies(rc, "l"), impl.judgeable(rc, "l")) if s]
    if own:
        sql = "coalesce(" + " AND ".join(f"({s})" for s in own) + ", FALSE)"
        h = ctx.helper(f"judged_{r.id}", sql, f"{r.id}: the {r.kind} kind's own narrowing of the lines it judges "
                                              "(its applies() and judgeable() SQL)")
        parts.append(f"({h} == True)")
    return conjunction(parts)
