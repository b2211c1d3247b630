"""How claim values are normalised, the same way everywhere: value checks, engine, ledger, lookups.

Identifiers with many distinct values (visit, line, person and settlement ids) lose surrounding
spaces, the padding fixed-width (CHAR) columns of hospital databases add. Codes and names lose
surrounding whitespace of any kind (tab, line breaks, no-break and ideographic spaces too).
Integers become their decimal text. Institution names are compared without any spaces and with
full-width brackets made half-width. Each is a SQL expression builder, so every query spells a
field's normalisation identically.
"""
from __future__ import annotations

# surrounding characters a code or name loses: space, tab, line breaks, form feed, NBSP, ideographic space
TRIM_CHARS = " \t\n\r\f\v\u00a0\u3000"
_TRIM = "'" + TRIM_CHARS + "'"
# identifiers: high-cardinality, read on every line; padded with spaces by CHAR columns
IDS = frozenset({"mdtrt_id", "feedetl_sn", "psn_no", "setl_id"})


def key(sql: str) -> str:
    """A code: text, without surrounding whitespace."""
    return f"trim(CAST({sql} AS VARCHAR), {_TRIM})"


def ident(sql: str) -> str:
    """An identifier: text, without surrounding spaces."""
    return f"trim(CAST({sql} AS VARCHAR))"


def value(field: str, sql: str) -> str:
    """The normalised text of a code or text field."""
    return ident(sql) if field in IDS else key(sql)


def name(sql: str) -> str:
    """An institution name as compared with a contract's lists."""
    return (f"replace(replace(replace(replace(replace({key(sql)}, '（', '('), '）', ')'), ' ', ''), "
            f"'\u3000', ''), '\u00a0', '')")


def blank(sql: str) -> str:
    """True when a text value is empty or only whitespace (lazy: cheap for ordinary values)."""
    return (f"(CASE WHEN {sql} = '' THEN TRUE WHEN {sql} >= '!' AND NOT starts_with({sql}, '\u3000') "
            f"AND NOT starts_with({sql}, '\u00a0') THEN FALSE ELSE {key(sql)} = '' END)")


# the name normalisation as a DuckDB macro, for callers that compare names outside the engine
NORMALISE = f"CREATE MACRO cc_norm(x) AS {name('x')}"
