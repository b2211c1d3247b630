"""A newcomer's path: what someone who just installed claimcheck runs first must work and say why not.

- Without pyspark, `--engine spark` is a usage error naming what to install, never an internal error.
- DuckDB's own progress bar is off on every connection claimcheck opens (claimcheck has its own
  progress line; DuckDB's would land in a report written to standard output).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from checks import check
from conftest import ROOT, line

SAMPLE = ROOT / "sample_claims/jiangsu-nipt-1.0.0.parquet"
NIPT = ROOT / "contracts/jiangsu-nipt"


def without_pyspark(tmp_path) -> dict:
    """An environment in which `import pyspark` fails as it does where it is not installed."""
    hide = tmp_path / "hide"
    (hide / "pyspark").mkdir(parents=True)
    (hide / "pyspark" / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'pyspark'\", "
                                                  "name='pyspark')\n")
    return {**os.environ, "PYTHONPATH": str(hide)}


def cli(*args, env=None, cwd=None):
    exe = Path(sys.executable).parent / "claimcheck"
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd or ROOT,
                          timeout=300)


@pytest.mark.parametrize("extra", [[], ["--history", "ledger.duckdb"]], ids=["engine", "history"])
def test_engine_spark_without_pyspark_says_what_to_install(tmp_path, extra):
    p = cli("check", SAMPLE, "--contracts", NIPT, "--engine", "spark", *extra, env=without_pyspark(tmp_path),
            cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert "internal error" not in p.stderr and "Traceback" not in p.stderr
    if extra:
        assert "--history is DuckDB-only" in p.stderr
    else:
        assert "pip install 'claimcheck[spark]'" in p.stderr


def test_every_duckdb_connection_has_its_progress_bar_off(monkeypatch, tmp_path, write):
    """Every connection a check opens (engine, waivers, writers) is handed out with the progress bar on,
    as DuckDB has it on a terminal, and asked its setting when it is closed (or at the end)."""
    settings, open_ = [], []
    real = duckdb.connect

    class Spy:
        def __init__(self, con):
            self._con = con

        def __getattr__(self, name):
            return getattr(self._con, name)

        def setting(self):
            return self._con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]

        def close(self):
            settings.append(self.setting())
            open_.remove(self)
            self._con.close()

    def spy(*args, **kwargs):
        con = real(*args, **kwargs)
        con.execute("SET enable_progress_bar = true")
        open_.append(Spy(con))
        return open_[-1]
    monkeypatch.setattr(duckdb, "connect", spy)
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - {id: W1, rule: JS-1-price, match: {mdtrt_id: M00001}, reason: r, owner: o, "
                       "expires: 2099-12-31}\n", encoding="utf-8")
    report = check([str(write([line(1, price=520.0), line(2)]))], NIPT, waivers=waivers)
    from checks.report import write_outputs
    write_outputs(report, {"json": tmp_path / "r.json", "sarif": tmp_path / "r.sarif"})
    settings += [s.setting() for s in open_]
    assert len(settings) >= 3 and settings == [False] * len(settings)


def test_no_module_opens_duckdb_but_through_the_quiet_connection():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "checks").rglob("*.py")
                 if "duckdb.connect(" in p.read_text(encoding="utf-8") and p.name != "duck.py"]
    assert offenders == []


def test_a_small_batch_shows_only_the_rules_that_saw_its_lines(tmp_path, write):
    """Three NIPT lines checked against all five contracts: the rules of the other four saw nothing."""
    path = write([line(1, price=520.0), line(2), line(3)])
    p = cli("check", path, cwd=tmp_path)
    assert p.returncode == 1, p.stderr
    head = p.stdout.index("RULE ")
    rows = p.stdout[head:].split("\n\n")[0].splitlines()[1:]
    shown = [r.split()[0] for r in rows if not r.startswith("(")]
    hidden = int(rows[-1].split()[0].lstrip("("))
    assert "JS-1-price" in shown and not any(r.startswith(("JX-", "JL-", "FZ-", "CS-")) for r in shown)
    assert rows[-1].endswith("more rules had no line in scope; the JSON and HTML reports list every rule)")
    assert hidden >= 30 and len(shown) + hidden == len(check([str(path)]).rules)  # every rule: shown or counted


def chinese_headed(rows):
    """Lines as a HIS export heads them: every national field by its Chinese name, one with a space."""
    from checks.claims.fields import FIELDS
    from conftest import table

    t = table(rows)
    names = {c: FIELDS[c].zh.split("（")[0] for c in t.column_names}
    names["feedetl_sn"] = "费用明细 流水号"
    return t.rename_columns([names[c] for c in t.column_names])


def test_chinese_field_names_as_headers_need_no_map(tmp_path, write):
    import pyarrow.parquet as pq

    rows = [line(1, price=520.0), line(2), line(3, code="CJ30303032960301954001")]
    zh = tmp_path / "his_export.parquet"
    pq.write_table(chinese_headed(rows), zh)
    national = check([str(write(rows))], NIPT)
    report = check([str(zh)], NIPT)
    verdicts = lambda r: [(f.rule_id, f.mdtrt_id, f.feedetl_sn, f.amount) for f in r.findings]  # noqa: E731
    assert verdicts(report) == verdicts(national) and len(verdicts(report)) >= 2
    assert report.inputs[0]["columns"]["mdtrt_id"] == "就诊ID"


def test_a_chinese_header_and_the_national_name_together_are_an_error(tmp_path, run_cli):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from conftest import table

    t = table([line(1)])
    t = t.append_column("就诊ID", pa.array(["X1"]))
    pq.write_table(t, tmp_path / "both.parquet")
    p = run_cli("check", tmp_path / "both.parquet", "--contracts", NIPT)
    assert p.returncode == 2
    assert "column mdtrt_id and column 就诊ID (the Chinese name of mdtrt_id) both supply mdtrt_id" in p.stderr


def test_a_missing_column_names_the_closest_headers_and_the_map_line(tmp_path, run_cli):
    import pyarrow.parquet as pq

    from conftest import table

    t = table([line(1)])
    t = t.rename_columns([{"mdtrt_id": "就诊编号", "hilist_code": "HILIST_CD"}.get(c, c) for c in t.column_names])
    pq.write_table(t, tmp_path / "his.parquet")
    p = run_cli("check", tmp_path / "his.parquet", "--contracts", NIPT)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert ("his.parquet, column mdtrt_id: required column is missing (就诊ID); closest headers in the file: 就诊编号; "
            "if '就诊编号' is it, pass --columns MAP.yaml with the line `mdtrt_id: 就诊编号`") in p.stderr
    assert "with the line `hilist_code: HILIST_CD`" in p.stderr
    fix = tmp_path / "map.yaml"
    fix.write_text("mdtrt_id: 就诊编号\nhilist_code: HILIST_CD\n", encoding="utf-8")
    assert run_cli("check", tmp_path / "his.parquet", "--contracts", NIPT, "--columns", fix).returncode == 0


def test_did_you_mean_is_said_once(tmp_path, run_cli):
    m = tmp_path / "map.yaml"
    m.write_text("mdtrt_idd: 就诊ID\n", encoding="utf-8")
    p = run_cli("check", SAMPLE, "--columns", m)
    assert p.returncode == 2 and p.stderr.count("did you mean") == 1 and "did you mean 'mdtrt_id'?" in p.stderr


def test_contract_picks_bundled_contracts_by_id_or_version(run_cli, tmp_path):
    out = tmp_path / "r.json"
    p = run_cli("check", ROOT / "sample_claims", "--contract", "FUZHOU-NIPT-SUBSIDY@2.0.0", "--contract",
                "jiangsu-nipt", "--json", out, "--show", "0")
    assert p.returncode == 1, p.stderr
    import json
    r = json.loads(out.read_text(encoding="utf-8"))
    assert {(c["contract_id"], c["version"]) for c in r["contracts"]} == {
        ("fuzhou-nipt-subsidy", "2.0.0"), ("jiangsu-nipt", "1.1.0"), ("data-quality", "1.0.0")}  # ID alone: the revision


@pytest.mark.parametrize("spec, said", [
    ("jilin-arts", "--contract jilin-arts: no contract 'jilin-arts'; did you mean 'jilin-art'?"),
    ("jilin-art@2.0.0", "--contract jilin-art@2.0.0: jilin-art has no version 2.0.0; valid: 1.0.0")])
def test_an_unknown_contract_is_a_usage_error_naming_the_closest(run_cli, spec, said):
    p = run_cli("check", SAMPLE, "--contract", spec)
    assert p.returncode == 2 and said in p.stderr


def test_a_table_for_a_contract_not_picked_is_refused(run_cli):
    p = run_cli("check", SAMPLE, "--contract", "jiangsu-nipt", "--table",
                f"art_institutions={ROOT / 'contracts/jilin-art/sample_art_institutions.csv'}")
    assert p.returncode == 2 and "--table art_institutions: no contract takes" in p.stderr


def test_tables_lists_what_the_user_supplies_and_where_the_samples_are(run_cli):
    p = run_cli("tables")
    assert p.returncode == 0, p.stderr
    sample = (ROOT / "contracts/jilin-art/sample_art_institutions.csv").resolve()
    assert f"  sample    {sample}" in p.stdout
    assert "art_institutions — " in p.stdout and "  used by   jilin-art@1.0.0" in p.stdout
    assert "sunshine_catalogue — " in p.stdout and "institution_crosswalk — " in p.stdout
    only = run_cli("tables", "--contract", "jilin-art")
    assert only.returncode == 0 and "sunshine_catalogue" not in only.stdout and "art_institutions" in only.stdout


def test_explain_sql_shows_the_query_the_words_stand_for(run_cli):
    p = run_cli("explain", "jl-class", "--sql")
    assert p.returncode == 0, p.stderr
    sql = p.stdout.split("sql        ")[1]
    assert "FROM lines l" in sql and "\"chrgitm_lv\" IN ('02', '2')" in sql
    assert "sql " not in run_cli("explain", "jl-class").stdout


def test_sample_gives_its_file_the_parquet_suffix(run_cli, tmp_path):
    p = run_cli("sample", tmp_path / "batch", "--lines", "200")
    assert p.returncode == 0, p.stderr
    assert [f.name for f in tmp_path.iterdir()] == ["batch.parquet"]
    assert run_cli("check", tmp_path, "--show", "0").returncode in (0, 1, 3)


def test_the_readme_python_api_example_runs_and_prints_what_it_says(tmp_path):
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    for name in ("sample_claims", "contracts"):
        (tmp_path / name).symlink_to(ROOT / name)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == "23 3892.5"
    assert (tmp_path / "report.html").stat().st_size > 0 and (tmp_path / "findings.xlsx").stat().st_size > 0
    assert "%" not in p.stdout and "\r" not in p.stdout  # no DuckDB progress bar in the caller's output
