"""The condition language: what parses, how it renders, what is refused."""
from __future__ import annotations

import duckdb
import pytest

from checks.expr import ExprError, parse

COLS = {"price_class", "brdy", "fee_ocur_time", "inscp_scp_amt", "hilist_code"}


def evaluate(text, **row):
    con = duckdb.connect()
    cols = ", ".join(f"{v!r} AS {k}" if not hasattr(v, "isoformat") else f"'{v.isoformat()}'::TIMESTAMP AS {k}"
                     for k, v in row.items())
    return con.sql(f"SELECT {parse(text, COLS).sql('l')} FROM (SELECT {cols}) l").fetchall()[0][0]


def test_columns_are_qualified_and_collected():
    e = parse("price_class IN ('一类', '基层') AND inscp_scp_amt > 0", COLS)
    assert e.columns == {"price_class", "inscp_scp_amt"}
    assert '"l"."price_class"' in e.sql("l")


def test_age_on_the_day():
    import datetime as dt
    assert evaluate("age_years(brdy, fee_ocur_time) >= 35", brdy=dt.datetime(1990, 3, 2),
                    fee_ocur_time=dt.datetime(2025, 3, 1)) is False
    assert evaluate("age_years(brdy, fee_ocur_time) >= 35", brdy=dt.datetime(1990, 3, 1),
                    fee_ocur_time=dt.datetime(2025, 3, 1)) is True


def test_text_functions():
    assert evaluate("starts_with(hilist_code, 'CJ') AND length(hilist_code) = 22",
                    hilist_code="CJ30303033340301303001") is True


@pytest.mark.parametrize("text", ["", "x > 1", "price_class =", "DELETE FROM lines",
                                  "price_class = 'a' UNION SELECT 1", "glob('*') IS NULL",
                                  "CAST(price_class AS BLOB) IS NULL"])
def test_refused(text):
    with pytest.raises(ExprError):
        parse(text, COLS)


def test_a_call_the_parser_itself_cannot_build_is_a_malformed_condition():
    with pytest.raises(ExprError, match="malformed condition 'var_map.*IndexError"):
        parse("var_map(hilist_code) IS NULL", COLS)
