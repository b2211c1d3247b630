"""`claimcheck export gx`: Great Expectations suites that find the same lines as claimcheck.

The parity test exports every bundled contract, runs each suite with GX on pandas over the
bundled samples and over hand-written lines (tests/fixtures/gx_hand_lines.csv, written to Parquet
the way another system would: integer codes, UTC timestamps, floats beside decimals), and
demands, for every exported rule, exactly the failing lines `claimcheck check --json` reports.
The helper columns the suites declare are checked against DuckDB, whose results claimcheck uses.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from checks import expr as expr_mod
from checks.claims.fields import FIELDS
from checks.contract import load_contracts
from checks.claims.normal import NORMALISE
from checks.export import frame
from checks.export.pandas_query import Translator

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "sample_claims").glob("*.parquet"))
CATALOGUE = f"sunshine_catalogue={ROOT / 'contracts/jiangsu-consumables/sample_catalogue.csv'}"
CONTRACT_IDS = sorted(p.name for p in (ROOT / "contracts").iterdir() if p.is_dir())
needs_gx = pytest.mark.skipif(importlib.util.find_spec("great_expectations") is None,
                              reason="great_expectations is not installed: pip install -e '.[gx]'")
# the other system's types: integer codes, UTC timestamps, a decimal beside floats, nullable ints
HAND_TYPES = {"feedetl_sn": pa.int64(), "insutype": pa.int64(), "med_type": pa.int64(),
              "mdtrtarea_admvs": pa.int64(), "insuplc_admdvs": pa.int64(), "fee_ocur_time": pa.timestamp("ms", "UTC"),
              "cnt": pa.int32(), "pric": pa.float64(), "det_item_fee_sumamt": pa.float64(),
              "inscp_scp_amt": pa.decimal128(12, 2), "preselfpay_amt": pa.float64(), "fetts": pa.int64(),
              "brdy": pa.date32(), "subsidy_amt": pa.float64(), "poverty_flag": pa.bool_()}


def claimcheck(*args):
    exe = Path(sys.executable).parent / "claimcheck"
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=300)


# ---- the helper columns compute what DuckDB computes ------------------------------------------

def duck(sql: str, **tables) -> list:
    con = duckdb.connect()
    con.execute(NORMALISE)
    for name, t in tables.items():
        con.register(name, t)
    return [r[0] for r in con.sql(sql).fetchall()]


def test_round_half_away_is_duckdbs_round_on_doubles_including_ties():
    rnd = random.Random(7)
    xs = [rnd.randint(-10**7, 10**7) / 1000 for _ in range(20000)] + [k / 200 for k in range(-4000, 4000)]
    x = pd.DataFrame({"x": np.array(xs) * 0.1})
    want = duck("SELECT round(x, 2) FROM t", t=x)
    assert frame.round_half_away(x, "x", 2).tolist() == want


def test_age_years_follows_duckdbs_month_end_rule():
    rnd = random.Random(3)
    day = lambda: dt.date(1980, 1, 1) + dt.timedelta(days=rnd.randint(0, 16000))  # noqa: E731
    pairs = [(day(), day()) for _ in range(3000)]
    edges = [dt.date(y, 2, d) for y in (1984, 1988, 2000, 2001) for d in (27, 28, 29) if d < 29 or y % 4 == 0]
    edges += [dt.date(y, m, d) for y in (2019, 2020, 2024) for m in (2, 3) for d in (1, 28, 29) if m == 3 or d < 29
              or y % 4 == 0]
    pairs += [(b, t) for b in edges for t in edges]
    df = pd.DataFrame({"b": pd.to_datetime([b for b, _ in pairs]), "t": pd.to_datetime([t for _, t in pairs])})
    want = duck("SELECT date_sub('year', CAST(b AS DATE), CAST(t AS DATE)) FROM d", d=df)
    assert frame.age_years(df, "b", "t").astype(int).tolist() == want


def test_risk_ratio_norm_and_text_trim_match_the_engine():
    df = pd.DataFrame({"r": pd.array(["1:500", "1:1000", "2:0", "1", None, "1:5000"], dtype="str"),
                       "n": pd.array(["\u3000江苏省人民医院 （江苏省妇幼保健院）\u00a0", " a b ", None, "x（y）", "",
                                      "z"], dtype="str")})
    risk = duck("SELECT TRY_CAST(split_part(r, ':', 1) AS DOUBLE) / "
                "NULLIF(TRY_CAST(split_part(r, ':', 2) AS DOUBLE), 0) FROM d", d=df)
    assert [None if np.isnan(v) else v for v in frame.risk_ratio(df, "r")] == risk
    got = frame.norm(df, "n")
    assert [None if pd.isna(v) else v for v in got] == duck("SELECT cc_norm(n) FROM d", d=df)
    assert [None if pd.isna(v) else v for v in frame.normalise(df["n"], "text")] == duck("SELECT trim(n) FROM d", d=df)


def test_decimals_become_the_doubles_duckdb_casts_them_to():
    rnd = random.Random(5)
    values = [pa.scalar(rnd.randint(-10**9, 10**9), pa.int64()).as_py() for _ in range(20000)]
    t = pa.table({"d": pa.array([None] + [v / 100 for v in values], pa.float64()).cast(pa.string())
                  .cast(pa.decimal128(14, 2))})
    got = frame.normalise(t.to_pandas()["d"], "number")
    want = duck("SELECT CAST(d AS DOUBLE) FROM t", t=t)
    assert np.isnan(got[0]) and got[1:].tolist() == want[1:]


CONDITIONS = [
    "subsidy_amt <> 0", "NOT poverty_flag",
    "subsidy_amt <> 0 AND poverty_flag AND fixmedins_name = '福州市第一医院'",
    "chrgitm_lv IN ('02', '2')", "NOT chrgitm_lv IN ('02', '2')", "NOT (inscp_scp_amt > 0)",
    "starts_with(insuplc_admdvs, '3501') OR insuplc_admdvs IN ('350000', '359900')",
    "NOT starts_with(insuplc_admdvs, '3501')", "det_item_fee_sumamt <= subsidy_amt + 0.005",
    "risk_ratio(serum_risk) > 0.001 OR age_years(brdy, fee_ocur_time) >= 35",
    "subsidy_amt BETWEEN 100 AND 600", "NOT (subsidy_amt BETWEEN 100 AND 600)", "serum_risk IS NOT NULL",
    "price_class IN ('一类', '基层') OR NOT (inscp_scp_amt <> preselfpay_amt)",
]


@pytest.mark.parametrize("text", CONDITIONS)
def test_conditions_select_the_lines_sql_finds_true_and_false(text):
    """Three-valued logic: NULL values make a condition neither TRUE nor FALSE, in pandas as in SQL."""
    rows = pd.DataFrame({
        "subsidy_amt": [0, 500, None, 600, 99.5, None], "poverty_flag": [True, False, None, True, False, None],
        "fixmedins_name": ["福州市第一医院", None, "福州市第一医院", "福州市第一医院", "x", "y"],
        "chrgitm_lv": ["02", "2", None, "01", "02", None], "inscp_scp_amt": [1.0, 0.0, None, -1.0, 5.0, 1.0],
        "preselfpay_amt": [1.0, None, 2.0, 3.0, 5.0, None],
        "insuplc_admdvs": ["350102", "359900", None, "350203", "350000", "3501"],
        "det_item_fee_sumamt": [1.0, 500.005, 3.0, 600.01, None, 1.0],
        "serum_risk": ["1:500", "1:1000", None, "1:999", "1:5000", None],
        "brdy": pd.to_datetime(["1985-06-01", "1990-01-01", None, "1984-02-29", "1980-01-01", "1990-01-01"]),
        "fee_ocur_time": pd.to_datetime(["2020-06-01 10:00"] * 3 + ["2019-02-28 10:00"] * 3),
        "price_class": ["一类", None, "三类", "基层", None, "二类"]})
    e = expr_mod.parse(text, set(FIELDS))
    helpers = Helpers()
    q = Translator(helpers)
    t, f = q.true(e._tree), q.false(e._tree)
    df = frame.prepare(rows, {"columns": {c: FIELDS[c].family for c in rows}, "helpers": helpers.specs})
    want_t = duck(f"SELECT coalesce({e.sql('d')}, FALSE) FROM d", d=rows)
    want_f = duck(f"SELECT coalesce(NOT {e.sql('d')}, FALSE) FROM d", d=rows)
    assert df.eval(t, engine="python").tolist() == want_t
    assert df.eval(f, engine="python").tolist() == want_f


def test_a_condition_without_a_gx_form_is_not_exportable_and_says_why():
    from checks.export.gx_context import Context, NotExportable
    from checks.export.gx_require import require_expectations

    e = expr_mod.parse("chrgitm_lv IN ('02', '2') AND hilist_name LIKE '%检测%'", set(FIELDS))
    with pytest.raises(NotExportable, match="hilist_name LIKE '%检测%': like has no GX expectation"):
        require_expectations(e._tree, Context(contract=None), "X")


@needs_gx
def test_a_rule_whose_scope_has_no_pandas_form_is_listed_with_the_reason(contracts_copy):
    yaml = contracts_copy / "jiangsu-nipt" / "1.0.0.yaml"
    text = yaml.read_text(encoding="utf-8")
    yaml.write_text(text.replace("when: inscp_scp_amt > 0\n", "when: hilist_name LIKE '%检测%'\n", 1), encoding="utf-8")
    from checks.export.gx import export_contracts

    [e] = export_contracts(load_contracts(contracts_copy / "jiangsu-nipt"))
    [listed] = [n for n in e.not_exportable if n["rule_id"] == "JS-6-setting"]
    assert "no pandas form" in listed["reason"] and "like" in listed["reason"]
    assert "JS-6-setting" not in e.exported and len(e.exported) == 11


class Helpers:
    """The helper registry the translator asks for function columns (as the export's Context)."""

    def __init__(self):
        self.specs = []

    def function(self, name, cols):
        args = {"age_years": {"birth": cols[0], "on": cols[-1]}, "risk_ratio": {"column": cols[0]}}[name]
        col = f"cc_{name}__{'__'.join(cols)}"
        self.specs.append({"name": col, "op": name, "args": args})
        return col


# ---- the command and the suites it writes ---------------------------------------------------

def test_the_main_cli_never_imports_great_expectations():
    code = ("import sys; from click.testing import CliRunner; from checks.cli import main; "
            f"r = CliRunner().invoke(main, ['check', {str(SAMPLES[0])!r}, '--show', '0']); "
            "h = CliRunner().invoke(main, ['export', 'gx', '--help']); "
            "print(r.exit_code, h.exit_code, 'great_expectations' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.split() == ["1", "0", "False"], out.stderr


def test_without_great_expectations_export_says_how_to_install_it(tmp_path):
    code = ("import sys; sys.modules['great_expectations'] = None; from checks.cli import main; "
            f"main(['export', 'gx', '--out', {str(tmp_path)!r}])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 2
    assert "pip install 'claimcheck[gx]'" in out.stderr and "Traceback" not in out.stderr


@pytest.fixture(scope="module")
def suites(tmp_path_factory):
    out = tmp_path_factory.mktemp("gx")
    run = claimcheck("export", "gx", "--out", out, "--table", CATALOGUE)
    assert run.returncode == 0, run.stderr
    return out, run.stdout


@needs_gx
def test_one_suite_per_version_every_rule_exported_or_listed_with_a_reason(suites):
    out, stdout = suites
    versions = load_contracts(ROOT / "contracts")
    listing = json.loads((out / "not_exportable.json").read_text(encoding="utf-8"))["not_exportable"]
    exported = 0
    for v in versions:
        suite = json.loads((out / f"{v.id}-{v.version}.json").read_text(encoding="utf-8"))
        meta = suite["meta"]["claimcheck"]
        listed = {n["rule_id"] for n in listing if (n["contract_id"], n["version"]) == (v.id, v.version)}
        assert {n["rule_id"] for n in meta["not_exportable"]} == listed
        assert all(n["reason"] for n in meta["not_exportable"])
        assert set(meta["exported_rules"]) | listed == {r.id for r in v.rules}, "a rule was silently dropped"
        assert not set(meta["exported_rules"]) & listed
        assert {e["meta"]["rule_id"] for e in suite["expectations"]} == set(meta["exported_rules"])
        for e in suite["expectations"]:
            m = e["meta"]
            assert (m["contract_id"], m["contract_version"]) == (v.id, v.version)
            assert m["severity"] in ("violation", "suspect") and m["source"]["document"] and m["source"]["quote"]
            assert m["source"]["section"] and e["kwargs"]["row_condition"]["type"] == "pass_through"
        exported += len(meta["exported_rules"])
        assert f"{v.id}-{v.version}.json: {len(meta['exported_rules'])} rules" in stdout
    assert f"{exported} rules exported, {len(listing)} not exportable" in stdout
    kinds = {n["kind"] for n in listing}
    assert kinds == {"frequency", "exclusion", "ceiling", "window"}  # per-visit sums; the older FZ-W


@needs_gx
def test_suites_load_with_great_expectations_as_they_are(suites):
    import great_expectations as gx

    out, _ = suites
    ctx = gx.get_context(mode="ephemeral")
    for path in sorted(out.glob("*-*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        suite = gx.ExpectationSuite(**data)
        assert len(suite.expectations) == len(data["expectations"]) > 0, path.name
        assert len(ctx.suites.add(suite).expectations) == len(data["expectations"])


@needs_gx
def test_a_rule_reading_an_unsupplied_table_is_listed_not_dropped():
    from checks.export.gx import export_contracts

    [e] = export_contracts(load_contracts(ROOT / "contracts/jiangsu-consumables"))
    assert e.exported == [] and e.suite["expectations"] == []
    assert {n["rule_id"] for n in e.not_exportable} == {"CS-1", "CS-2"}
    assert all("--table sunshine_catalogue=" in n["reason"] for n in e.not_exportable)


# ---- parity: the same failing lines as claimcheck --------------------------------------------

@pytest.fixture(scope="module")
def hand_file(tmp_path_factory):
    t = pacsv.read_csv(ROOT / "tests/fixtures/gx_hand_lines.csv",
                       convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    t = t.drop_columns(["why"])
    cols = {}
    for name in t.column_names:
        typ = HAND_TYPES.get(name, pa.string())
        col = t.column(name)
        if pa.types.is_timestamp(typ):
            col = pa.array(pd.to_datetime(col.to_pylist(), utc=True), typ)
        elif pa.types.is_boolean(typ):
            col = pa.array([None if v is None else str(v).lower() == "true" for v in col.to_pylist()], typ)
        else:
            col = col.cast(pa.string()).cast(typ)
        cols[name] = col
    path = tmp_path_factory.mktemp("hand") / "gx_hand_lines.parquet"
    pq.write_table(pa.table(cols), path)
    return path


@pytest.fixture(scope="module")
def gx_runs(suites, hand_file):
    """{(contract, version): {rule: {(file, mdtrt_id, feedetl_sn)}}} from GX, and its errors."""
    from checks.export.gx_run import context, run_suite

    frames = []
    for p in SAMPLES:  # one frame of the samples (same schema), one of the hand-written lines
        df = pd.read_parquet(p)
        df["source_file"] = p.name
        frames.append(df)
    batches = [pd.concat(frames, ignore_index=True), pd.read_parquet(hand_file).assign(source_file=hand_file.name)]
    ctx, found, errors, stderr = context(), {}, {}, io.StringIO()
    out, _ = suites
    with contextlib.redirect_stderr(stderr):
        _run_all(out, batches, ctx, found, errors, run_suite)
    return found, errors, stderr.getvalue()


def _run_all(out, batches, ctx, found, errors, run_suite):
    for path in sorted(out.glob("*-*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        meta = suite["meta"]["claimcheck"]
        key = (meta["contract_id"], meta["version"])
        found[key] = {r: set() for r in meta["exported_rules"]}
        for df in batches:
            run = run_suite(suite, df, keys=["source_file", "mdtrt_id", "feedetl_sn"], ctx=ctx)
            for rule, lines in run.findings.items():
                found[key][rule] |= lines
            errors.update({(*key, r): e for r, e in run.errors.items()})


@needs_gx
@pytest.mark.parametrize("contract_id", CONTRACT_IDS)
def test_gx_finds_exactly_the_lines_claimcheck_reports(contract_id, gx_runs, hand_file, tmp_path):
    found, errors, _ = gx_runs
    report = tmp_path / "report.json"
    table = ["--table", CATALOGUE] if contract_id == "jiangsu-consumables" else []
    run = claimcheck("check", *SAMPLES, hand_file, "--json", report, "--show", "0",
                     "--contracts", ROOT / "contracts" / contract_id, *table)
    assert run.returncode in (0, 1), run.stderr
    r = json.loads(report.read_text(encoding="utf-8"))
    status = {(x["contract_version"], x["rule_id"]): x["status"] for x in r["rules"]}
    versions = [k for k in found if k[0] == contract_id]
    assert versions
    for cid, version in versions:
        for rule, got in found[(cid, version)].items():
            assert not errors.get((cid, version, rule)), errors[(cid, version, rule)]
            want = {(Path(v["file"]).name, v["mdtrt_id"], v["feedetl_sn"]) for v in r["violations"]
                    if (v["contract_version"], v["rule_id"]) == (version, rule)}
            assert status[(version, rule)] in ("pass", "fail"), (rule, status[(version, rule)])
            assert got == want, f"{rule}@{version}: only GX {sorted(got - want)}; only claimcheck {sorted(want - got)}"
    exported = {rule for key in versions for rule, got in found[key].items()}
    seen = {rule for key in versions for rule, got in found[key].items() if got}
    assert seen == exported, f"rules the data never fails, so parity proves nothing for them: {exported - seen}"


@needs_gx
def test_gx_prints_no_progress_bars(gx_runs):
    stderr = gx_runs[2]
    assert "Calculating Metrics" not in stderr and "it/s" not in stderr, stderr[:300]
