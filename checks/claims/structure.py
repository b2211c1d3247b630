"""The structure of each claim file, checked with pandera before any value is read.

The claim-line contract is a pandera DataFrameSchema: every national field a column, required
or not, with a check of its type family. It is validated against a zero-row frame built from the
file's Parquet schema (Arrow types kept), so presence and types are judged without reading data.
Files sharing one schema are judged once. Values are checked afterwards in the engine's one scan
(checks/claims/values.py compiles pandera value checks to SQL).
"""
from __future__ import annotations

import difflib

import pyarrow as pa

from ..errors import InputError
from .columns import Source, chinese_name
from .fields import FIELDS

FAMILY_WORDS = {
    "code": "text or integer", "text": "text", "number": "integer, floating point or decimal",
    "timestamp": "timestamp or date", "date": "date or timestamp", "boolean": "boolean",
}


def family_ok(t: pa.DataType, family: str) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_null(t):
        return True  # an all-None column: absent, whatever its family
    is_text = pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
    return {
        "code": is_text or pa.types.is_integer(t),
        "text": is_text,
        "number": pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t),
        "timestamp": pa.types.is_timestamp(t) or pa.types.is_date(t),
        "date": pa.types.is_timestamp(t) or pa.types.is_date(t),
        "boolean": pa.types.is_boolean(t),
    }[family]


_SCHEMA = None


def structure_schema():
    """The pandera schema of a claim file's structure (built once)."""
    global _SCHEMA
    if _SCHEMA is None:
        import pandera.pandas as pdr

        def family_check(family):
            return pdr.Check(lambda s: family_ok(s.dtype.pyarrow_dtype, family), name="type family")

        _SCHEMA = pdr.DataFrameSchema(
            {name: pdr.Column(checks=[family_check(f.family)], required=f.required, nullable=True)
             for name, f in FIELDS.items()},
            strict=False, name="claim line")
    return _SCHEMA


def close_headers(field: str, names: list[str], sources: dict[str, Source]) -> str:
    """The file's headers most like a missing field (by its national or Chinese name), and the
    --columns line that would use the closest."""
    taken = {s.column for s in sources.values()}
    free = [n for n in names if n not in taken]
    score = {n: max(difflib.SequenceMatcher(None, n.lower(), want.lower()).ratio()
                    for want in (field, chinese_name(field))) for n in free}
    close = sorted((n for n in free if score[n] >= 0.5), key=lambda n: (-score[n], n))[:3]
    if not close:
        return ""
    return (f"; closest headers in the file: {', '.join(close)}; if {close[0]!r} is it, pass --columns MAP.yaml "
            f"with the line `{field}: {close[0]}`")


_PASSED: set = set()  # structures (each field with its type; the partitioned fields) that passed


def structure_errors(display: str, schema: pa.Schema, sources: dict[str, Source]) -> list[InputError]:
    """Presence and type family of every field in one file (partition values are checked as data)."""
    import pandas as pd
    import pandera.pandas as pdr

    cols = {}
    for field, src in sources.items():
        typ = pa.string() if src.partition and FIELDS[field].family in ("code", "text") else None
        if src.partition:
            if typ is None:
                continue  # a typed partition value is validated row by row in the scan
        else:
            typ = schema.field(src.column).type
        cols[field] = pa.array([], type=typ)
    partitioned = {f for f, s in sources.items() if s.partition}
    # the check reads the structure alone (no row): one that passed passes again (a server's
    # messages all have one structure; 12 ms of pandera a request otherwise)
    shape = (tuple(sorted((f, str(a.type)) for f, a in cols.items())), tuple(sorted(partitioned)))
    if shape in _PASSED:
        return []
    frame = pa.table(cols).to_pandas(types_mapper=pd.ArrowDtype) if cols else pd.DataFrame()
    schema_ = structure_schema()
    if partitioned:
        schema_ = schema_.update_columns({f: {"required": False} for f in partitioned})
    try:
        schema_.validate(frame, lazy=True)
        if len(_PASSED) < 1024:
            _PASSED.add(shape)
        return []
    except pdr.errors.SchemaErrors as err:
        out = []
        for _, case in err.failure_cases.iterrows():
            if case["check"] == "column_in_dataframe":
                field = str(case["failure_case"])
                out.append(InputError(display, f"required column is missing ({FIELDS[field].zh})"
                                      + close_headers(field, schema.names, sources), field))
            elif case["check"] == "type family":
                field = str(case["column"])
                src = sources[field]
                name = field if src.column == field else f"{field} (file column {src.column})"
                out.append(InputError(display, f"type {schema.field(src.column).type} is not allowed; "
                                      f"valid: {FAMILY_WORDS[FIELDS[field].family]}",
                                      name))
            else:  # pandera reports something we did not foresee: still located
                out.append(InputError(display, f"{case['check']}: {case['failure_case']}", str(case["column"])))
        return out
