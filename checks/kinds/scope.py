"""Code and institution scope (限定机构/限定项目).

What it checks: a line billing one of the rule's codes must match a row of a reference table on
every `match` column (claim column -> table column), e.g. (institution, code) pairs that may be
billed, or the institutions that may bill at all. Institution names are compared after folding
full-width brackets and removing spaces. With `listed_only: <claim column>` only lines whose value
of that column appears in the table are judged, leaving unlisted institutions to another rule so
that one fact is reported once.

Why: trial items and procurement results bind codes to named institutions; a code billed by an
institution it was not granted to should not be paid.
Money at stake: the whole line.

Example:
    - id: JS-8
      kind: scope
      codes: [nipt_detection, nipt_diagnosis]
      params:
        table: attachment1
        match: {fixmedins_name: institution}
"""
from __future__ import annotations

from .. import expr as expr_mod
from ..claims.fields import COLUMNS as FIELDS
from . import RuleKind, register
from ._common import text


@register("scope")
class Scope(RuleKind):
    params_schema = {
        "type": "object", "additionalProperties": False, "required": ["table", "match"],
        "properties": {
            "table": {"type": "string"},
            "match": {"type": "object", "minProperties": 1, "additionalProperties": {"oneOf": [
                {"type": "string", "description": "the table column the claim column must equal"},
                {"type": "object", "additionalProperties": False, "required": ["column", "by"],
                 "properties": {"column": {"type": "string"}, "by": {"enum": ["equal", "prefix"]}},
                 "description": "by: prefix — the claim value must start with the table value (e.g. ICD-10 Q95)"}]}},
            "listed_only": {"enum": sorted(FIELDS)},
            "where": {"type": "string", "description": "condition over table columns choosing rows"},
        },
    }
    message = "{actual} 不在允许范围内（允许：{expected}）"

    def prepare(self, error):
        # claim column -> (table column, 'equal' | 'prefix')
        self.match = {c: (m, "equal") if isinstance(m, str) else (m["column"], m["by"])
                      for c, m in self.p["match"].items()}
        table = self.contract.tables.get(self.p["table"])
        if table is None:
            raise error(("table",), f"unknown table {self.p['table']!r}", sorted(self.contract.tables))
        self.table = table
        for claim_col, (table_col, _) in self.match.items():
            if claim_col not in FIELDS:
                raise error(("match", claim_col), f"unknown claim column {claim_col!r}", sorted(FIELDS))
            if table_col not in table.columns:
                raise error(("match", claim_col), f"table {table.name!r} has no column {table_col!r}",
                            sorted(table.columns))
        lo = self.p.get("listed_only")
        if lo and lo not in self.p["match"]:
            raise error(("listed_only",), f"listed_only must be one of the match columns", sorted(self.p["match"]))
        self.where = None
        if "where" in self.p:
            try:
                self.where = expr_mod.parse(self.p["where"], set(table.columns))
            except expr_mod.ExprError as e:
                raise error(("where",), str(e), e.choices) from None

    def columns(self):
        return set(self.p["match"]) | {"det_item_fee_sumamt"}

    def tables(self):
        return [self.p["table"]]

    def bind(self, ctx):
        pairs = [(c, tc, by) for c, (tc, by) in self.match.items()]
        ctx.lookup("all", self.table.name, pairs, self.where)
        lo = self.p.get("listed_only")
        if lo:
            others = [tc for c, (tc, _) in self.match.items() if c != lo]
            ctx.lookup("listed", self.table.name, [(lo, *self.match[lo])], self.where,
                       listing=others[0] if others else None)

    def applies(self, ctx, a):
        if not self.p.get("listed_only"):
            return None
        return f"{ctx.lk['listed'].col(a, 'hit')} IS NOT NULL"

    def findings(self, ctx):
        pairs = list(self.match.items())
        actual = " || ', ' || ".join(f"'{c}=' || coalesce({text('l', c)}, 'NULL')" for c, _ in pairs)
        lo = self.p.get("listed_only")
        others = [c for c, _ in pairs if c != lo]
        if lo and others:
            expected = f"'{others[0]} ∈ {{' || {ctx.lk['listed'].col('l', 'listing')} || '}}'"
        else:
            expected = "'" + (self.table.title or self.table.name).replace("'", "''") + "'"
        return f"""
            SELECT {ctx.finding('l', expected, actual, 'l.det_item_fee_sumamt')}
            FROM {ctx.lines('l')} WHERE {ctx.scope('l')} AND {ctx.lk['all'].col('l', 'hit')} IS NULL"""
