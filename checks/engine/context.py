"""What a kind needs to write its query: scope predicates, table names, the finding row shape."""
from __future__ import annotations

from ..kinds._common import lit, q

KEYS = ["mdtrt_id", "feedetl_sn", "psn_no", "fixmedins_code", "fixmedins_name", "hilist_code", "hilist_name",
        "fee_ocur_time"]
# the columns every kind's query returns, in this order
FINDING_COLUMNS = ["_file", "_row", *KEYS, "expected", "actual", "amount", "ref", "related"]


def regions_pred(a: str, prefixes: list[str]) -> str:
    return "(" + " OR ".join(f"starts_with({a}.mdtrtarea_admvs, {lit(p)})" for p in prefixes) + ")"


def version_scope(a: str, contract) -> str:
    """The lines a contract version is in force for: its jurisdiction and its dates."""
    parts = [regions_pred(a, contract.regions), f"{a}.fee_date >= DATE '{contract.effective_from.isoformat()}'"]
    if contract.effective_to:
        parts.append(f"{a}.fee_date <= DATE '{contract.effective_to.isoformat()}'")
    return " AND ".join(parts)


class RuleContext:
    def __init__(self, rule, contract, table_names: dict[str, str], fields: set[str] | frozenset = frozenset(),
                 history: bool = False):
        self.rule = rule
        self.contract = contract
        self._tables = table_names
        self.fields = fields  # claim fields the batch has
        self.history = history  # a ledger's earlier lines are in the view `earlier`

    def counted(self, per: list[str]) -> str:
        """The lines a count per `per` runs over: the batch's, plus the ledger's earlier lines of
        the keys the batch has in this rule's scope (no other earlier line can change a count)."""
        if not self.history:
            return "lines"
        on = " AND ".join(f"e.{q(c)} = k.{q(c)}" for c in per)
        keys = ", ".join(f"k.{q(c)}" for c in per)
        return (f"(SELECT * FROM lines UNION ALL BY NAME SELECT e.* FROM earlier e SEMI JOIN "
                f"(SELECT DISTINCT {keys} FROM lines k WHERE {self.scope('k')}) k ON {on})")

    def table(self, name: str) -> str:
        return self._tables[name]

    def base(self, a: str) -> str:
        """Jurisdiction and (except for window rules) the version's effective dates."""
        if self.rule.impl.window_rule:
            return regions_pred(a, self.contract.regions)
        return version_scope(a, self.contract)

    def codes(self, a: str, names: list[str]) -> str:
        """Lines billing a code of any of the named code sets (each minus its exceptions)."""
        sets = []
        for n in names:
            cs = self.contract.code_sets[n]
            parts = []
            if cs.codes:
                parts.append(f"{a}.hilist_code IN ({', '.join(lit(c) for c in sorted(set(cs.codes)))})")
            parts += [f"starts_with({a}.hilist_code, {lit(p)})" for p in sorted(set(cs.prefixes))]
            pred = "(" + " OR ".join(parts) + ")"
            if cs.except_codes:
                pred = (f"({pred} AND {a}.hilist_code NOT IN "
                        f"({', '.join(lit(c) for c in sorted(set(cs.except_codes)))}))")
            sets.append(pred)
        return "(" + " OR ".join(sets) + ")" if sets else "FALSE"

    def scope(self, a: str) -> str:
        """Every condition that makes a line one this rule judges."""
        r = self.rule
        parts = [self.base(a)]
        if r.regions:
            parts.append(regions_pred(a, r.regions))
        if r.except_regions:
            parts.append("NOT " + regions_pred(a, r.except_regions))
        if r.codes:
            parts.append(self.codes(a, r.codes))
        if r.when is not None:
            parts.append(f"coalesce({r.when.sql(a)}, FALSE)")
        extra = r.impl.applies(self, a)
        if extra:
            parts.append(extra)
        return "(" + " AND ".join(parts) + ")"

    @staticmethod
    def key_struct(a: str) -> str:
        return "struct_pack(" + ", ".join(f"{c} := {a}.{c}" for c in ["_file", "_row", *KEYS]) + ")"

    @staticmethod
    def finding(a: str, expected: str, actual: str, amount: str, ref: str = "NULL",
                related: str = "NULL") -> str:
        keys = ", ".join(f"{a}.{q(c)}" for c in ["_file", "_row", *KEYS])
        return (f"{keys}, CAST({expected} AS VARCHAR) AS expected, CAST({actual} AS VARCHAR) AS actual, "
                f"CAST({amount} AS DOUBLE) AS amount, CAST({ref} AS VARCHAR) AS ref, "
                f"CAST({related} AS VARCHAR) AS related")
