"""DuckDB SQL as Spark SQL: the one place where the two dialects differ.

Every query claimcheck runs is written once, in DuckDB SQL, by the rule kinds and the engine.
For Spark it is parsed with sqlglot (read="duckdb"), the constructs below are rewritten to Spark
forms that give the same values, and it is written back with sqlglot (write="spark"). Each
rewrite has its own test on both engines (tests/test_spark_dialect.py).

    round(x, n)               the double's exact value rounded half away from zero, as DuckDB
                              (Spark rounds x's shortest text: 2.675 -> 2.68, DuckDB 2.67)
    a / b                     DOUBLE division, b = 0 giving ±inf or NaN as DuckDB does (Spark
                              raises or returns NULL)
    printf('%.2f', x)         format_string over round(x, 2) (the SQL rounds first, see fmt())
    printf('%g', x)           format_string('%g') without the trailing zeros Java keeps
    strftime(t, '%Y-…')       date_format(t, 'yyyy-…') with literal text quoted
    regexp_full_match(x, p)   x RLIKE '^(?:p)\\z'
    isfinite(x)               NOT isnan(x) AND |x| <> infinity
    hash(a, b)                xxhash64(a, b) (64 bits, as DuckDB's hash)
    to_json(struct)           to_json(struct, ignoreNullFields false) (DuckDB keeps null keys)
    list(x ORDER BY k)        the values of array_sort(collect_list((k, x)))
    string_agg(DISTINCT x, s ORDER BY x)
                              array_join(array_sort(collect_set(x)), s), NULL for no value
    date_sub('year', a, b)    whole years from a to b, DuckDB's end-of-month rule included
    CAST(x AS INT|BIGINT)     rounding half to even first (Spark truncates)
    CAST(x AS DECIMAL)        DECIMAL(18,3), DuckDB's default (Spark's is (10,0))
    CAST(CAST(x AS DOUBLE) AS VARCHAR)
                              the shortest decimal text of x as DuckDB writes it (1e-05,
                              10000000.0), not Java's (1.0E-5, 1.0E7)
    x LIKE 'p'                backslashes in p taken literally (Spark's default escape is \\)
Where a rewrite needs its argument more than once it calls a session function (cc_round,
cc_divide, cc_printf_g, cc_double_text, cc_years, cc_isfinite: Spark 4 SQL functions, created by
register() in the engine's session), so translated SQL stays as small as the DuckDB it came from.
sqlglot already writes starts_with, trim(x, chars), string_agg (LISTAGG), TRY_CAST, GROUP BY ALL, SEMI/ANTI JOIN, arg_min (min_by), ->> (get_json_object),
TIMESTAMP (TIMESTAMP_NTZ) and DATE literals in their Spark forms; the tests cover them too.

Statements (CREATE TEMP TABLE, INSERT … BY NAME, WITH … AS MATERIALIZED) are not translated here:
the Spark engine turns them into cached DataFrames (spark/sql.py). A construct with no
Spark form raises Unsupported, naming it; `called_functions` lists what a translated query calls
so the engine can check each against the Spark session's own function registry.
"""
from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel
from sqlglot.tokens import TokenType


class Unsupported(ValueError):
    """A DuckDB construct with no Spark equivalent."""


_INF = "CAST('Infinity' AS DOUBLE)"

# Session functions (Spark 4 SQL functions: each argument is computed once, so a rewrite stays as
# small as the DuckDB call it replaces). register() creates them in the engine's own session.
FUNCTIONS = {
    # DuckDB's round(x, n) on a DOUBLE: x's exact value, half away from zero. y = x * m decides
    # unless it lands exactly on a half; then the product's exact error (Dekker's split of x, no
    # bit lost) says on which side x * m truly lies.
    "cc_round": ("x DOUBLE, m DOUBLE", "DOUBLE",
                 "CASE WHEN abs(x * m) < CAST(4503599627370496 AS DOUBLE) AND x * m - CAST(floor(x * m) AS DOUBLE) = 0.5 "
                 "THEN CASE WHEN cc_product_error(x * CAST(134217729 AS DOUBLE) - (x * CAST(134217729 AS DOUBLE) - x), "
                 "x, m) > 0 OR (cc_product_error(x * CAST(134217729 AS DOUBLE) - (x * CAST(134217729 AS DOUBLE) - x), "
                 "x, m) = 0 AND x > 0) THEN CAST(ceil(x * m) AS DOUBLE) ELSE CAST(floor(x * m) AS DOUBLE) END / m "
                 "ELSE round(x * m) / m END"),
    "cc_product_error": ("hi DOUBLE, x DOUBLE, m DOUBLE", "DOUBLE", "(hi * m - x * m) + (x - hi) * m"),
    # DuckDB divides as DOUBLE, and x / 0 is ±inf (NaN for 0); Spark raises or gives NULL
    "cc_divide": ("a DOUBLE, b DOUBLE", "DOUBLE", f"CASE WHEN b = 0 THEN a * {_INF} ELSE a / b END"),
    "cc_isfinite": ("x DOUBLE", "BOOLEAN", f"NOT isnan(x) AND abs(x) <> {_INF}"),
    # C's %g (DuckDB's printf) drops the trailing zeros Java's keeps: 2.00000 -> 2, 1.50000e+06 -> 1.5e+06
    "cc_printf_g": ("x DOUBLE", "STRING",
                    r"regexp_replace(regexp_replace(format_string('%g', x), '(\\.[0-9]*?)0+(e|$)', '$1$2'), "
                    r"'\\.(e|$)', '$1')"),
    # DuckDB writes a DOUBLE with the shortest digits, plainly from 1e-4 to 1e16 (Python's repr);
    # Java writes the same digits, in scientific notation below 1e-3 and from 1e7
    "cc_double_text": ("x DOUBLE", "STRING",
                       f"CASE WHEN isnan(x) THEN 'nan' WHEN x = {_INF} THEN 'inf' WHEN x = -{_INF} THEN '-inf' "
                       "WHEN NOT CAST(x AS STRING) LIKE '%E%' THEN CAST(x AS STRING) "
                       "ELSE cc_double_text_e(x < 0, substring_index(CAST(x AS STRING), 'E', 1), "
                       "TRY_CAST(substring_index(CAST(x AS STRING), 'E', -1) AS INT)) END"),
    "cc_double_text_e": ("negative BOOLEAN, mantissa STRING, e INT", "STRING",
                         "CASE WHEN e >= 16 OR e < -4 THEN concat(regexp_replace(mantissa, '\\\\.0$', ''), 'e', "
                         "CASE WHEN e < 0 THEN '-' ELSE '+' END, CASE WHEN abs(e) < 10 THEN '0' ELSE '' END, "
                         "CAST(abs(e) AS STRING)) ELSE concat(CASE WHEN negative THEN '-' ELSE '' END, "
                         "cc_double_text_d(coalesce(nullif(TRIM(TRAILING '0' FROM "
                         "replace(replace(mantissa, '-', ''), '.', '')), ''), '0'), e)) END"),
    "cc_double_text_d": ("d STRING, e INT", "STRING",  # the digits d = d.ddd × 10^e, written plainly
                         "CASE WHEN e < 0 THEN concat('0.', repeat('0', -e - 1), d) "
                         "WHEN length(d) <= e + 1 THEN concat(d, repeat('0', e + 1 - length(d)), '.0') "
                         "ELSE concat(substring(d, 1, e + 1), '.', substring(d, e + 2)) END"),
    # DuckDB's date_sub('year', a, b): whole months from the earlier date to the later (a day past
    # the later one's month end counts to its end), divided by 12 toward zero; negative if b < a
    "cc_years": ("a DATE, b DATE", "BIGINT",
                 "CASE WHEN a <= b THEN cc_months(a, b) DIV 12 ELSE -(cc_months(b, a) DIV 12) END"),
    "cc_months": ("s DATE, e DATE", "BIGINT",
                  "12 * (year(e) - year(s)) + month(e) - month(s) - CASE WHEN day(e) < CASE WHEN "
                  "day(e) = day(last_day(e)) AND day(s) > day(e) THEN day(e) ELSE day(s) END THEN 1 ELSE 0 END"),
}


def register(spark) -> None:
    """Create the session functions the translated SQL calls (in dependency order)."""
    for name in ["cc_product_error", "cc_round", "cc_divide", "cc_isfinite", "cc_printf_g", "cc_double_text_d",
                 "cc_double_text_e", "cc_double_text", "cc_months", "cc_years"]:
        params, returns, body = FUNCTIONS[name]
        spark.sql(f"CREATE OR REPLACE TEMPORARY FUNCTION {name}({params}) RETURNS {returns} RETURN {body}")


def _spark(template: str, **parts: exp.Expression) -> exp.Expression:
    """A Spark SQL snippet with {name} holes filled by (already translated) expressions."""
    text = template.format(**{k: v.sql(dialect="spark") for k, v in parts.items()})
    return sqlglot.parse_one(text, read="spark")


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _double(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build("DOUBLE"))


def _literal(e: exp.Expression | None, what: str) -> str:
    if not isinstance(e, exp.Literal) or not e.is_string:
        raise Unsupported(f"{what} must be a text literal to run on Spark")
    return e.this


# -- rewrites, one per DuckDB construct ----------------------------------------------------------
def _round(node: exp.Round) -> exp.Expression:
    digits = node.args.get("decimals")
    if digits is None:
        return node  # round(x): half away from zero on both (x's text is never .5 unless x is)
    if not isinstance(digits, exp.Literal) or digits.is_string or not 0 <= int(digits.this) <= 7:
        raise Unsupported("round(x, n) needs a literal n from 0 to 7 to run on Spark")
    return _call("cc_round", _double(node.this), _double(exp.Literal.number(10 ** int(digits.this))))


def _divide(node: exp.Div) -> exp.Expression:
    return _call("cc_divide", _double(node.this), _double(node.expression))


_SPEC = re.compile(r"%(%|g|s|\.(\d)f)")


def _printf(args: list[exp.Expression]) -> exp.Expression:
    fmt = _literal(args[0] if args else None, "printf's format")
    values = list(args[1:])
    specs = [m for m in _SPEC.finditer(fmt) if m.group(1) != "%"]
    if len(re.findall(r"%[^%]", fmt.replace("%%", ""))) != len(specs) or len(specs) != len(values):
        raise Unsupported(f"printf format {fmt!r} has a conversion with no Spark equivalent (supported: %.Nf, %g, %s)")
    if any(m.group(1) == "g" for m in specs):
        if fmt != "%g":
            raise Unsupported(f"printf format {fmt!r}: %g is supported on its own only")
        return _call("cc_printf_g", _double(values[0]))
    out = []
    for m, v in zip(specs, values):
        if m.group(2) is not None:  # %.Nf: the value rounded as DuckDB rounds, then written
            v = _round(exp.Round(this=v, decimals=exp.Literal.number(int(m.group(2)))))
        out.append(v)
    return exp.Anonymous(this="format_string", expressions=[exp.Literal.string(fmt), *out])


_STRFTIME = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss"}


def _strftime(node: exp.TimeToStr) -> exp.Expression:
    fmt = _literal(node.args.get("format"), "strftime's format")
    out, text = [], ""
    for piece in re.split(r"(%.)", fmt):
        if piece.startswith("%") and len(piece) == 2:
            if piece not in _STRFTIME:
                raise Unsupported(f"strftime format {piece} has no Spark equivalent")
            if text:
                out.append("'" + text.replace("'", "''") + "'")
                text = ""
            out.append(_STRFTIME[piece])
        else:
            text += piece
    if text:
        out.append("'" + text.replace("'", "''") + "'")
    return exp.Anonymous(this="date_format", expressions=[node.this, exp.Literal.string("".join(out))])


def _full_match(node: exp.RegexpFullMatch) -> exp.Expression:
    pattern = _literal(node.expression, "regexp_full_match's pattern")
    return exp.RegexpLike(this=node.this, expression=exp.Literal.string(f"^(?:{pattern})\\z"))


def _isfinite(x: exp.Expression) -> exp.Expression:
    return _call("cc_isfinite", _double(x))


def _to_json(args: list[exp.Expression]) -> exp.Expression:
    if len(args) != 1:
        raise Unsupported("to_json with options has no Spark equivalent")
    return _spark("to_json({x}, map('ignoreNullFields', 'false'))", x=args[0])


def _years(args: list[exp.Expression]) -> exp.Expression:
    part = _literal(args[0] if args else None, "date_sub's part").lower()
    if part != "year" or len(args) != 3:
        raise Unsupported(f"date_sub({part!r}, …) has no Spark equivalent (year is supported)")
    return _call("cc_years", *(exp.Cast(this=a, to=exp.DataType.build("DATE")) for a in args[1:]))


def _ordered_list(node: exp.Filter | exp.ArrayAgg) -> exp.Expression:
    agg = node.this if isinstance(node, exp.Filter) else node
    inner = agg.this
    if not isinstance(inner, exp.Order):
        return node  # an unordered list: collect_list, as sqlglot writes it
    keys = inner.expressions
    if len(keys) != 1 or keys[0].args.get("desc"):
        raise Unsupported("list(… ORDER BY …) is supported with one ascending key")
    parts = {"k": keys[0].this, "v": inner.this}
    where = ""
    if isinstance(node, exp.Filter):
        where, parts["w"] = " FILTER (WHERE {w})", node.expression.this
    return _spark("transform(array_sort(collect_list(named_struct('k', {k}, 'v', {v}))" + where + "), e -> e.v)",
                  **parts)


def _string_agg(node: exp.GroupConcat) -> exp.Expression:
    """string_agg(DISTINCT x, sep ORDER BY x): the sorted set joined. (Spark's LISTAGG(DISTINCT …)
    WITHIN GROUP fails beside a second distinct aggregate in Spark 4.0; collect_set is not one.)"""
    order = node.this
    if not (isinstance(order, exp.Order) and isinstance(order.this, exp.Distinct)):
        return node  # plain string_agg: LISTAGG, as sqlglot writes it
    values = order.this.expressions
    keys = order.expressions
    if len(values) != 1 or len(keys) != 1 or keys[0].this != values[0] or keys[0].args.get("desc"):
        raise Unsupported("string_agg(DISTINCT x … ORDER BY …) is supported ordered by x itself, ascending")
    sep = node.args.get("separator") or exp.Literal.string(",")
    return _spark("(CASE WHEN count({x}) = 0 THEN NULL ELSE array_join(array_sort(collect_set({x})), {sep}) END)",
                  x=values[0], sep=sep)


def _cast(node: exp.Cast) -> exp.Expression:
    to = node.to
    if to.is_type(exp.DataType.Type.INT, exp.DataType.Type.BIGINT, exp.DataType.Type.SMALLINT,
                  exp.DataType.Type.TINYINT):
        return exp.Cast(this=exp.Anonymous(this="bround", expressions=[_double(node.this)]), to=to)
    if to.is_type(exp.DataType.Type.DECIMAL) and not to.expressions:
        return exp.Cast(this=node.this, to=exp.DataType.build("DECIMAL(18,3)"))
    if to.is_type(exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT) and isinstance(node.this, exp.Cast) \
            and node.this.to.is_type(exp.DataType.Type.DOUBLE):
        return _call("cc_double_text", node.this)
    return node


def _like(node: exp.Like) -> exp.Expression:
    p = node.expression
    if isinstance(p, exp.Literal) and p.is_string and "\\" in p.this:
        node.set("expression", exp.Literal.string(p.this.replace("\\", "\\\\")))
    elif not isinstance(p, exp.Literal):
        raise Unsupported("LIKE with a pattern that is not a text literal has no Spark equivalent")
    return node


_ANONYMOUS = {
    "printf": _printf,
    "isfinite": lambda a: _isfinite(a[0]),
    "hash": lambda a: exp.Anonymous(this="xxhash64", expressions=a),
    "to_json": _to_json,
    "date_sub": _years,
}
_NO_SPARK = (exp.JSONObject,)  # json_object, json_merge_patch: no Spark form


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Round):
        return _round(node)
    if isinstance(node, exp.Div):
        return _divide(node)
    if isinstance(node, exp.TimeToStr):
        return _strftime(node)
    if isinstance(node, exp.RegexpFullMatch):
        return _full_match(node)
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg) or isinstance(node, exp.ArrayAgg) \
            and not isinstance(node.parent, exp.Filter):
        return _ordered_list(node)
    if isinstance(node, exp.GroupConcat):
        return _string_agg(node)
    if isinstance(node, exp.Cast) and not isinstance(node, exp.TryCast):
        return _cast(node)
    if isinstance(node, exp.Like):
        return _like(node)
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        if name == "json_merge_patch":
            raise Unsupported("json_merge_patch has no Spark equivalent")
        if name in _ANONYMOUS:
            return _ANONYMOUS[name](list(node.expressions))
    if isinstance(node, _NO_SPARK):
        raise Unsupported(f"{node.key} has no Spark equivalent")
    if isinstance(node, exp.Star) and any(node.args.get(k) for k in ("except", "except_", "replace", "replace_")):
        raise Unsupported("SELECT * EXCLUDE/REPLACE has no Spark equivalent")
    return node


def translate(tree: exp.Expression) -> exp.Expression:
    """Rewrite a parsed DuckDB tree bottom-up (children before the node that holds them)."""
    for node in reversed(list(tree.walk(bfs=False))):
        new = _rewrite(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def to_spark(sql: str) -> str:
    """One DuckDB statement (a query) as Spark SQL; raise Unsupported for what has no Spark form."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as e:
        raise Unsupported(f"cannot be read as DuckDB SQL: {e}") from None
    return spark_sql(translate(tree))


def spark_sql(tree: exp.Expression) -> str:
    try:
        return tree.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE)
    except sqlglot.errors.UnsupportedError as e:
        raise Unsupported(str(e)) from None


_SYNTAX = {"try_cast", "group"}  # TRY_CAST(x AS t) and WITHIN GROUP (…) read like calls but are syntax


def called_functions(spark_sql_text: str) -> set[str]:
    """The names a Spark query calls as functions (lower case), read from its tokens."""
    tokens = sqlglot.tokenize(spark_sql_text, read="spark")
    out = set()
    for t, nxt in zip(tokens, tokens[1:]):
        if nxt.token_type == TokenType.L_PAREN and t.token_type == TokenType.VAR and t.text.lower() not in _SYNTAX:
            out.add(t.text.lower())
    return out
