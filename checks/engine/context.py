"""What a rule kind needs to write its queries: scope, judgeability, lookups, the finding row.

A line is *in scope* of a rule when it lies in the rule's contract version (jurisdiction and
dates; window rules: jurisdiction only), its regions, its codes, its `when` is not false, and the
kind's own narrowing (e.g. an institution listed in a table) holds. It is *judgeable* when every
value the rule reads is present (not null) and its `when` could be decided. Findings come only
from lines in scope and judgeable; the engine counts the others and reports them.
"""
from __future__ import annotations

from ..claims import normal
from ..kinds._common import lit, q
from .lookups import Lookups

# the line columns every finding carries, in this order
KEYS = ["mdtrt_id", "feedetl_sn", "psn_no", "fixmedins_code", "fixmedins_name", "hilist_code", "hilist_name",
        "fee_ocur_time"]
DATED = {"valid_from", "valid_to"}  # reference-table columns: the dates a row is valid on
FINDING_COLUMNS = ["_fid", "_row", *KEYS, "expected", "actual", "amount", "ref", "related", "severity", "note"]


def regions_pred(a: str, prefixes: list[str]) -> str:
    return "(" + " OR ".join(f"starts_with({a}.mdtrtarea_admvs, {lit(p)})" for p in prefixes) + ")"


def version_scope(a: str, contract) -> str:
    """The lines a contract version is in force for: its jurisdiction and its dates."""
    parts = [regions_pred(a, contract.regions), f"{a}.fee_date >= DATE '{contract.effective_from.isoformat()}'"]
    if contract.effective_to:
        parts.append(f"{a}.fee_date <= DATE '{contract.effective_to.isoformat()}'")
    return "(" + " AND ".join(parts) + ")"


def names_pred(cs, a: str) -> str:
    """A code set's items known by name: its names (or their cut-off starts), or a line paying
    the set's amount under a name like the set's `by_amount` names."""
    parts = []
    if cs.names:
        parts.append(normal.name_like(f"{a}.hilist_name", sorted(set(cs.names))))
        if cs.names_cut_at_least:
            parts.append(normal.name_cut(f"{a}.hilist_name", sorted(set(cs.names)), cs.names_cut_at_least))
    if cs.by_amount:
        parts.append(f"(coalesce({a}.{q(cs.by_amount['column'])} > 0, FALSE) AND "
                     f"{normal.name_like(f'{a}.hilist_name', sorted(set(cs.by_amount['names'])))})")
    return "(" + " OR ".join(parts) + ")"


def lookalike_pred(cs, a: str) -> str | None:
    """Lines that look like a code set's items (its `lookalike`), whatever their code."""
    la = cs.lookalike
    if not la:
        return None
    parts = []
    if la.get("list_type"):
        parts.append(f"{a}.list_type IN ({', '.join(lit(t) for t in la['list_type'])})")
    if la.get("names"):
        parts.append(normal.name_like(f"{a}.hilist_name", sorted(set(la["names"]))))
    return "coalesce(" + " OR ".join(parts) + ", FALSE)"


def code_set_columns(contract, names) -> set[str]:
    """The claim columns a rule's code sets read besides the code (names, an amount)."""
    out = set()
    for n in names or ():
        cs = contract.code_sets[n]
        if cs.names or cs.by_amount:
            out.add("hilist_name")
        if cs.by_amount:
            out.add(cs.by_amount["column"])
        if cs.lookalike:
            out |= {"hilist_name"} | ({"list_type"} if cs.lookalike.get("list_type") else set())
    return out


def item_note(contract, rule, a: str) -> str | None:
    """Text naming the listed name a line's item was read as, where it was not that name exactly
    (a cut-off name, a name variant known by its amount); None when no code set of the rule is
    known by name."""
    sets = [contract.code_sets[n] for n in rule.codes if contract.code_sets[n].names or contract.code_sets[n].by_amount]
    if not sets:
        return None
    exact = sorted({normal.name_text(n) for cs in sets for n in cs.names if "%" not in n and "_" not in n})
    if not exact:
        return None
    codes = sorted({c for cs in sets for c in cs.codes})
    by_code = f"{a}.hilist_code IN ({', '.join(lit(c) for c in codes)})" if codes else "FALSE"
    listed = next(n for cs in sets for n in cs.names if "%" not in n and "_" not in n)
    return (f"CASE WHEN NOT coalesce({by_code}, FALSE) AND coalesce({normal.name(f'{a}.hilist_name')} NOT IN "
            f"({', '.join(lit(n) for n in exact)}), TRUE) THEN '项目名称“' || coalesce({a}.hilist_name, '') || "
            f"'”按{lit(listed)[1:-1]}认定' END")


def codes_pred(contract, a: str, names: list[str]) -> str:
    """Lines billing a code of any of the named code sets (each minus its exceptions)."""
    sets = []
    for n in names:
        cs = contract.code_sets[n]
        parts = []
        if cs.codes:
            parts.append(f"{a}.hilist_code IN ({', '.join(lit(c) for c in sorted(set(cs.codes)))})")
        parts += [f"starts_with({a}.hilist_code, {lit(p)})" for p in sorted(set(cs.prefixes))]
        if cs.names or cs.by_amount:  # items the documents name but give no code for
            parts.append(names_pred(cs, a))
        pred = "(" + " OR ".join(parts) + ")"
        if cs.except_codes:
            pred = (f"({pred} AND {a}.hilist_code NOT IN "
                    f"({', '.join(lit(c) for c in sorted(set(cs.except_codes)))}))")
        sets.append(pred)
    return "(" + " OR ".join(sets) + ")" if sets else "FALSE"


def _codes_of(contract, a: str, name: str) -> str:
    return codes_pred(contract, a, [name])


def _like_of(contract, a: str, name: str) -> str:
    return lookalike_pred(contract.code_sets[name], a)


class CodeSets:
    """Every contract's code sets as boolean columns of the engine's lines (`_cs0`, `_cs1`, …),
    computed once per line in the scan rather than once per rule that names the set: a code set
    given by names is a regular expression over the item name, and with every contract on, some
    sixty rules would each evaluate theirs on every candidate line (most of the counts stage).
    Identical sets (the same codes, prefixes, names and exceptions) share one column.

    A set that says what its items look like (`lookalike`) has a second column, `_la0`, … : whether
    a line looks like its items whatever its code (RuleContext.local_code). It reads the item name
    through a regular expression, as a set given by names does; line by line, the five Jiangsu
    consumables rules' look-alikes were 0.63 s a million lines each, nearly all the counts stage
    of a NIPT lab's batch (bench/README.md, tenth pass)."""

    def __init__(self, contracts):
        self.columns: dict[tuple[str, str], str] = {}   # (contract key, set name) -> column
        self.sets: dict[str, tuple] = {}                # column -> (predicate maker, contract, set name)
        self.likes: dict[tuple[str, str], str] = {}     # (contract key, set name) -> its look-alike column
        seen: dict[str, str] = {}                       # predicate -> column
        for c in contracts:
            for name, cs in c.code_sets.items():
                pred = codes_pred(c, "x", [name])
                if pred not in seen:
                    seen[pred] = f"_cs{len(seen)}"
                    self.sets[seen[pred]] = (_codes_of, c, name)
                self.columns[(c.key, name)] = seen[pred]
                like = lookalike_pred(cs, "x")
                if like is not None:
                    if like not in seen:
                        seen[like] = f"_la{len(seen)}"
                        self.sets[seen[like]] = (_like_of, c, name)
                    self.likes[(c.key, name)] = seen[like]

    def select(self, a: str) -> str:
        """The columns, over the lines aliased `a` (each a code set's predicate, NULL kept)."""
        return ", ".join(f"{make(c, a, n)} AS {col}" for col, (make, c, n) in self.sets.items())

    def of(self, contract) -> dict[str, str]:
        return {n: col for (k, n), col in self.columns.items() if k == contract.key}

    def likes_of(self, contract) -> dict[str, str]:
        return {n: col for (k, n), col in self.likes.items() if k == contract.key}


# what a finding names of the line it collides with: field -> its value on line {a} (the report
# shows them but fid: findings.final_sql)
RELATED = {"mdtrt_id": "{a}.mdtrt_id", "feedetl_sn": "{a}.feedetl_sn", "fee_ocur_time": "{a}.fee_ocur_time",
           "fixmedins_code": "{a}.fixmedins_code", "fixmedins_name": "{a}.fixmedins_name",
           "in_history": "NOT {a}._in_batch", "file": "{a}._file", "fid": "{a}._fid", "row": "{a}._row"}


class RuleContext:
    def __init__(self, rule, contract, table_names: dict[str, str], lookups: Lookups,
                 fields: set[str] | frozenset = frozenset(), history: bool = False, blocked: bool = False,
                 code_columns: dict[str, str] | None = None, like_columns: dict[str, str] | None = None):
        self.rule = rule
        self.contract = contract
        self._tables = table_names
        self.lookups = lookups
        self.used: list = []      # lookups this rule joins
        self.lk: dict = {}        # the kind's lookups by its own name for them
        self.fields = fields      # claim fields the batch supplies
        self.history = history    # a ledger's earlier lines are in the view `earlier`
        self.blocked = blocked    # a table it needs was not supplied: only its scope is counted
        self.source = "lines"     # every line of the batch, as SQL (set by the engine before bind())
        self.code_columns = code_columns  # {code set: its column in every source of lines} (CodeSets), or None
        self.like_columns = like_columns  # {code set: its look-alike column} (CodeSets), or None

    # -- tables and lookups --------------------------------------------------------------------
    def table(self, name: str) -> str:
        return self._tables[name]

    def lookup(self, key: str, table: str, match: list[tuple[str, str, str]], where=None,
               value: str | None = None, listing: str | None = None, any_date: bool = False):
        """Join a reference table once (called from a kind's bind()): `match` is [(claim column,
        table column, 'equal'|'prefix'|…)]. The kind reads it back as ctx.lk[key];
        `lk.col(a, 'hit'|'v'|'ref'|'listing')` is its result for line alias `a`. A table whose rows
        carry valid_from/valid_to matches only its rows valid on the line's date, unless `any_date`."""
        dated = not any_date and DATED <= set(self.contract.tables[table].columns)
        lk = self.lookups.add(self.contract, self._tables[table], match, where, value, listing, dated)
        if lk not in self.used:
            self.used.append(lk)
        self.lk[key] = lk
        return lk

    def lines(self, a: str, source: str = "lines") -> str:
        """FROM clause: the candidate lines, with this rule's lookups joined (each unique per line)."""
        return source + f" {a}" + "".join(lk.join(a) for lk in self.used)

    # -- scope -----------------------------------------------------------------------------------
    def base(self, a: str) -> str:
        """Jurisdiction and (except for window rules) the version's effective dates."""
        if self.rule.impl.window_rule:
            return regions_pred(a, self.contract.regions)
        return version_scope(a, self.contract)

    def codes(self, a: str, names: list[str]) -> str:
        if self.code_columns is not None and names:  # computed once per line (CodeSets)
            return "(" + " OR ".join(f"{a}.{self.code_columns[n]}" for n in names) + ")"
        return codes_pred(self.contract, a, names)

    def jurisdiction(self, a: str) -> str:
        """Lines in the contract's regions (any date)."""
        return regions_pred(a, self.contract.regions)

    def in_scope(self, a: str) -> str:
        """Lines this rule is about, judgeable or not."""
        r = self.rule
        if r.missing_optional(self.fields):  # a refinement on a column the batch lacks: not about it
            return "FALSE"
        parts = [self.base(a)]
        if r.regions:
            parts.append(regions_pred(a, r.regions))
        if r.except_regions:
            parts.append("NOT " + regions_pred(a, r.except_regions))
        if r.codes:
            parts.append(self.codes(a, r.codes))
        if r.when is not None:
            parts.append(f"coalesce({r.when.sql(a)}, TRUE)")
        extra = None if self.blocked else r.impl.applies(self, a)
        if extra:
            parts.append(extra)
        return "(" + " AND ".join(parts) + ")"

    def local_code(self, a: str) -> str | None:
        """Lines the rule would be about but for their code: like its code sets' items (`lookalike`)
        and in its scope otherwise, carrying none of its codes (a hospital's local code). They are
        counted as not judged, never silently skipped; None when no code set says what its items
        look like."""
        r = self.rule
        if self.like_columns is not None:  # computed once per item (CodeSets)
            like = [f"{a}.{self.like_columns[n]}" for n in (r.codes or ()) if n in self.like_columns]
        else:
            like = [x for x in (lookalike_pred(self.contract.code_sets[n], a) for n in (r.codes or ())) if x]
        if not like or r.missing_optional(self.fields):
            return None
        coded = []  # a national code of the set, its exceptions included (judged by another contract)
        for n in r.codes:
            cs = self.contract.code_sets[n]
            listed = sorted(set(cs.codes) | set(cs.except_codes))
            if listed:
                coded.append(f"{a}.hilist_code IN ({', '.join(lit(c) for c in listed)})")
            coded += [f"starts_with({a}.hilist_code, {lit(x)})" for x in sorted(set(cs.prefixes))]
        parts = [self.base(a), "(" + " OR ".join(like) + ")"]
        if coded:
            parts.append(f"NOT coalesce({' OR '.join(coded)}, FALSE)")
        if r.regions:
            parts.append(regions_pred(a, r.regions))
        if r.except_regions:
            parts.append("NOT " + regions_pred(a, r.except_regions))
        if r.when is not None:
            parts.append(f"coalesce({r.when.sql(a)}, TRUE)")
        return "(" + " AND ".join(parts) + ")"

    def needs(self) -> list[str]:
        """The columns whose value a line must have to be judged."""
        r = self.rule
        cols = set(r.impl.columns()) | (set(r.when.columns) if r.when is not None else set())
        return sorted(cols)

    def judgeable(self, a: str) -> str:
        impl = self.rule.impl  # `when` needs no column of its own: only that it can be decided
        parts = [f"{a}.{q(c)} IS NOT NULL" for c in sorted(impl.columns()) if c not in impl.nullable_columns()]
        if self.rule.when is not None:
            parts.append(f"({self.rule.when.sql(a)}) IS NOT NULL")
        extra = self.rule.impl.judgeable(self, a)
        if extra:
            parts.append(extra)
        return "(" + " AND ".join(parts) + ")" if parts else "TRUE"

    def scope(self, a: str) -> str:
        """Lines this rule judges: in scope and judgeable."""
        return f"({self.in_scope(a)} AND {self.judgeable(a)})"

    # -- counting across batches -----------------------------------------------------------------
    def counted(self, per: list[str]) -> str:
        """The lines a count per `per` runs over: the batch's, plus the ledger's earlier lines of
        the keys the batch has in this rule's scope (no other earlier line can change a count)."""
        if not self.history:
            return "lines"
        on = " AND ".join(f"e.{q(c)} = k.{q(c)}" for c in per)
        keys = ", ".join(f"k.{q(c)}" for c in per)
        cols = "*"
        return (f"(SELECT {cols} FROM lines UNION ALL BY NAME SELECT e.* FROM earlier e WHERE EXISTS "
                f"(SELECT 1 FROM (SELECT DISTINCT {keys} FROM lines k WHERE {self.in_scope('k')}) k WHERE {on}))")

    # -- the finding row -------------------------------------------------------------------------
    def finding(self, a: str, expected: str, actual: str, amount: str, ref: str = "NULL",
                related: str = "NULL", severity: str | None = None, severity_sql: str | None = None,
                note: str = "NULL") -> str:
        """One finding row; `severity` (a literal) or `severity_sql` (an expression, per row)
        replaces the rule's own; `note` (an expression) replaces the kind's message (a finding
        about the data rather than the rule, e.g. a key no count can use)."""
        keys = ", ".join(f"{a}.{q(c)}" for c in ["_fid", "_row", *KEYS])
        sev = severity_sql or lit(severity or self.rule.severity)
        ref = self.matched_note(a, ref)
        return (f"{keys}, CAST({expected} AS VARCHAR) AS expected, CAST({actual} AS VARCHAR) AS actual, "
                f"CAST({amount} AS DOUBLE) AS amount, CAST({ref} AS VARCHAR) AS ref, "
                f"CAST({related} AS VARCHAR) AS related, {sev} AS severity, CAST({note} AS VARCHAR) AS note")

    def matched_note(self, a: str, ref: str) -> str:
        """A finding resting on a name that was not exactly a listed one says so beside its
        citation: an institution read from a bracketed second name or a cut-off name
        (engine/identity.py), or, for a rule priced from the table listing the institutions, an
        institution not matched at all; an item read from a cut-off or variant name."""
        r = self.rule
        notes = []
        inst = self.contract.institutions
        reads = set(r.impl.reads()) | (set(r.when.columns) if r.when is not None else set())
        listing = inst is not None and inst.names[0] in r.impl.tables()
        if "institution" in reads or listing:
            name = f"coalesce({a}.fixmedins_name, '')"
            # a scope rule matching on institution says "not matched" in its own message
            unmatched = (f" WHEN {a}.institution_via IS NULL THEN '机构名称“' || {name} || '”未匹配所列机构及其别名'"
                         if listing and r.kind != "scope" else "")
            notes.append(f"CASE WHEN {a}.institution_via = 'bracket' THEN '机构名称“' || {name} || "
                         f"'”按括注名称认定为 ' || {a}.institution WHEN {a}.institution_via = 'prefix' THEN "
                         f"'机构名称“' || {name} || '”（' || CAST(length({name}) AS VARCHAR) || "
                         f"' 字，疑为字段长度截断）按前缀认定为 ' || {a}.institution{unmatched} END")
        item = item_note(self.contract, r, a) if r.codes else None
        if item:
            notes.append(item)
        if not notes:
            return ref
        return (f"CASE WHEN {' OR '.join(f'({n}) IS NOT NULL' for n in notes)} "
                f"THEN concat_ws('；', CAST({ref} AS VARCHAR), {', '.join(notes)}) ELSE {ref} END")

    @staticmethod
    def related(a: str) -> str:
        """Line `a`, the line a finding collides with, as a struct of what the finding names: carried
        through a window or an aggregate as it is, and written as JSON (`related_json`) on the
        findings alone. (Written as JSON on every line a window passes, it cost the frequency
        rules some 10% of their time.)"""
        return f"struct_pack({', '.join(f'{k} := {v.format(a=a)}' for k, v in RELATED.items())})"

    @staticmethod
    def related_json(s: str) -> str:
        """The JSON a finding's `related` holds, of a `related` struct `s` (a column), its time as text."""
        fields = (f"{k} := strftime({s}.{k}, '%Y-%m-%dT%H:%M:%S')" if k == "fee_ocur_time" else f"{k} := {s}.{k}"
                  for k in RELATED)
        return f"to_json(struct_pack({', '.join(fields)}))"

    @staticmethod
    def name(sql: str) -> str:
        return normal.name(sql)
