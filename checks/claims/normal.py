"""How claim values are normalised, the same way everywhere: value checks, engine, ledger, lookups.

Identifiers with many distinct values (visit, line, person and settlement ids) lose surrounding
spaces, the padding fixed-width (CHAR) columns of hospital databases add. Codes and names lose
surrounding whitespace of any kind (tab, line breaks, no-break and ideographic spaces too).
Integers become their decimal text. Names (institutions, items) are compared as name() writes
them: full-width forms folded, brackets unified, whitespace and punctuation dropped, upper case. Each is a SQL expression builder, so every query spells a
field's normalisation identically.
"""
from __future__ import annotations

import functools


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
    """The normalised text of a code or text field; blank is absent (NULL), as a CSV reader
    reads an empty cell: an extract that writes '' for a pregnancy number it does not know has not
    given one."""
    return f"nullif({ident(sql) if field in IDS else key(sql)}, '')"


# -- names: one normalisation for institution and item names ------------------------------------
# Full-width ASCII forms (ＤＮＡ, （, ５) become their ASCII letter (the NFKC mapping of the
# Halfwidth and Fullwidth Forms block), ASCII letters upper case, every bracket style （）()【】[]
# 〔〕［］ the ASCII pair, and whitespace and punctuation (、，。·-—/… and their full-width forms)
# are dropped. `%` and `_` stay: they are LIKE's wildcards in code-set patterns.
OPEN, CLOSE = "（(【[〔［〖", "）)】]〕］〗"
DROPPED = (" \t\n\r\f\v\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff"
           "·・•、，,。.;；:：'\"“”‘’`-－—–―~～〜/／\\|!！?？*＊#＃+＝=<>《》〈〉「」『』…^")


# full-width forms but the brackets (most names with a full-width character have only those)
_FW = "".join(chr(c) for c in range(0xFF01, 0xFF5F) if chr(c) not in OPEN + CLOSE)
_FW_TO = "".join(chr(ord(c) - 0xFEE0) for c in _FW)
_FW_PY = str.maketrans(_FW, _FW_TO)
_DROP_PY = str.maketrans({c: None for c in DROPPED})
_BRACKETS_PY = str.maketrans({**{c: "(" for c in OPEN}, **{c: ")" for c in CLOSE}})


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def name(sql: str) -> str:
    """A name (institution, item) as compared with a contract's lists and tables, in four cheap
    steps (measured: a single translate() over every mapped character costs ten times as much):
    full-width forms folded (translate, only on the rare names that have one besides brackets),
    whitespace and punctuation dropped (one regular expression), brackets unified, upper case."""
    x = f"CAST({sql} AS VARCHAR)"
    x = (f"CASE WHEN regexp_matches({x}, '{_fw_class()}') THEN translate({x}, '{_sql_text(_FW)}', "
         f"'{_sql_text(_FW_TO)}') ELSE {x} END")
    x = f"regexp_replace({x}, '{_cls(DROPPED)}', '', 'g')"
    for c in OPEN + CLOSE:
        x = f"replace({x}, '{c}', '{'(' if c in OPEN else ')'}')"
    return f"upper({x})"


def _upper(text: str) -> str:
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in text)  # one character each, as SQL's


def name_text(text: str | None) -> str | None:
    """name() on a Python string, for reference tables checked when a contract loads (a test
    keeps the two the same)."""
    if text is None:
        return None
    return _upper(str(text).translate(_FW_PY).translate(_DROP_PY).translate(_BRACKETS_PY))


REGEX_CHARS = 100_000  # characters of one regular expression: RE2 refuses a pattern past a size


def _one(c: str) -> str:
    """A character inside a regular-expression class, as short as RE2 and Java both read it."""
    return c if ord(c) > 0x3000 and not c.isspace() and c not in "\ufeff" else f"\\x{{{ord(c):04x}}}"


def _cls(chars) -> str:
    chars = sorted(set(chars))
    body = "".join(_one(c) for c in chars)
    return body if len(chars) == 1 and len(body) == 1 else "[" + body + "]"


def _fw_class() -> str:
    return _cls(_FW)


def _pattern_regex(pattern: str) -> str:
    """A LIKE pattern (% any run, _ one character) as a regular expression over name()'s text: the
    pattern as name() writes it, every other character literal."""
    out = []
    for ch in name_text(pattern):
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\x{{{ord(ch):02x}}}")
        elif ch.isascii() and not ch.isalnum():
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def name_cut(sql: str, names, at_least: int) -> str:
    """Whether a name is the first `at_least` or more characters (as name() counts them) of one of
    the literal `names`, cut there by a field length: name() of it starts one of them."""
    n = name(sql)
    alts = []
    for text in names:
        norm = name_text(text)
        if "%" in norm or "_" in norm or len(norm) <= at_least:
            continue
        alts.append(f"starts_with('{_sql_text(norm)}', {n})")
    return f"(length({n}) >= {at_least} AND ({' OR '.join(alts)}))" if alts else "FALSE"


def name_like(sql: str, patterns) -> str:
    """Whether a name matches one of the LIKE `patterns` (% any run, _ one character) as name()
    compares names (full-width folded, brackets unified, no spaces or punctuation), ignoring case:
    `lower(name(x)) LIKE lower(name(p))` for any p, as one regular expression over name(x).

    The expression is the names themselves: an earlier one matched the raw name, with the
    characters name() drops allowed between any two, which made each pattern some forty times
    longer and cost RE2 some 10 ms to compile in every query that held it (a server's request)."""
    return _name_like(sql, tuple(sorted(set(patterns))))


@functools.lru_cache(maxsize=4096)  # the same sets' SQL is written several times a check (1 ms each)
def _name_like(sql: str, patterns: tuple[str, ...]) -> str:
    n = name(sql)
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
        rx = "(?is)^(?:" + "|".join(alts) + ")$"
        tests.append(f"regexp_matches({n}, '{_sql_text(rx)}')")
    return tests[0] if len(tests) == 1 else "(" + " OR ".join(tests) + ")"


def blank(sql: str) -> str:
    """True when a text value is empty or only whitespace (lazy: cheap for ordinary values)."""
    return (f"(CASE WHEN {sql} = '' THEN TRUE WHEN {sql} >= '!' AND NOT starts_with({sql}, '\u3000') "
            f"AND NOT starts_with({sql}, '\u00a0') THEN FALSE ELSE {key(sql)} = '' END)")


# the name normalisation as a DuckDB macro, for callers that compare names outside the engine
NORMALISE = f"CREATE MACRO cc_norm(x) AS {name('x')}"
