"""Every DuckDB construct claimcheck's SQL uses, run on DuckDB and (translated) on Spark: same values.

Each test is one construct of checks/engine/spark/dialect.py at its boundaries (half fens, binary ties,
whitespace of every kind, month ends, NaN, zero divisors). A construct with no Spark form must be
refused by name, never translated into something that means another thing.
"""
from __future__ import annotations

import datetime as dt
import math

import duckdb
import pyarrow as pa
import pytest

from checks.claims import normal
from checks.engine.spark.dialect import Unsupported, called_functions, to_spark


@pytest.fixture(scope="module")
def s(spark):
    from checks.engine.spark.session import private

    return private(spark)


def _norm(v):
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    if hasattr(v, "asDict"):
        return {k: _norm(x) for k, x in v.asDict().items()}
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]
    return v


def both(s, sql: str, table: pa.Table | None = None):
    """(DuckDB's rows, Spark's rows) of one DuckDB query over an optional table `t`."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    if table is not None:
        con.register("t", table)
        s.createDataFrame(table).createOrReplaceTempView("t")
    duck = _norm(con.sql(sql).fetchall())
    spark = _norm([tuple(r) for r in s.sql(to_spark(sql)).collect()])
    return duck, spark


def same(s, sql: str, table: pa.Table | None = None):
    duck, spark = both(s, sql, table)
    assert spark == duck, f"\nDuckDB: {duck}\nSpark:  {spark}\nSpark SQL: {to_spark(sql)}"
    return duck


def numbers(*values) -> pa.Table:
    return pa.table({"i": list(range(len(values))), "x": pa.array(values, pa.float64())})


def test_round_to_the_fen_is_duckdbs_at_binary_ties_and_near_ties(s):
    import random

    rng = random.Random(7)
    t = numbers(0.125, 0.625, 0.375, 1.005, 2.675, 12.345, 8.345, -0.125, -2.675, 0.285, 1e15 + 0.25, 500.0, None,
                float("nan"), float("inf"), *[round(rng.uniform(-1000, 1000), 3) for _ in range(3000)],
                *[k / 8 for k in range(-40, 40)], *[rng.uniform(-1e6, 1e6) for _ in range(500)])
    got = same(s, "SELECT i, round(x, 2), round(x, 0), round(x), round(x, 3) FROM t ORDER BY i", t)
    # the exact binary value decides: 0.125 is a true tie (away from zero), 2.675 lies below its text
    assert [r[1] for r in got[:5]] == [0.13, 0.63, 0.38, 1.0, 2.67]


def test_printf_two_decimals_of_a_rounded_value_and_several_values(s):
    t = numbers(0.125, 0.625, 1.005, 12.345, 370.0, -3.5, 0.1 + 0.2)
    got = same(s, "SELECT i, printf('%.2f', round(x, 2)), printf('T %.2f, F %.2f', round(x, 2), round(-x, 2)) "
                  "FROM t ORDER BY i", t)
    assert got[0][1] == "0.13"


def test_printf_g_drops_the_zeros_java_keeps(s):
    t = numbers(2.0, 1.5, 1234567.0, 100000.0, 123456.0, 0.0001, 1e-05, -3.0, 0.1 + 0.2, 0.0, 1 / 3, 1e20)
    got = same(s, "SELECT i, printf('%g', CAST(x AS DOUBLE)) FROM t ORDER BY i", t)
    assert [g for _, g in got][:4] == ["2", "1.5", "1.23457e+06", "100000"]


def test_strftime_with_literal_text(s):
    t = pa.table({"ts": pa.array([dt.datetime(2025, 3, 1, 9, 5, 7), dt.datetime(1999, 12, 31, 23, 59, 59)])})
    same(s, "SELECT strftime(CAST(ts AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S'), strftime(CAST(ts AS TIMESTAMP), '%Y年%m月') "
            "FROM t ORDER BY 1", t)


def test_regexp_full_match_anchors_the_whole_value(s):
    t = pa.table({"v": ["320106", "32010", "3201066", "a320106", "320106\n", "1:270", "1.5:100", "1:", ":2", None]})
    same(s, r"SELECT v, regexp_full_match(v, '\d{6}'), regexp_full_match(v, '\d+(\.\d+)?:\d+(\.\d+)?') FROM t "
            "ORDER BY v NULLS LAST", t)


def test_trim_with_characters_removes_every_kind_of_space_and_no_letter(s):
    t = pa.table({"v": ["\u3000 A1 \u00a0", "\tf123v\n", "nft", "\f\v x \r", "  ", "t", "中\u3000文"]})
    got = same(s, f"SELECT v, {normal.key('v')}, {normal.name('v')}, {normal.blank('v')} FROM t ORDER BY v", t)
    assert ("\tf123v\n", "f123v") in [(r[0], r[1]) for r in got]


def test_names_normalise_alike_full_width_brackets_punctuation_and_case(s):
    t = pa.table({"v": ["无创ＤＮＡ产前检测减免补助【福州市出生缺陷防控项目】", "镇江市第四人民医院〔镇江市妇幼保健院〕",
                        "c-反应蛋白、测定", "南京 鼓楼·医院［本部］", "a'b\\c%_", "β淀粉样蛋白"]})
    got = same(s, f"SELECT v, {normal.name('v')}, {normal.name_like('v', ['%DNA%产前%', '%鼓楼医院(%'])} FROM t ORDER BY v", t)
    assert ["镇江市第四人民医院〔镇江市妇幼保健院〕", "镇江市第四人民医院(镇江市妇幼保健院)", False] in [list(r) for r in got]


def test_isfinite_and_its_negation(s):
    t = numbers(float("nan"), float("inf"), float("-inf"), 1.0, None)
    same(s, "SELECT i, isfinite(x), NOT isfinite(x) FROM t ORDER BY i", t)
    assert same(s, "SELECT count(*) FILTER (WHERE NOT isfinite(x)) FROM t", t) == [[3]]


def test_hash_of_a_pair_counts_the_distinct_pairs(s):
    t = pa.table({"a": ["1", "1", "2", "2", " 2"], "b": ["x", "x", "x", "y", "y"]})
    assert same(s, "SELECT count(*), count(DISTINCT hash(a, b)) FROM t", t) == [[5, 4]]


def test_to_json_of_a_struct_keeps_null_keys_and_escapes_alike(s):
    t = pa.table({"a": ["x", None], "c": ['医院/"\\x', "tab\there"], "d": [False, True], "e": [3, None]})
    same(s, "SELECT to_json(struct_pack(a := a, c := c, d := d, e := e, n := CAST(NULL AS VARCHAR))) FROM t ORDER BY 1", t)


def test_json_text_extraction(s):
    t = pa.table({"j": ['{"mdtrt_id":"M1","row":3,"in_history":false,"file":null}', None]})
    same(s, "SELECT j->>'mdtrt_id', CAST(j->>'row' AS BIGINT), CAST(j->>'in_history' AS BOOLEAN), j->>'file' "
            "FROM t ORDER BY 1", t)


def test_ordered_list_of_structs_with_a_filter(s):
    t = pa.table({"r": [5, 1, 3, 2, 4], "v": [None, 1.5, None, 2.0, float("nan")]})
    got = same(s, "SELECT list(struct_pack(r := r, v := v) ORDER BY r) FILTER (WHERE v IS NULL OR isnan(v)) FROM t", t)
    assert [x["r"] for x in got[0][0]] == [3, 4, 5]


def test_string_agg_distinct_ordered_beside_another(s):
    t = pa.table({"g": [1, 1, 1, 2, 3], "x": ["附件3 序号2", "附件3 序号10", "附件3 序号2", "b", None],
                  "y": ["Z", "a", "Z", "", None]})
    same(s, "SELECT g, string_agg(DISTINCT x, '; ' ORDER BY x), string_agg(DISTINCT y, ', ' ORDER BY y) "
            "FROM t GROUP BY g ORDER BY g", t)


def test_date_minus_days_and_whole_years_between_dates(s):
    pairs = [("2000-02-29", "2025-02-28"), ("2000-02-29", "2025-03-01"), ("1990-03-15", "2025-03-14"),
             ("1990-03-15", "2025-03-15"), ("2025-03-15", "2024-03-16"), ("2025-03-15", "2024-03-15"),
             ("2024-02-29", "2025-02-28"), ("1990-01-31", "2025-02-28"), ("1990-03-31", "2025-04-30")]
    t = pa.table({"a": [dt.date.fromisoformat(a) for a, _ in pairs], "b": [dt.date.fromisoformat(b) for _, b in pairs]})
    same(s, "SELECT a, b, date_sub('year', CAST(a AS DATE), CAST(b AS DATE)), a >= b - INTERVAL 280 DAY, "
            "CAST(b - INTERVAL 280 DAY AS DATE) FROM t ORDER BY a, b", t)


def test_try_cast_and_cast(s):
    t = pa.table({"v": ["1.5", "x", "", "2025-01-02", None]})
    same(s, "SELECT v, TRY_CAST(v AS DOUBLE), TRY_CAST(v AS DATE), TRY_CAST(v AS BOOLEAN) FROM t ORDER BY v", t)


def test_cast_to_integer_rounds_half_to_even_and_decimal_defaults(s):
    t = numbers(1.5, 2.5, -1.5, -2.5, 2.4999999999999996, 7.0)
    same(s, "SELECT i, CAST(x AS INTEGER), CAST(x AS BIGINT), CAST(CAST(x AS VARCHAR) AS DECIMAL) FROM t ORDER BY i", t)


def test_division_is_double_and_a_zero_divisor_gives_infinity(s):
    t = pa.table({"a": [1, -1, 0, 7, None, 1], "b": [0.0, 0.0, 0.0, 2.0, 0.0, None]})
    same(s, "SELECT a, b, a / b, 1 / 270, a / 2 FROM t ORDER BY a NULLS LAST, b NULLS LAST", t)


def test_text_of_a_double_is_duckdbs(s):
    t = numbers(0.0, -0.0, 1.0, 500.0, 0.1, 0.30000000000000004, 1e-3, 5e-4, 1e-4, 1e-5, 1.5e-7, 123456.789,
                9999999.0, 1e7, 12345678.9, -12345678.9, 1e15, 1e16, 1.2345e17, 2.5e-300, -5e-4, float("nan"),
                float("inf"), None)
    got = same(s, "SELECT i, CAST(CAST(x AS DOUBLE) AS VARCHAR) FROM t ORDER BY i", t)
    assert [g for _, g in got][7:10] == ["0.0005", "0.0001", "1e-05"]


def test_like_takes_a_backslash_literally(s):
    t = pa.table({"v": ["a\\b", "ab", "a_b", "无创产前"]})
    same(s, "SELECT v, v LIKE 'a\\b', v LIKE 'a\\_b', v LIKE '%无创%' FROM t ORDER BY v", t)


def test_starts_with_count_filter_group_by_all_and_arg_min(s):
    t = pa.table({"g": ["320106", "320107", "330100", "320106"], "n": [3, 1, 2, 0], "j": ["c", "a", "b", "d"]})
    same(s, "SELECT starts_with(g, '3201'), count(*) FILTER (WHERE n > 0), arg_min(j, n), min(n) FROM t "
            "GROUP BY ALL ORDER BY 1", t)


def test_semi_and_anti_join(s):
    t = pa.table({"k": ["a", "b", "c"], "v": [1, 2, 3]})
    same(s, "SELECT l.k FROM t l SEMI JOIN (SELECT 'a' AS k UNION ALL SELECT 'c') x ON x.k = l.k "
            "ANTI JOIN (SELECT 'c' AS k) y ON y.k = l.k ORDER BY 1", t)


def test_grouping_sets_with_a_predicate_over_the_grouped_value(s):
    t = pa.table({"f": [0, 0, 1], "a": ["320106", "x", "320106"], "b": ["1:2", "1:2", "bad"]})
    same(s, r"SELECT f, a, b, count(*), NOT regexp_full_match(a, '\d{6}'), NOT regexp_full_match(b, '\d+:\d+') "
            "FROM t GROUP BY GROUPING SETS ((f, a), (f, b)) ORDER BY f, a NULLS LAST, b NULLS LAST", t)


@pytest.mark.parametrize("sql, construct", [
    ("SELECT json_merge_patch('{}', '{}')", "json_merge_patch"),
    ("SELECT json_object('a', 1)", "jsonobject"),
    ("SELECT t.* EXCLUDE (a) FROM t", "EXCLUDE"),
    ("SELECT printf('%d', 1)", "%d"),
    ("SELECT date_sub('month', DATE '2025-01-01', DATE '2025-03-01')", "month"),
    ("SELECT list(x ORDER BY x DESC) FROM t", "ascending"),
])
def test_a_construct_without_a_spark_form_is_refused_by_name(sql, construct):
    with pytest.raises(Unsupported, match=construct):
        to_spark(sql)


def test_a_function_spark_lacks_is_found_among_those_called(s):
    called = called_functions(to_spark("SELECT jaro_winkler_similarity(a, b), upper(a), printf('%g', a) FROM t"))
    assert [f for f in called if not s.catalog.functionExists(f)] == ["jarowinkler_similarity"]
