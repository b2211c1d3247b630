"""How claim values are normalised, the same way everywhere: value checks, engine, ledger, lookups.

Identifiers with many distinct values (visit, line, person and settlement ids) lose surrounding
spaces, the padding fixed-width (CHAR) columns of hospital databases add. Codes and names lose
surrounding whitespace of any kind (tab, line breaks, no-break and ideographic spaces too).
Integers become their decimal text. Institution names are compared without any spaces and with
full-width brackets made half-width. Each is a SQL expression builder, so every query spells a
field's normalisation identically.
"""
from __future__ import annotations

import re

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


def name_text(text: str | None) -> str | None:
    """name() on a Python string, for reference tables checked when a contract loads (a test
    keeps the two the same)."""
    if text is None:
        return None
    out = str(text).strip(TRIM_CHARS).replace("（", "(").replace("）", ")")
    for c in (" ", "\u3000", "\u00a0"):
        out = out.replace(c, "")
    return out


REGEX_CHARS = 100_000  # characters of one regular expression: RE2 compiles ~300,000 of a name table's
_INNER = "[ \\x{3000}\\x{00a0}]*"  # the spaces name() removes anywhere
_ENDS = "[ \\t\\n\\r\\f\\v\\x{3000}\\x{00a0}]*"  # the characters it trims from the ends


def _pattern_regex(pattern: str) -> str:
    out = []
    for ch in pattern:
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        elif ch in " \u3000\u00a0":
            continue
        elif ch in "（(":
            out.append("[（(]")
        elif ch in "）)":
            out.append("[）)]")
        else:
            out.append(re.escape(ch))
    return _INNER.join(out)


def name_like(sql: str, patterns) -> str:
    """Whether a name matches one of the LIKE `patterns` (% any run, _ one character) as name()
    compares names (no spaces, half-width brackets) and ignoring case: one regular expression,
    so no line's name is rewritten (cheap on every line of a scan)."""
    alts, chunks, size = [], [], 0
    for p in patterns:  # RE2 refuses one expression past a size: a long name table takes several
        alts.append(_pattern_regex(p))
        size += len(alts[-1])
        if size >= REGEX_CHARS:
            chunks.append(alts)
            alts, size = [], 0
    if alts or not chunks:
        chunks.append(alts)
    tests = []
    for alts in chunks:
        rx = "(?is)^" + _ENDS + "(?:" + "|".join(alts) + ")" + _ENDS + "$"
        tests.append(f"regexp_matches({sql}, '{rx.replace(chr(39), chr(39) * 2)}')")
    return tests[0] if len(tests) == 1 else "(" + " OR ".join(tests) + ")"


def blank(sql: str) -> str:
    """True when a text value is empty or only whitespace (lazy: cheap for ordinary values)."""
    return (f"(CASE WHEN {sql} = '' THEN TRUE WHEN {sql} >= '!' AND NOT starts_with({sql}, '\u3000') "
            f"AND NOT starts_with({sql}, '\u00a0') THEN FALSE ELSE {key(sql)} = '' END)")


# the name normalisation as a DuckDB macro, for callers that compare names outside the engine
NORMALISE = f"CREATE MACRO cc_norm(x) AS {name('x')}"
