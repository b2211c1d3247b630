"""`contracts diff` says what a new version changed: rules, not-encoded rules, code sets, reference-table
rows (by source_row) and dates added, removed and changed, as text and as stable JSON."""
from __future__ import annotations

import json
import re

import pytest

from checks.contract import load_contracts
from checks.contract.diff import FORMAT, diff, match_rows
from checks.contract.lookup import find_version

FZ = "fuzhou-nipt-subsidy"
NIPT = "jiangsu-nipt"


def fields(item) -> set[str]:
    return {c.field for c in item["changes"]}


@pytest.fixture(scope="module")
def bundled(request):
    return load_contracts(request.config.rootpath / "contracts")


def test_the_fuzhou_extension(bundled):
    d = diff(find_version(bundled, f"{FZ}@1.0.0"), find_version(bundled, f"{FZ}@2.0.0"))
    version = {c.field: (c.before, c.after) for c in d.version}
    assert version["effective_from"] == ("2019-01-01", "2022-01-01")
    assert version["effective_to"] == ("2021-12-31", None)
    assert [x["number"] for x in d.documents.added] == ["榕卫妇幼〔2021〕13号"]
    assert d.rules.added == d.rules.removed == []
    # the extension rests on a text cut off mid-sentence: every rule of it is suspect
    changed = {x["id"]: x for x in d.rules.changed}
    assert set(changed) == {r.id for r in find_version(bundled, f"{FZ}@2.0.0").rules if r.severity == "suspect"} - {
        "FZ-1-age", "FZ-4", "FZ-5"}  # those were suspect already (FZ-5: two readings of 按普通门诊)
    assert all("severity" in fields(x) for x in changed.values())
    assert fields(changed["FZ-W"]) == {"severity", "title", "title_en", "params.to", "notes", "source.document",
                                       "source.section", "source.quote"}
    to = next(c for c in changed["FZ-W"]["changes"] if c.field == "params.to")
    assert (to.before, to.after) == ("2021-12-31", None)
    assert not any(d.not_encoded.counts().values()) and not any(d.code_sets.counts().values())
    assert not any(d.tables.counts().values())


def test_a_version_against_itself_is_no_change(bundled):
    v = find_version(bundled, f"{NIPT}@1.0.0")
    assert diff(v, v).is_empty()


@pytest.fixture
def edited(contracts_copy):
    """jiangsu-nipt 1.1.0 from 2025-07-01, written by hand from 1.0.0, which now ends 2025-06-30."""
    folder = contracts_copy / NIPT
    old = (folder / "1.0.0.yaml").read_text(encoding="utf-8")
    (folder / "1.0.0.yaml").write_text(old.replace("effective_to: 2026-12-31", "effective_to: 2025-06-30"),
                                       encoding="utf-8")
    new = old.replace("version: 1.0.0", "version: 1.1.0").replace("effective_from: 2025-01-01",
                                                                   "effective_from: 2025-07-01")
    edits = [
        ("      limit: {value: 60}\n    source:\n      document: SJ59\n      section: 四、(一)；附件2",
         "      limit: {value: 55}\n    source:\n      document: SJ59\n      section: 四、(一)；附件2"),
        ("""    regions: ["3206"]\n    when: price_class IN ('一类', '基层')""",
         """    regions: ["3206", "3205"]\n    when: price_class IN ('一类', '基层', '二类')"""),
        ("      - CJ30303032960301954001\n    source:", "      - CJ30303033340301303009\n    source:"),
        ("    file: attachment1.csv\n", "    file: attachment1-2025h2.csv\n"),
        ("  - id: JS-4-NT\n", "  - id: JS-4-SZ\n    title: 苏州诊断服务最高58元/次\n    title_en: Suzhou diagnosis at most 58\n"
         "    kind: ceiling\n    severity: suspect\n    codes: [nipt_diagnosis]\n    regions: [\"3205\"]\n"
         "    params:\n      limit: {value: 58}\n    source: {document: SJ59, section: 附件2, quote: 苏州}\n\n"
         "  - id: JS-4-NT\n"),
        ("not_encoded:\n", "not_encoded:\n  - id: JS-10\n    title: 新增未编码条款\n    reason: 费用行不记载\n"
         "    source: {document: SJ59, section: 五, quote: 新条款}\n"),
    ]
    for a, b in edits:
        assert new.count(a) == 1, a
        new = new.replace(a, b)
    new = re.sub(r"  - id: JS-8\n.*?(?=\n  - id: )", "", new, count=1, flags=re.S)  # JS-8 removed
    new = re.sub(r"  - id: JS-9\n.*?(?=  - id: )", "", new, count=1, flags=re.S)   # JS-9 no longer listed
    (folder / "1.1.0.yaml").write_text(new, encoding="utf-8")
    rows = (folder / "attachment1.csv").read_text(encoding="utf-8").splitlines()
    rows[1] = rows[1].replace(",480", ",470")  # 附件1 序号1, 江苏省人民医院
    rows = rows[:-1] + ["附件1 序号99,苏州,3205,苏州市立医院,中选产前诊断机构,本单位中选价格,CJ30303033340301303001,华大,470"]
    (folder / "attachment1-2025h2.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return contracts_copy


def test_a_hand_edited_version(edited):
    versions = load_contracts(edited)
    d = diff(find_version(versions, f"{NIPT}@1.0.0"), find_version(versions, f"{NIPT}@1.1.0"))
    version = {c.field: (c.before, c.after) for c in d.version}
    assert version == {"effective_from": ("2025-01-01", "2025-07-01"), "effective_to": ("2025-06-30", "2026-12-31")}
    assert [r["id"] for r in d.rules.added] == ["JS-4-SZ"] and d.rules.added[0]["severity"] == "suspect"
    assert [r["id"] for r in d.rules.removed] == ["JS-8"]
    assert d.rules.removed[0]["source"]["document"] == "苏医保发〔2024〕59号"
    changed = {x["id"]: x for x in d.rules.changed}
    assert set(changed) == {"JS-4", "JS-4-NT"}
    (limit,) = changed["JS-4"]["changes"]
    assert (limit.field, limit.before, limit.after) == ("params.limit.value", 60, 55)
    assert fields(changed["JS-4-NT"]) == {"regions", "when"}
    assert [x["id"] for x in d.not_encoded.added] == ["JS-10"] and [x["id"] for x in d.not_encoded.removed] == ["JS-9"]
    (cs,) = d.code_sets.changed
    assert (cs["name"], cs["codes_added"], cs["codes_removed"]) == ("nipt_detection", ["CJ30303033340301303009"],
                                                                     ["CJ30303032960301954001"])
    (t,) = d.tables.changed
    assert [(c.field, c.before, c.after) for c in t["changes"]] == [("file", "attachment1.csv", "attachment1-2025h2.csv")]
    assert [r["source_row"] for r in t["rows_added"]] == ["附件1 序号99"]
    assert [(r["source_row"], r["institution"]) for r in t["rows_removed"]] == [("附件1 序号24", "沭阳县妇幼保健院")]
    (row,) = t["rows_changed"]
    assert row["source_row"] == "附件1 序号1"
    assert [(c.field, c.before, c.after) for c in row["changes"]] == [("price", 480.0, 470.0)]


def test_the_command_as_text_and_as_json(edited, run_cli):
    p = run_cli("contracts", "diff", f"{NIPT}@1.0.0", "@1.1.0", "--contracts", edited)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "jiangsu-nipt 1.0.0 → jiangsu-nipt 1.1.0" in out and "changes in force from 2025-07-01" in out
    assert "Rules: 1 added, 1 removed, 2 changed" in out
    assert "  + JS-4-SZ — 苏州诊断服务最高58元/次" in out and "  - JS-8 — 限产前诊断机构和合作产前筛查机构支付" in out
    assert "      params.limit.value: 60 → 55" in out and "      regions + 3205" in out
    assert "      codes added: CJ30303033340301303009" in out
    assert "      rows by source_row: 1 added, 1 removed, 1 changed" in out
    assert "      ~ 附件1 序号1: price 480 → 470\n          now: city=南京, city_admvs=3201, institution=江苏省人民医院" in out
    assert "      + 附件1 序号99: city=苏州" in out
    j = run_cli("contracts", "diff", f"{NIPT}@1.0.0", f"{NIPT}@1.1.0", "--json", "--contracts", edited)
    data = json.loads(j.stdout)
    assert data["format"] == FORMAT and data["in_force_from"] == "2025-07-01"
    assert list(data) == ["format", "from", "to", "in_force_from", "summary", "version", "documents", "rules",
                          "not_encoded", "code_sets", "tables"]
    assert data["summary"]["rules"] == {"added": 1, "removed": 1, "changed": 2}
    changed_row = data["tables"]["changed"][0]["rows_changed"][0]
    assert changed_row["changes"] == [{"field": "price", "before": 480.0, "after": 470.0}]
    assert changed_row["source_row"] == changed_row["row"]["source_row"] == "附件1 序号1"
    assert changed_row["row"]["price"] == 470.0 and changed_row["row"]["institution"] == "江苏省人民医院(江苏省妇幼保健院)"


def test_the_same_version_in_two_folders(edited, run_cli, root):
    p = run_cli("contracts", "diff", f"{NIPT}@1.0.0", f"{NIPT}@1.0.0", "--old-contracts", root / "contracts",
                "--contracts", edited, "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["version"] == [{"field": "effective_to", "before": "2026-12-31", "after": "2025-06-30"}]


def test_the_bundled_extension_from_the_command_line(run_cli):
    p = run_cli("contracts", "diff", f"{FZ}@1.0.0", f"{FZ}@2.0.0")
    assert p.returncode == 0
    assert "  + RW13 榕卫妇幼〔2021〕13号" in p.stdout and "  ~ FZ-W — " in p.stdout
    assert "      params.to: 2021-12-31 → (none)" in p.stdout and "  ~ effective_from: 2019-01-01 → 2022-01-01" in p.stdout
    assert run_cli("contracts", "diff", f"{FZ}@1.0.0", "@2.0.0").stdout == p.stdout


@pytest.mark.parametrize("args,words", [
    ([f"{FZ}@1.0.0", "@3.0.0"], "fuzhou-nipt-subsidy has no version 3.0.0; valid: 1.0.0, 1.1.0, 2.0.0, 2.1.0"),
    (["fuzhou@1.0.0", "@2.0.0"], "no contract 'fuzhou'; did you mean 'fuzhou-nipt-subsidy'?"),
    ([FZ, "@2.0.0"], "'fuzhou-nipt-subsidy': write CONTRACT@VERSION"),
])
def test_bad_versions_exit_2(run_cli, args, words):
    p = run_cli("contracts", "diff", *args)
    assert p.returncode == 2 and words in p.stderr and "Traceback" not in p.stderr


def test_rows_sharing_a_source_row_are_matched_by_their_columns():
    old = [{"source_row": "r1", "maker": "A", "price": 1}, {"source_row": "r1", "maker": "B", "price": 2},
           {"source_row": "r2", "maker": "C", "price": 3}]
    new = [{"source_row": "r1", "maker": "B", "price": 2}, {"source_row": "r1", "maker": "A", "price": 9},
           {"source_row": "r3", "maker": "D", "price": 4}]
    added, removed, changed = match_rows(old, new)
    assert added == [new[2]] and removed == [old[2]]
    assert [(c["source_row"], [(x.field, x.before, x.after) for x in c["changes"]], c["row"]) for c in changed] == \
        [("r1", [("price", 1, 9)], new[1])]
