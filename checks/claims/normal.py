"""How claim values are normalised, the same way everywhere: value checks, engine, ledger.

Codes and keys lose surrounding whitespace (ASCII, no-break and ideographic spaces); integers
become their decimal text. Institution names are compared without any spaces and with full-width
brackets made half-width. Each is a SQL expression builder, so every query spells it identically.
"""
from __future__ import annotations

# surrounding characters a code or key loses: space, tab, line breaks, form feed, NBSP, ideographic space
TRIM_CHARS = " \t\n\r\f\v\u00a0\u3000"
_TRIM = "'" + TRIM_CHARS + "'"


def key(sql: str) -> str:
    """A code or key: text, without surrounding whitespace."""
    return f"trim(CAST({sql} AS VARCHAR), {_TRIM})"


def name(sql: str) -> str:
    """An institution name as compared with a contract's lists."""
    return (f"replace(replace(replace(replace(replace({key(sql)}, '（', '('), '）', ')'), ' ', ''), "
            f"'\u3000', ''), '\u00a0', '')")


def blank(sql: str) -> str:
    """True when a text value is empty or only whitespace (cheap for ordinary values)."""
    return (f"({sql} = '' OR (({sql} < '!' OR starts_with({sql}, '\u3000') OR starts_with({sql}, '\u00a0')) "
            f"AND {key(sql)} = ''))")
