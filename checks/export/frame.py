"""The claim-line DataFrame an exported suite runs on: columns read as claimcheck reads them,
plus the helper columns the suite declares. pandas only; no Great Expectations needed.

An exported suite is self-contained: its meta holds `claimcheck.frame`, with
  columns  {claim column: type family} for every claim column the suite reads,
  helpers  [{name, op, args, definition}], computed in order before validation.
`prepare(df, frame)` applies both to a DataFrame as `pandas.read_parquet` returns it. Every op
reproduces the DuckDB expression claimcheck evaluates for the same rule (tested against DuckDB
in tests/test_gx_export.py), so GX sees the values claimcheck judges.

Column normalisation (claimcheck's `lines` view): codes and text become trimmed text (integers as
their decimal text); numbers float64 (decimals converted exactly, through their text); timestamps
local times in Asia/Shanghai without zone; dates midnight datetimes; booleans True/False/None.
"""
from __future__ import annotations

import decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TIME_ZONE = "Asia/Shanghai"
# characters DuckDB's trim() removes: Unicode category Zs (space separators)
ZS = " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"

OPS = {}


def op(name: str):
    def deco(fn):
        OPS[name] = fn
        return fn
    return deco


def prepare(df: pd.DataFrame, frame: dict) -> pd.DataFrame:
    """A copy of `df` with the suite's columns normalised and its helper columns added."""
    out = df.copy(deep=False)
    for col, family in frame["columns"].items():
        if col in out.columns:
            out[col] = normalise(out[col], family)
    for h in frame["helpers"]:
        if h["op"] not in OPS:
            raise ValueError(f"helper {h['name']}: unknown op {h['op']!r}; known: {', '.join(sorted(OPS))}")
        out[h["name"]] = OPS[h["op"]](out, **h["args"])
    return out


def normalise(s: pd.Series, family: str) -> pd.Series:
    if family in ("code", "text"):
        return _text(s)
    if family == "number":
        return _number(s)
    if family == "timestamp":
        return _local(s)
    if family == "date":
        return _local(s).dt.normalize()
    if family == "boolean":
        return s.astype(object).where(s.notna(), None)
    raise ValueError(f"unknown type family {family!r}")


def _text(s: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(s):  # integer codes with nulls arrive as float64
        s = s.map(lambda v: None if pd.isna(v) else str(int(v)) if float(v).is_integer() else repr(v))
    elif pd.api.types.is_integer_dtype(s):
        s = s.astype("Int64").astype(str).where(s.notna(), None)
    return s.astype("str").str.strip(ZS)


def _number(s: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    # Python Decimals: through their text, as DuckDB's exact decimal-to-double cast (Arrow's direct
    # cast is off by one unit in the last place for about one value in eight)
    text = pa.array([None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in s],
                    pa.string())
    return pd.Series(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False), index=s.index)


def _local(s: pd.Series) -> pd.Series:
    if not (pd.api.types.is_datetime64_any_dtype(s)):
        s = pd.to_datetime(s)
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert(TIME_ZONE).dt.tz_localize(None)
    return s.astype("datetime64[ns]")


@op("date_of")
def date_of(df, column):
    """CAST(column AS DATE), as a midnight datetime."""
    return df[column].dt.normalize()


@op("norm")
def norm(df, column):
    """cc_norm(column): trimmed, full-width brackets folded to ASCII, spaces removed."""
    s = df[column].astype("str").str.strip(ZS)
    return (s.str.replace("（", "(", regex=False).str.replace("）", ")", regex=False)
            .str.replace(" ", "", regex=False).str.replace("\u3000", "", regex=False)
            .str.replace("\u00a0", "", regex=False))


@op("lookup")
def lookup(df, keys, rows, table=None, value=None):
    """The value of the reference-table row whose keys equal the line's `keys` columns (NaN: none)."""
    ref = pd.DataFrame(rows, columns=[*keys, "__v"])
    ref["__v"] = ref["__v"].astype("float64")
    left = df[keys].reset_index(drop=True)
    for k in keys:
        ref[k] = ref[k].astype("str")
        left[k] = left[k].astype("str")
    joined = left.merge(ref, how="left", on=keys, validate="many_to_one")
    return pd.Series(joined["__v"].to_numpy(), index=df.index)


@op("eval")
def evaluate(df, expr):
    """A pandas DataFrame.eval expression over claim and helper columns (SQL arithmetic: NULL -> NaN)."""
    return pd.Series(df.eval(expr, engine="python"), index=df.index).astype("float64")


@op("steps")
def steps(df, count, first, each_further, max=None):
    """least(first + greatest(count - 1, 0) * each_further, max)."""
    total = first + np.maximum(df[count].astype("float64") - 1, 0) * each_further
    return total if max is None else np.minimum(total, max)


@op("round_half_away")
def round_half_away(df, column, digits):
    """DuckDB's round(x, digits) on doubles: the exact binary value rounded half away from zero."""
    x = df[column].to_numpy(dtype="float64")
    scale = 10.0 ** digits
    y = np.abs(x) * scale
    k = np.floor(y + 0.5)
    frac = y - np.floor(y)
    near = np.isfinite(y) & (np.abs(frac - 0.5) < 1e-6)  # a tie within float error: decide exactly
    q = decimal.Decimal(1).scaleb(-digits)
    for i in np.nonzero(near)[0]:
        exact = decimal.Decimal(float(abs(x[i]))).quantize(q, rounding=decimal.ROUND_HALF_UP)
        k[i] = float(exact.scaleb(digits))
    return pd.Series(np.copysign(k / scale, x), index=df.index)


@op("age_years")
def age_years(df, birth, on):
    """date_sub('year', CAST(birth AS DATE), CAST(on AS DATE)): whole years, DuckDB's month-end rule."""
    b, t = df[birth].dt.normalize(), df[on].dt.normalize()
    swap = b > t
    start, end = b.where(~swap, t), t.where(~swap, b)
    end_days = end.dt.days_in_month
    sd = start.dt.day.where(~((end.dt.day == end_days) & (start.dt.day > end_days)), end_days)
    months = ((end.dt.year - start.dt.year) * 12 + (end.dt.month - start.dt.month)
              - (end.dt.day < sd).astype("float64"))
    years = np.trunc(months / 12)
    return pd.Series(np.where(swap, -years, years), index=df.index).astype("float64")


@op("risk_ratio")
def risk_ratio(df, column):
    """A risk written '1:N' as the number 1/N; NaN when it is not of that form or N is 0."""
    parts = df[column].astype("str").str.split(":")
    num = pd.to_numeric(parts.str[0].str.strip(), errors="coerce")
    den = pd.to_numeric(parts.str[1].str.strip(), errors="coerce")
    return (num / den.where(den != 0)).astype("float64")
