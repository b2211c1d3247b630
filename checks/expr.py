"""The condition language of contracts: SQL-style boolean expressions over claim columns.

Contracts hold no Python and nothing in them is eval'd. A condition such as

    price_class IN ('一类', '基层') AND inscp_scp_amt > 0

is parsed with sqlglot when the contract loads, checked against a whitelist of node types,
functions and known column names, and rendered to DuckDB SQL with every column qualified.

Allowed: the operators of OPERATORS and the functions of FUNCTION_SPECS (one registry, which
both validates conditions and documents them: `claimcheck functions`). Anything else
(sub-queries, statements, unknown functions, unknown columns) is a contract error naming the file
and line.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from .errors import Choices


@dataclass(frozen=True)
class Function:
    """A function a condition may call: a DuckDB built-in (`node`, the sqlglot node it parses to)
    or one of ours (`template`, DuckDB SQL with {0}, {1} for the rendered arguments)."""

    name: str
    signature: str
    min_args: int
    max_args: int | None  # None: any number
    description: str
    example: str
    node: type | None = None
    template: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def arity(self) -> str:
        if self.max_args is None:
            return f"{self.min_args} or more"
        return str(self.min_args) if self.min_args == self.max_args else f"{self.min_args}–{self.max_args}"


@dataclass(frozen=True)
class Operator:
    """Operators, literals and forms a condition may use; `nodes` are the sqlglot nodes they parse to.
    `aliases` are function-call spellings the parser turns into the same node."""

    syntax: str
    arity: str
    description: str
    example: str
    nodes: tuple[type, ...]
    aliases: tuple[str, ...] = ()


FUNCTION_SPECS: tuple[Function, ...] = (
    Function("abs", "abs(x)", 1, 1, "absolute value of a number",
             "abs(det_item_fee_sumamt - pric * cnt) > 0.01", node=exp.Abs),
    Function("age_years", "age_years(birth_date, on_date)", 2, 2,
             "whole years between a birth date and a date: the age on that day",
             "age_years(brdy, fee_ocur_time) >= 35",
             template="date_sub('year', CAST({0} AS DATE), CAST({1} AS DATE))"),
    Function("coalesce", "coalesce(x, y, …)", 1, None, "the first argument that is not NULL",
             "coalesce(subsidy_amt, 0) = 0", node=exp.Coalesce, aliases=("ifnull", "nvl")),
    Function("length", "length(text)", 1, 1, "number of characters of a text",
             "length(hilist_code) = 22", node=exp.Length, aliases=("len", "char_length", "character_length")),
    Function("lower", "lower(text)", 1, 1, "the text in lower case",
             "lower(hilist_code) LIKE 'cj%'", node=exp.Lower, aliases=("lcase",)),
    Function("risk_ratio", "risk_ratio(text)", 1, 1,
             "a risk written '1:N' as the number 1/N; NULL when the text is not of that form",
             "risk_ratio(serum_risk) >= 1 / 270",
             template="(TRY_CAST(split_part({0}, ':', 1) AS DOUBLE) / "
                      "NULLIF(TRY_CAST(split_part({0}, ':', 2) AS DOUBLE), 0))"),
    Function("round", "round(x, digits)", 1, 2, "a number rounded to `digits` decimals (default 0)",
             "round(pric, 0) = 60", node=exp.Round),
    Function("starts_with", "starts_with(text, prefix)", 2, 2, "whether the text begins with the prefix",
             "starts_with(hilist_code, 'CJ')", node=exp.StartsWith, aliases=("startswith",)),
    Function("substr", "substr(text, start, length)", 2, 3,
             "part of a text from position `start` (1 = first character), `length` characters or to the end",
             "substr(hilist_code, 1, 2) = 'CJ'", node=exp.Substring, aliases=("substring",)),
    Function("ltrim", "ltrim(text, characters)", 1, 2, "the text without leading spaces (or the given characters)",
             "ltrim(hilist_code, '0') = '310'", node=exp.Trim),
    Function("rtrim", "rtrim(text, characters)", 1, 2, "the text without trailing spaces (or the given characters)",
             "rtrim(fixmedins_name) = '南京鼓楼医院'", node=exp.Trim),
    Function("trim", "trim(text, characters)", 1, 2,
             "the text without leading and trailing spaces (or the given characters)",
             "trim(fixmedins_name) = '南京鼓楼医院'", node=exp.Trim),
    Function("upper", "upper(text)", 1, 1, "the text in upper case",
             "upper(hilist_code) LIKE 'CJ%'", node=exp.Upper, aliases=("ucase",)),
)

OPERATORS: tuple[Operator, ...] = (
    Operator("a = b, a <> b, a != b, a < b, a <= b, a > b, a >= b", "2", "comparison",
             "pric > 60", (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)),
    Operator("a AND b, a OR b, NOT a", "2 (NOT: 1)", "logic (SQL's: a comparison with NULL is neither true nor false)",
             "inscp_scp_amt > 0 AND NOT fetts = '2'", (exp.And, exp.Or, exp.Not)),
    Operator("a IN (x, y, …), a NOT IN (…)", "1 + list", "membership in a list of values",
             "price_class IN ('一类', '基层')", (exp.In,)),
    Operator("a BETWEEN x AND y", "3", "x <= a <= y", "cnt BETWEEN 1 AND 3", (exp.Between,)),
    Operator("a IS NULL, a IS NOT NULL", "1", "whether a value is missing", "serum_risk IS NULL", (exp.Is,)),
    Operator("a LIKE 'pattern'", "2", "text pattern: % any run of characters, _ one character",
             "hilist_name LIKE '%无创%'", (exp.Like,), aliases=("like",)),
    Operator("a + b, a - b, a * b, a / b, -a", "2 (-a: 1)", "arithmetic",
             "det_item_fee_sumamt - inscp_scp_amt > 100", (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Neg)),
    Operator("CAST(a AS type), a::type, DATE 'yyyy-mm-dd'", "1",
             "conversion to DATE, TIMESTAMP, DOUBLE, DECIMAL, INT, BIGINT or VARCHAR",
             "fee_ocur_time >= DATE '2025-01-01'", (exp.Cast,)),
    Operator("'text', 12, 3.5, TRUE, FALSE, NULL", "0", "literals (text in single quotes)",
             "fetts = '1'", (exp.Literal, exp.Boolean, exp.Null)),
    Operator("(a)", "1", "grouping", "(pric > 60 OR cnt > 1) AND fetts = '1'", (exp.Paren,)),
)

FUNCTIONS_BY_NAME = {f.name: f for f in FUNCTION_SPECS}
CUSTOM_FUNCTIONS = {f.name: f for f in FUNCTION_SPECS if f.template is not None}
BUILTIN_FUNCTIONS = {f.node: f.name for f in FUNCTION_SPECS if f.node is not None}
FUNCTIONS = sorted(FUNCTIONS_BY_NAME)

# column names, identifiers, calls of our functions, the column list of IN, a cast's type
_STRUCTURE = (exp.Column, exp.Identifier, exp.Anonymous, exp.Tuple, exp.DataType)
_ALLOWED = (*_STRUCTURE, *(n for o in OPERATORS for n in o.nodes), *BUILTIN_FUNCTIONS)


def documented_names() -> set[str]:
    """Every name a condition may call: the functions, their aliases, operators' function forms."""
    return ({f.name for f in FUNCTION_SPECS} | {a for f in FUNCTION_SPECS for a in f.aliases}
            | {a for o in OPERATORS for a in o.aliases})


class ExprError(ValueError):
    def __init__(self, message: str, choices=None):
        super().__init__(message)
        self.choices = choices


@dataclass(frozen=True)
class Expr:
    text: str
    columns: frozenset[str]
    _tree: exp.Expression
    # sql()'s answers by alias: written once per contract load, not once per check (a service
    # checking a 3101 call rewrote every condition, some 20 ms of a 50-line call)
    _written: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def sql(self, alias: str) -> str:
        """DuckDB SQL with every column qualified by `alias`."""
        done = self._written.get(alias)
        if done is None:
            done = self._written[alias] = self._write(alias)
        return done

    def _write(self, alias: str) -> str:

        def rewrite(node):
            if isinstance(node, exp.Column):
                return exp.column(node.name, table=alias, quoted=True)
            if isinstance(node, exp.Anonymous):
                template = CUSTOM_FUNCTIONS[node.name.lower()].template
                args = [a.transform(rewrite).sql(dialect="duckdb") for a in node.expressions]
                return sqlglot.parse_one(template.format(*args), dialect="duckdb")
            return node

        return "(" + self._tree.copy().transform(rewrite).sql(dialect="duckdb") + ")"


MAX_LENGTH = 10_000
MAX_NESTING = 64


def parse(text: str, columns: set[str] | frozenset[str]) -> Expr:
    """Parse and check `text`; raise ExprError saying what is wrong and what would be valid."""
    try:
        return _parse(text, columns)
    except RecursionError:  # 'NOT NOT NOT … x' or a thousand ANDs nest without parentheses
        raise ExprError(f"condition {str(text)[:60]!r}… nests too deeply to read") from None


def _parse(text: str, columns: set[str] | frozenset[str]) -> Expr:
    if not isinstance(text, str) or not text.strip():
        raise ExprError("a condition must be non-empty text")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"a condition is at most {MAX_LENGTH:,} characters; this one has {len(text):,}")
    depth = deepest = 0
    for ch in text:  # sqlglot recurses per level: refuse what would exhaust the stack, saying why
        depth += (ch == "(") - (ch == ")")
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise ExprError(f"a condition nests parentheses at most {MAX_NESTING} deep; this one {deepest}")
    try:
        tree = sqlglot.parse_one(text, dialect="duckdb")
    except sqlglot.errors.ParseError as e:
        first = e.errors[0] if e.errors else {}
        raise ExprError(f"malformed condition {text!r}: {first.get('description', e)}"
                        f" (at character {first.get('col', '?')})") from None
    except RecursionError:
        raise ExprError(f"condition {text[:60]!r}… nests too deeply to read") from None
    except Exception as e:  # sqlglot's builders of some functions fail on a wrong argument count
        raise ExprError(f"malformed condition {text!r}: {type(e).__name__} {e}".rstrip()) from None
    used = set()
    for node in tree.walk():
        if isinstance(node, exp.Func) and not isinstance(node, _ALLOWED):
            raise ExprError(f"unknown function {node.sql_name().lower()!r} in {text!r}",
                            Choices(FUNCTIONS, node.sql_name().lower()))
        if not isinstance(node, _ALLOWED):
            raise ExprError(f"{type(node).__name__.upper()} is not allowed in a condition: {text!r};"
                            " conditions are boolean expressions over claim columns")
        if isinstance(node, exp.Column):
            if node.table:
                raise ExprError(f"qualified column {node.sql()!r} is not allowed; write the bare column name")
            if node.name not in columns:
                raise ExprError(f"unknown column {node.name!r} in condition {text!r}",
                                Choices(sorted(columns), node.name))
            used.add(node.name)
        elif isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name not in CUSTOM_FUNCTIONS:
                raise ExprError(f"unknown function {node.name!r} in {text!r}", Choices(FUNCTIONS, node.name))
            f = CUSTOM_FUNCTIONS[name]
            if not f.min_args <= len(node.expressions) <= f.max_args:
                raise ExprError(f"{name}() takes {f.arity} argument(s), got {len(node.expressions)}")
        elif isinstance(node, exp.Cast):
            if not node.to.is_type(exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP,
                                   exp.DataType.Type.DOUBLE, exp.DataType.Type.VARCHAR,
                                   exp.DataType.Type.INT, exp.DataType.Type.BIGINT,
                                   exp.DataType.Type.DECIMAL):
                raise ExprError(f"cast to {node.to.sql()} is not allowed in {text!r}")
    return Expr(text, frozenset(used), tree)
