"""Code and institution scope (限定机构/限定项目).

What it checks: a line billing one of the rule's codes must match a row of a reference table on
every `match` column (claim column -> table column), e.g. (institution, code) pairs that may be
billed, or the institutions that may bill at all. A match is equal (names compared without
spaces and with half-width brackets), `prefix` (the claim value starts with the cell: ICD-10
categories, region prefixes) or `equal_or_blank` (an empty cell admits any value). With
`listed_only: <claim column>` only lines whose value of that column appears in the table (in
the rows `listed_where` chooses; by default those `where` chooses) are judged, leaving unlisted
institutions to another rule so that one fact is reported once. A table whose rows carry
`valid_from` / `valid_to` admits a line only by a row valid on its date; with
`listed_on_any_date` the listed_only rows are read whatever their dates, so that a product
listed once and withdrawn (撤网) by the line's date is its own finding.

Matching on `institution` (the contract's institution identity: code crosswalk, canonical names,
aliases) makes a finding that rests on a name nothing matched say so; without the user's
crosswalk such a finding is at most suspect, since the name alone cannot prove the institution
is not a listed one under another name.

Why: trial items and procurement results bind codes to named institutions; a code billed by an
institution it was not granted to should not be paid.
Money at stake: the whole line.

Example:
    - id: JS-8
      kind: scope
      codes: [nipt_detection, nipt_diagnosis]
      when: inpolicy_amt > 0
      params:
        table: attachment1
        match: {institution: institution}
"""
from __future__ import annotations

from .. import expr as expr_mod
from ..claims.fields import COLUMNS
from . import RuleKind, register
from ._common import lit, text


@register("scope")
class Scope(RuleKind):
    params_schema = {
        "type": "object", "additionalProperties": False, "required": ["table", "match"],
        "properties": {
            "table": {"type": "string"},
            "match": {"type": "object", "minProperties": 1, "additionalProperties": {"oneOf": [
                {"type": "string", "description": "the table column the claim column must equal"},
                {"type": "object", "additionalProperties": False, "required": ["column", "by"],
                 "properties": {"column": {"type": "string"}, "by": {"enum": ["equal", "prefix", "equal_or_blank"]}},
                 "description": "by: prefix — the claim value must start with the table value (e.g. ICD-10 Q95); "
                                "equal_or_blank — an empty cell admits any value"}]}},
            "listed_only": {"enum": sorted(COLUMNS)},
            "listed_where": {"type": "string",
                             "description": "condition over table columns: the rows listed_only looks in "
                                            "(default: where); TRUE for the whole table"},
            "listed_on_any_date": {"type": "boolean",
                                   "description": "listed_only reads every row whatever its valid_from/valid_to "
                                                  "(a product listed once, withdrawn by the line's date)"},
            "where": {"type": "string", "description": "condition over table columns choosing rows"},
            "allowed": {"type": "string", "description": "what the rows allow, in words, for findings "
                                                         "(default: the table's title)"},
        },
    }
    message = "{actual} 不在允许范围内（允许：{expected}）"

    def prepare(self, error):
        # claim column -> (table column, 'equal' | 'prefix' | 'equal_or_blank')
        self.match = {c: (m, "equal") if isinstance(m, str) else (m["column"], m["by"])
                      for c, m in self.p["match"].items()}
        table = self.contract.tables.get(self.p["table"])
        if table is None:
            raise error(("table",), f"unknown table {self.p['table']!r}", sorted(self.contract.tables))
        self.table = table
        for claim_col, (table_col, _) in self.match.items():
            if claim_col not in COLUMNS:
                raise error(("match", claim_col), f"unknown claim column {claim_col!r}", sorted(COLUMNS))
            if table_col not in table.columns:
                raise error(("match", claim_col), f"table {table.name!r} has no column {table_col!r}",
                            sorted(table.columns))
        lo = self.p.get("listed_only")
        if lo and lo not in self.p["match"]:
            raise error(("listed_only",), f"listed_only must be one of the match columns", sorted(self.p["match"]))
        self.where = self._condition(error, "where")
        self.listed_where = self._condition(error, "listed_where") if "listed_where" in self.p else self.where

    def _condition(self, error, key):
        if key not in self.p:
            return None
        try:
            return expr_mod.parse(self.p[key], set(self.table.columns))
        except expr_mod.ExprError as e:
            raise error((key,), str(e), e.choices) from None

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
            ctx.lookup("listed", self.table.name, [(lo, *self.match[lo])], self.listed_where,
                       listing=others[0] if others else None, any_date=bool(self.p.get("listed_on_any_date")))

    def applies(self, ctx, a):
        if not self.p.get("listed_only"):
            return None
        return f"{ctx.lk['listed'].col(a, 'hit')} IS NOT NULL"

    def _unmatched(self) -> tuple[str, str | None]:
        """(text added to `actual`, severity) for a line whose institution nothing matched."""
        from ..engine.identity import crosswalk_given

        name = "coalesce(l.fixmedins_name, '')"
        if crosswalk_given(self.contract):
            cw = self.contract.institutions.crosswalk
            text = (f"'（编号 ' || coalesce(l.fixmedins_code, '') || ' 不在 {cw}，名称“' || {name} || "
                    f"'”亦未匹配所列机构及其别名）'")
            return text, None
        text = (f"'（机构名称“' || {name} || '”未匹配所列机构及其别名；未提供机构编号对照表 "
                f"{self.contract.institutions.crosswalk or ''}，按可疑报告）'")
        return text, "CASE WHEN l.institution_via IS NULL THEN 'suspect' ELSE " + lit(self.rule.severity) + " END"

    def findings(self, ctx):
        pairs = list(self.match.items())
        actual = " || ', ' || ".join(f"'{c}=' || coalesce({text('l', c)}, 'NULL')" for c, _ in pairs)
        severity = None
        if "institution" in self.match:
            note, severity = self._unmatched()
            actual += f" || CASE WHEN l.institution_via IS NULL THEN {note} ELSE '' END"
        lo = self.p.get("listed_only")
        others = [c for c, _ in pairs if c != lo]
        if lo and others:
            expected = f"'{others[0]} ∈ {{' || {ctx.lk['listed'].col('l', 'listing')} || '}}'"
        else:
            expected = lit(self.p.get("allowed") or self.table.title or self.table.name)
        return f"""
            SELECT {ctx.finding('l', expected, actual, 'l.det_item_fee_sumamt', severity_sql=severity)}
            FROM {ctx.lines('l')} WHERE {ctx.scope('l')} AND {ctx.lk['all'].col('l', 'hit')} IS NULL"""
