"""What a rule's translation into GX expectations works with: the expectations themselves, the
helper columns they read, reference-table rows, and the engine's own rule contexts. Plain data
and DuckDB; Great Expectations is not imported here (gx.py turns the result into GX objects).

A helper column is DuckDB SQL over one normalised claim line `l` (the engine's `lines`, with the
rule's reference-table lookups joined), written by the engine's own builders: the kinds' scope
and limit SQL, checks.expr for condition values, checks.claims.normal for names. frame.py
evaluates them before validation, so a helper holds exactly the value claimcheck compares.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlglot import exp

from .. import expr as expr_mod
from ..claims import normal
from ..duck import connect
from ..claims.fields import COLUMNS
from ..engine.context import RuleContext, names_pred
from ..engine.lookups import Lookups
from ..kinds._common import q
from .pandas_query import Translator, strip

SEP = "\x1f"  # joins the values of a multi-column match into one key (no claim value holds it)


class NotExportable(Exception):
    """The rule (or a part of it) has no faithful GX form; the message says why."""


@dataclass
class Expect:
    type: str                # GX expectation type, e.g. expect_column_values_to_be_between
    kwargs: dict
    what: str                # what this expectation checks, in words
    condition: str = ""      # pandas condition narrowing the rule's scope for this part
    severity: str | None = None  # the severity of its findings when not the rule's own


@dataclass
class Translation:
    expectations: list[Expect]
    fails: str | None = None  # pandas condition true exactly on the rule's findings among the lines it judges


@dataclass(frozen=True)
class Helper:
    name: str
    sql: str          # DuckDB SQL over line `l`; for op 'supplied' the claim column
    definition: str
    op: str = "sql"   # 'sql': evaluated per line; 'supplied': TRUE when the frame holds a value of the column

    def as_dict(self) -> dict:
        return {"name": self.name, "op": self.op, "sql": self.sql, "definition": self.definition}


def slug(text: str) -> str:
    return re.sub(r"\W", "_", text, flags=re.ASCII)


def table_names(contract) -> dict[str, str]:
    """The names the reference tables are registered under, at export and before validation."""
    return {t: f"ref_{slug(t)}" for t in contract.tables}


def sub_expr(node) -> expr_mod.Expr:
    """A part of a parsed condition as a condition of its own (rendered by the engine's SQL)."""
    cols = frozenset(c.name for c in node.find_all(exp.Column))
    return expr_mod.Expr(node.sql(dialect="duckdb"), cols, node)


@dataclass
class Context:
    """One contract version's export: the helper columns and the claim columns it reads."""

    contract: object
    helpers: dict[str, Helper] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.q = Translator(self)
        self.lookups = Lookups()
        self.rule_contexts: dict[str, RuleContext] = {}
        self._by_sql: dict[tuple, str] = {}
        self._con = None

    # ---- columns and helpers ---------------------------------------------------------
    def use(self, *cols: str) -> None:
        for c in cols:
            if c in COLUMNS:
                self.columns[c] = COLUMNS[c].family

    def helper(self, prefix: str, sql: str, definition: str, op: str = "sql") -> str:
        """The name of a helper column holding `sql` (one column per distinct SQL)."""
        key = (op, sql)
        if key in self._by_sql:
            return self._by_sql[key]
        name, n = f"cc_{slug(prefix)}", 1
        while name in self.helpers:
            n += 1
            name = f"cc_{slug(prefix)}_{n}"
        self.helpers[name] = Helper(name, sql, definition, op)
        self._by_sql[key] = name
        return name

    def value_column(self, node) -> str:
        """A column holding the value of a condition-language expression: itself if a column,
        else a helper column computed by the engine's SQL for it."""
        node = strip(node)
        if isinstance(node, exp.Column):
            self.use(node.name)
            return node.name
        e = sub_expr(node)
        self.use(*e.columns)
        return self.helper(f"expr_{len(self.helpers) + 1}", e.sql("l"), f"{e.text}, as claimcheck computes it")

    def bool_column(self, node) -> str:
        """A helper column holding the truth value (TRUE, FALSE or NULL) of a condition part
        that has no pandas form of its own (e.g. LIKE)."""
        e = sub_expr(strip(node))
        self.use(*e.columns)
        return self.helper(f"cond_{len(self.helpers) + 1}", e.sql("l"),
                           f"whether {e.text} (TRUE, FALSE or NULL), as claimcheck computes it")

    def supplied(self, col: str) -> str:
        self.use(col)
        return self.helper(f"supplied_{col}", col, f"TRUE when the claim lines hold a value of {col} at all "
                           "(claimcheck treats a column empty on every line as absent: a refinement on it does not "
                           "apply)", op="supplied")

    def names(self, code_set) -> str:
        """A helper: the line's hilist_name matches one of a code set's name patterns."""
        self.use("hilist_name")
        if code_set.by_amount:
            self.use(code_set.by_amount["column"])
        return self.helper(f"names_{code_set.name}", names_pred(code_set, "l"),
                           f"hilist_name matches a name of code set {code_set.name} ({', '.join(code_set.names)}), "
                           "compared as claimcheck compares names (full-width folded, brackets unified, no spaces "
                           "or punctuation, any case)")

    def claim_value(self, col: str) -> str:
        """The column of a claim value as reference tables are compared with it (names normalised)."""
        self.use(col)
        if COLUMNS[col].family == "text" and col != "institution":
            return self.helper(f"name_{col}", normal.name(f"l.{q(col)}"),
                               f"{col} as names are compared (no spaces, half-width brackets)")
        return col

    # ---- the engine's view of a rule -----------------------------------------------------
    def rule_context(self, rule) -> RuleContext:
        """The engine's RuleContext for `rule`, its lookups declared (once)."""
        if rule.id not in self.rule_contexts:
            rc = RuleContext(rule, self.contract, table_names(self.contract), self.lookups)
            rule.impl.bind(rc)
            self.rule_contexts[rule.id] = rc
        return self.rule_contexts[rule.id]

    # ---- reference tables --------------------------------------------------------------
    def sql(self, query: str) -> list[tuple]:
        if self._con is None:
            self._con = connect()
            names = table_names(self.contract)
            for t in self.contract.tables.values():
                if t.data is not None:
                    self._con.register(names[t.name], t.data)
        return self._con.sql(query).fetchall()

    def table_sql(self, name: str) -> str:
        return table_names(self.contract)[name]

    def close(self):
        if self._con is not None:
            self._con.close()
            self._con = None
