"""`claimcheck export gx`: Great Expectations suites that find the same lines as claimcheck.

The parity tests export every bundled contract, run each suite with GX on pandas and demand,
for every exported rule, exactly the failing lines (and each finding's severity) claimcheck
reports, over: the bundled samples, the hand-written policy batches (tests/fixtures/policy), the
Oracle and warehouse extracts (tests/fixtures/extracts, the latter through its column map) and
tests/fixtures/gx_hand_lines.csv, written to Parquet the way another system would (integer codes,
UTC timestamps, decimals beside floats). gx_hand_lines.csv also says, line by line, what
claimcheck finds on it (`expect`): a specification both tools are held to. Every rule is either
exported or listed as not exportable with its reason.
"""
from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import extracts
from checks import check
from checks import expr as expr_mod
from checks.claims.fields import COLUMNS, FIELDS
from checks.contract import load_contracts
from checks.contract.retired import judging

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "sample_claims").glob("*.parquet"))
HAND = ROOT / "tests/fixtures/gx_hand_lines.csv"
POLICY = sorted(p for p in (ROOT / "tests/fixtures/policy").glob("*.csv") if "crosswalk" not in p.name)
CROSSWALK = ROOT / "tests/fixtures/policy/institution_crosswalk.csv"
TABLES = {"jiangsu-consumables": {"sunshine_catalogue": str(ROOT / "contracts/jiangsu-consumables/sample_catalogue.csv")},
          "jilin-art": {"art_institutions": str(ROOT / "contracts/jilin-art/sample_art_institutions.csv")}}
CONTRACT_IDS = sorted(p.name for p in (ROOT / "contracts").iterdir() if p.is_dir())
needs_gx = pytest.mark.skipif(importlib.util.find_spec("great_expectations") is None,
                              reason="great_expectations is not installed: pip install -e '.[gx]'")
# the other system's types: integer codes, UTC timestamps, decimals beside floats, nullable ints
HAND_TYPES = {"feedetl_sn": pa.int64(), "insutype": pa.int64(), "med_type": pa.int64(),
              "mdtrtarea_admvs": pa.int64(), "insuplc_admdvs": pa.int64(), "fee_ocur_time": pa.timestamp("ms", "UTC"),
              "cnt": pa.int32(), "pric": pa.float64(), "det_item_fee_sumamt": pa.float64(),
              "fulamt_ownpay_amt": pa.float64(), "overlmt_amt": pa.decimal128(12, 3),
              "inscp_scp_amt": pa.decimal128(12, 2), "preselfpay_amt": pa.float64(), "fetts": pa.int64(),
              "brdy": pa.date32(), "subsidy_amt": pa.float64(), "poverty_flag": pa.bool_()}
# rules GX cannot express, and the words their reason must give
NOT_EXPORTABLE = {
    ("fuzhou-nipt-subsidy", "1.1.0", "FZ-7"): "running count per psn_no+fetts",
    ("fuzhou-nipt-subsidy", "1.1.0", "FZ-W"): "judged by the newest version defining FZ-W (2.1.0)",
    ("fuzhou-nipt-subsidy", "2.1.0", "FZ-7"): "within 210 days",
    ("jiangsu-nipt", "1.1.0", "JS-3"): "sums the lines of each mdtrt_id group",
    ("jiangsu-nipt", "1.1.0", "JS-5"): "other lines of its visit",
    ("jiangsu-nipt", "1.1.0", "JS-7-detection"): "refund lines count negative",
    ("jiangsu-nipt", "1.1.0", "JS-7-diagnosis"): "running count",
    ("jiangsu-nipt", "1.1.0", "JS-SAMPLE"): "other lines of its visit",
    ("jiangsu-nipt", "1.1.0", "JS-SAMPLE-draw"): "and none of other_lab_tests",
    ("jiangxi-rmc", "1.1.0", "JX-3-addon"): "base item (cervical_screw_base) with units left after refunds",
    ("jiangxi-rmc", "1.1.0", "JX-3-addon-fluorescence"): "base item (surgery)",
    ("jiangxi-rmc", "1.1.0", "JX-3-addon-debridement"): "base item (debridement)",
    ("jiangxi-rmc", "1.1.0", "JX-3-base-units"): "running count per mdtrt_id",
    ("jilin-art", "1.1.0", "JL-1"): "dropped where JL-3 (which supersedes it) finds the same line",
    ("jilin-art", "1.1.0", "JL-3"): "running count per psn_no+hilist_code",
    ("jilin-art", "1.1.0", "JL-3-embryo"): "running count",
    ("jiangsu-consumables", "1.1.0", "CS-1"): "rows valid on the line's date",
    ("jiangsu-consumables", "1.1.0", "CS-1-filed"): "rows valid on the line's date",
    ("jiangsu-consumables", "1.1.0", "CS-W"): "rows valid on the line's date",
}


def claimcheck(*args):
    exe = Path(sys.executable).parent / "claimcheck"
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=300)


def table_args(*contract_ids) -> list[str]:
    return [f"--table={k}={v}" for cid in contract_ids for k, v in TABLES.get(cid, {}).items()]


# ---- conditions: three-valued logic, values other than columns computed by the engine's SQL ----

CONDITIONS = [
    "subsidy_amt <> 0", "NOT poverty_flag",
    "subsidy_amt <> 0 AND poverty_flag AND fixmedins_name = '福州市第一医院'",
    "chrgitm_lv IN ('02', '2')", "NOT chrgitm_lv IN ('02', '2')", "NOT (inscp_scp_amt > 0)",
    "starts_with(insuplc_admdvs, '3501') OR insuplc_admdvs IN ('350000', '359900')",
    "NOT starts_with(insuplc_admdvs, '3501')", "det_item_fee_sumamt <= subsidy_amt + 0.005",
    "risk_ratio(serum_risk) > 0.001 OR age_years(brdy, CAST(fee_ocur_time AS DATE) + 196) >= 35",
    "subsidy_amt BETWEEN 100 AND 600", "NOT (subsidy_amt BETWEEN 100 AND 600)", "serum_risk IS NOT NULL",
    "price_class IN ('一类', '基层') OR NOT (inscp_scp_amt <> preselfpay_amt)",
    "coalesce(starts_with(insuplc_admdvs, '3206'), FALSE)", "NOT coalesce(risk_ratio(serum_risk) > 0.001, FALSE)",
    "coalesce(insuplc_admdvs, '') = ''", "fixmedins_name LIKE '%第一%' OR subsidy_amt > 550",
]


@pytest.mark.parametrize("text", CONDITIONS)
def test_conditions_select_the_lines_sql_finds_true_and_false(text):
    """NULL values make a condition neither TRUE nor FALSE, in pandas as in SQL; function values,
    arithmetic and LIKE come from helper columns holding claimcheck's own SQL."""
    from checks.export.frame import plain
    from checks.export.gx_context import Context

    rows = pd.DataFrame({
        "subsidy_amt": [0, 500, None, 600, 99.5, None], "poverty_flag": [True, False, None, True, False, None],
        "fixmedins_name": ["福州市第一医院", None, "福州市第一医院", "福州市第一医院", "x", "y"],
        "chrgitm_lv": ["02", "2", None, "01", "02", None], "inscp_scp_amt": [1.0, 0.0, None, -1.0, 5.0, 1.0],
        "preselfpay_amt": [1.0, None, 2.0, 3.0, 5.0, None],
        "insuplc_admdvs": ["350102", "359900", None, "320602", "350000", "3501"],
        "det_item_fee_sumamt": [1.0, 500.005, 3.0, 600.01, None, 1.0],
        "serum_risk": ["1:500", "1:1000", None, "1:999", "1:5000", None],
        "brdy": pd.to_datetime(["1985-06-01", "1990-01-01", None, "1984-02-29", "1980-01-01", "1990-01-01"]),
        "fee_ocur_time": pd.to_datetime(["2020-06-01 10:00"] * 3 + ["2019-02-28 10:00"] * 3),
        "price_class": ["一类", None, "三类", "基层", None, "二类"]})
    e = expr_mod.parse(text, set(COLUMNS))
    ctx = Context(contract=None)
    t, f = ctx.q.true(e._tree), ctx.q.false(e._tree)
    con = duckdb.connect()
    con.register("l", rows)
    helpers = [f"({h.sql}) AS {h.name}" for h in ctx.helpers.values()]
    df = plain(con.sql(f"SELECT *{''.join(', ' + h for h in helpers)} FROM l").df())
    want_t = [r[0] for r in con.sql(f"SELECT coalesce({e.sql('l')}, FALSE) FROM l").fetchall()]
    want_f = [r[0] for r in con.sql(f"SELECT coalesce(NOT {e.sql('l')}, FALSE) FROM l").fetchall()]
    assert df.eval(t, engine="python").tolist() == want_t
    assert df.eval(f, engine="python").tolist() == want_f


def test_a_condition_part_without_a_pandas_form_is_a_documented_helper_holding_its_sql():
    from checks.export.gx_context import Context
    from checks.export.gx_require import require_expectations

    e = expr_mod.parse("chrgitm_lv IN ('02', '2') AND hilist_name LIKE '%检测%'", set(FIELDS))
    ctx = Context(contract=None)
    exps = require_expectations(e._tree, ctx)
    [helper] = ctx.helpers.values()
    like = expr_mod.parse("hilist_name LIKE '%检测%'", set(FIELDS))
    assert helper.sql == like.sql("l") and "hilist_name LIKE '%检测%'" in helper.definition
    assert {(x.type, x.kwargs["column"]) for x in exps} >= {
        ("expect_column_values_to_be_in_set", "chrgitm_lv"), ("expect_column_values_to_be_in_set", helper.name)}


# ---- the command and the suites it writes ---------------------------------------------------

def test_the_main_cli_never_imports_great_expectations():
    code = ("import sys; from click.testing import CliRunner; from checks.cli import main; "
            f"r = CliRunner().invoke(main, ['check', {str(SAMPLES[0])!r}, '--show', '0']); "
            "h = CliRunner().invoke(main, ['export', 'gx', '--help']); "
            "print(r.exit_code, h.exit_code, 'great_expectations' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.split()[1:] == ["0", "False"] and out.stdout.split()[0] in ("1", "3"), out.stderr


def test_without_great_expectations_export_says_how_to_install_it(tmp_path):
    code = ("import sys; sys.modules['great_expectations'] = None; from checks.cli import main; "
            f"main(['export', 'gx', '--out', {str(tmp_path)!r}])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 2
    assert "pip install 'claimcheck[gx]'" in out.stderr and "Traceback" not in out.stderr


@pytest.fixture(scope="module")
def suites(tmp_path_factory):
    out = tmp_path_factory.mktemp("gx")
    run = claimcheck("export", "gx", "--out", out, *table_args(*TABLES))
    assert run.returncode == 0, run.stderr
    return out, run.stdout


def load_suite(out: Path, cid: str, version: str) -> dict:
    return json.loads((out / f"{cid}-{version}.json").read_text(encoding="utf-8"))


@needs_gx
def test_one_suite_per_version_every_rule_exported_or_listed_with_a_reason(suites):
    out, stdout = suites
    versions = judging(load_contracts(ROOT / "contracts"))  # a version its revision retires is not exported
    listing = json.loads((out / "not_exportable.json").read_text(encoding="utf-8"))["not_exportable"]
    exported = 0
    for v in versions:
        suite = load_suite(out, v.id, v.version)
        meta = suite["meta"]["claimcheck"]
        listed = {n["rule_id"] for n in listing if (n["contract_id"], n["version"]) == (v.id, v.version)}
        assert {n["rule_id"] for n in meta["not_exportable"]} == listed
        assert set(meta["exported_rules"]) | listed == {r.id for r in v.rules}, "a rule was silently dropped"
        assert not set(meta["exported_rules"]) & listed
        assert {e["meta"]["rule_id"] for e in suite["expectations"]} == set(meta["exported_rules"])
        for e in suite["expectations"]:
            m = e["meta"]
            assert (m["contract_id"], m["contract_version"]) == (v.id, v.version)
            assert m["severity"] in ("violation", "suspect") and m["source"]["document"] and m["source"]["quote"]
            assert m["source"]["section"] and e["kwargs"]["row_condition"]["type"] == "pass_through"
        for h in meta["frame"]["helpers"]:  # every helper column says what it is and how it is computed
            assert h["name"].startswith("cc_") and h["definition"] and h["sql"]
        exported += len(meta["exported_rules"])
        assert f"{v.id}-{v.version}.json: {len(meta['exported_rules'])} rules" in stdout
    assert f"{exported} rules exported, {len(listing)} not exportable" in stdout
    reasons = {(n["contract_id"], n["version"], n["rule_id"]): n["reason"] for n in listing}
    assert set(reasons) == set(NOT_EXPORTABLE)
    for key, words in NOT_EXPORTABLE.items():
        assert words in reasons[key], (key, reasons[key])


@needs_gx
def test_a_finding_resting_on_an_unmatched_name_is_suspect_in_the_suite_as_in_claimcheck(suites):
    out, _ = suites
    suite = load_suite(out, "jiangsu-nipt", "1.1.0")
    js8 = [e for e in suite["expectations"] if e["meta"]["rule_id"] == "JS-8"]
    assert sorted((e["meta"]["severity"], e["kwargs"]["row_condition"]["pass_through_filter"].endswith(
        "(institution_via.isna())")) for e in js8) == [("suspect", True), ("violation", False)]


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
    assert {n["rule_id"] for n in e.not_exportable} == {"CS-1", "CS-1-filed", "CS-2", "CS-2-ANY", "CS-W"}
    assert all("--table sunshine_catalogue=" in n["reason"] for n in e.not_exportable)


# ---- the frame: claimcheck's own values, for the suite it was exported as ----------------------

@pytest.fixture(scope="module")
def hand_file(tmp_path_factory):
    """gx_hand_lines.csv as another system writes Parquet: integer codes, UTC times, decimals."""
    text = {c: pa.string() for c in ("why", "expect", "chrgitm_lv", "fixmedins_name", "hilist_name")}
    t = pacsv.read_csv(HAND, convert_options=pacsv.ConvertOptions(strings_can_be_null=True, column_types=text))
    t = t.drop_columns(["why", "expect"])
    cols = {}
    for name in t.column_names:
        typ, col = HAND_TYPES.get(name, pa.string()), t.column(name)
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


@needs_gx
def test_the_frame_holds_claimcheck_derived_values(suites, hand_file):
    from checks.export.frame import prepare

    out, _ = suites
    frame = prepare({"hand": pq.read_table(hand_file)}, load_suite(out, "jiangsu-nipt", "1.1.0"))
    row = frame.set_index("mdtrt_id")
    assert row.loc["JSH24", "inpolicy_amt"] == 370.0          # 符合政策范围金额 370 already holds 先行自付 37
    assert row.loc["JSH26", "inpolicy_amt"] == 370.01         # no F, O; 先行自付 0: the in-policy amount is I
    assert pd.isna(row.loc["JSH27", "inpolicy_amt"])          # no F, O; P 37 in a file mixing conventions
    assert pd.isna(row.loc["JSH25", "inpolicy_amt"])          # adds up under neither convention
    assert row.loc["JSH18", "institution"] == "江苏省人民医院(江苏省妇幼保健院)"  # an alias
    assert row.loc["JSH18", "institution_via"] == "alias" and row.loc["JSH01", "institution_via"] == "name"
    assert row.loc["JSH15", "institution"] == "某民营医院" and pd.isna(row.loc["JSH15", "institution_via"])
    assert row.loc["JSH01", "fee_date"] == pd.Timestamp("2025-03-01")
    assert row.loc["JSH13", "fee_date"] == pd.Timestamp("2025-01-01")  # 00:30 in China, 16:30 UTC the day before


@needs_gx
def test_the_frame_is_refused_for_a_suite_the_contract_no_longer_gives(suites, contracts_copy, hand_file):
    from checks.export.frame import FrameError, prepare

    out, _ = suites
    suite = load_suite(out, "jiangsu-nipt", "1.1.0")
    yaml = contracts_copy / "jiangsu-nipt" / "1.1.0.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("params: {ratio: 0.10, mode: at_most}",
                                                             "params: {ratio: 0.20, mode: at_most}"), encoding="utf-8")
    with pytest.raises(FrameError, match="helper column cc_selfpay_excess_JS_6_selfpay differs.*export the suite again"):
        prepare({"hand": pq.read_table(hand_file)}, suite, contracts=contracts_copy)


@needs_gx
def test_the_frame_names_the_user_table_the_suite_was_exported_with(suites, hand_file):
    from checks.export.frame import FrameError, prepare

    out, _ = suites
    with pytest.raises(FrameError, match=r"exported with the user table\(s\) art_institutions.*tables=\{'art_institutions'"):
        prepare({"hand": pq.read_table(hand_file)}, load_suite(out, "jilin-art", "1.1.0"))


@needs_gx
def test_the_frame_refuses_claim_lines_claimcheck_would_refuse(suites, hand_file):
    from checks.export.frame import FrameError, prepare

    out, _ = suites
    lines = pq.read_table(hand_file).drop_columns(["hilist_code"])
    lines = lines.set_column(lines.schema.get_field_index("cnt"), "cnt", lines.column("cnt").cast(pa.string()))
    with pytest.raises(FrameError) as e:
        prepare({"his.parquet": lines}, load_suite(out, "jiangsu-nipt", "1.1.0"))
    assert "his.parquet" in str(e.value) and "hilist_code" in str(e.value) and "cnt" in str(e.value)


# ---- parity: the same failing lines, with the same severity, as claimcheck ---------------------

@pytest.fixture(scope="module")
def batches(tmp_path_factory, hand_file):
    """The claim files of each parity run: one batch of every file with national column names, the
    warehouse extract through its column map, and the first batch again with the crosswalk."""
    tmp = tmp_path_factory.mktemp("batches")
    files = [*SAMPLES, hand_file, extracts.build("oracle_incl", extracts.ORACLE, tmp / "oracle_incl.parquet")]
    for p in POLICY:  # converted the way a user would: types inferred, empty cells null
        t = pacsv.read_csv(p, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
        pq.write_table(t, tmp / f"{p.stem}.parquet")
        files.append(tmp / f"{p.stem}.parquet")
    warehouse = extracts.build("warehouse_excl", extracts.WAREHOUSE, tmp / "warehouse_excl.parquet")
    return {"all": (files, {}, None), "warehouse": ([warehouse], {}, extracts.HERE / "warehouse_columns.yaml"),
            "crosswalk": (files, {"institution_crosswalk": str(CROSSWALK)}, None)}


def runs_for(contract_id: str) -> list[str]:
    declares = "institution_crosswalk" in (ROOT / "contracts" / contract_id / "1.1.0.yaml").read_text(encoding="utf-8")
    return ["all"] + (["warehouse"] if contract_id == "jiangsu-nipt" else []) + (["crosswalk"] if declares else [])


def claimcheck_findings(contract_id, files, tables, columns) -> dict:
    report = check([str(p) for p in files], ROOT / "contracts" / contract_id,
                   tables={**TABLES.get(contract_id, {}), **tables}, columns=columns)
    out: dict = {}
    for f in report.findings:
        out.setdefault((f.contract_version, f.rule_id), {})[(Path(f.file).name, f.mdtrt_id, f.feedetl_sn)] = f.severity
    return out


def gx_findings(contract_id, files, tables, columns, gx_ctx) -> tuple[dict, dict]:
    """{(version, rule): {line: severity}} for every exported rule, and the expectations that raised."""
    from checks.export.gx import export_contracts
    from checks.export.gx_run import run_suite

    tables = {**TABLES.get(contract_id, {}), **tables}
    found, errors = {}, {}
    frames = {Path(p).name: pq.read_table(p) for p in files}
    for e in export_contracts(load_contracts(ROOT / "contracts" / contract_id, tables)):
        run = run_suite(e.suite, frames, ctx=gx_ctx, tables=tables, columns=columns)
        for rule, lines in run.findings.items():
            found[(e.contract.version, rule)] = lines
        errors.update({(e.contract.version, r): x for r, x in run.errors.items()})
    return found, errors


@pytest.fixture(scope="module")
def gx_ctx():
    from checks.export.gx_run import context
    return context()


@needs_gx
@pytest.mark.parametrize("contract_id", CONTRACT_IDS)
def test_gx_finds_exactly_the_lines_claimcheck_reports(contract_id, batches, gx_ctx, capfd):
    seen, exported = set(), set()
    for name in runs_for(contract_id):
        files, tables, columns = batches[name]
        want = claimcheck_findings(contract_id, files, tables, columns)
        got, errors = gx_findings(contract_id, files, tables, columns, gx_ctx)
        assert not errors, errors
        assert got, f"{name}: nothing exported for {contract_id}"
        exported |= set(got)
        for key, lines in got.items():
            theirs = want.get(key, {})
            assert lines == theirs, (f"{name} {key}: only GX {sorted(set(lines.items()) - set(theirs.items()))}; "
                                     f"only claimcheck {sorted(set(theirs.items()) - set(lines.items()))}")
            if lines:
                seen.add(key)
    assert seen == exported, f"rules the data never fails, so parity proves nothing for them: {exported - seen}"
    err = capfd.readouterr().err
    assert "Calculating Metrics" not in err and "it/s" not in err, err[:300]


@needs_gx
def test_the_hand_written_lines_give_what_they_say_in_both_tools(hand_file, gx_ctx):
    """gx_hand_lines.csv's `expect` column: every finding claimcheck makes on each line, with its
    severity; GX makes the same for the rules it exports."""
    with open(HAND, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    expect = {(r["mdtrt_id"], *(tok.split(":") + ["violation"])[:2]) for r in rows for tok in r["expect"].split()}
    ours, theirs, exported = set(), set(), set()
    for cid in CONTRACT_IDS:
        for (version, rule), lines in claimcheck_findings(cid, [hand_file], {}, None).items():
            ours |= {(m, rule, sev) for (_, m, _), sev in lines.items()}
        got, errors = gx_findings(cid, [hand_file], {}, None, gx_ctx)
        assert not errors, errors
        exported |= {rule for _, rule in got}
        theirs |= {(m, rule, sev) for (_, rule), lines in got.items() for (_, m, _), sev in lines.items()}
    assert ours == expect
    assert theirs == {x for x in expect if x[1] in exported}
    # CS-1 and CS-1-filed read the catalogue's rows valid on each line's date: not exportable
    assert {x[1] for x in expect} - exported == {"DQ-MONEY", "JX-3-addon-debridement", "CS-1", "CS-1-filed"}
