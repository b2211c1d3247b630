"""A published contract version's meaning never changes: a change of meaning for the same period is a
revision, a new version whose `revises:` names the version it corrects (checks/contract/retired.py).

- By default the revision judges the lines of its period; the revised version is retired.
- The revised version stays loadable and judges by its own rules when chosen alone
  (`--contract jiangsu-nipt@1.0.0`).
- A revision may overlap what it revises, and nothing else.
- `revises` names another, existing version of the same contract, and no chain of revisions is a
  cycle; an error names the file and the key.
- The published files are kept byte for byte as they were published (pinned here by sha256, so the
  test holds in a clean checkout or beside an installed wheel, without git).
- `contracts diff` shows what a revision changed.
"""
from __future__ import annotations

import hashlib
import json

import pytest

from checks import check
from checks.contract import load_contracts
from checks.contract.coverage import check_overlaps
from checks.contract.diff import diff
from checks.contract.lookup import find, find_version, pick_contracts
from checks.contract.retired import judging, retired
from checks.errors import ContractError, UsageError
from conftest import line

NIPT = "jiangsu-nipt"
FZ = "fuzhou-nipt-subsidy"

# Each version published at the end of the previous round (git 0b49d2f), as it was published. A
# change to one of these files is a change of a published meaning: make a revision instead.
PUBLISHED = {
    "jiangsu-nipt/1.0.0.yaml": "1f228403b29d2fc58a94568af617940f261e8ac1cbe344246cbc5b15e882b792",
    "jiangsu-consumables/1.0.0.yaml": "1f57ec3f754c4cebca3fa19cb4dad22ba676b7cc2d218cc6bad62caaecf1131a",
    "jiangxi-rmc/1.0.0.yaml": "e7064612be72c6e5e3c1cf15b643869a1851cd5e026609ba69eeef699dfad683",
    "jilin-art/1.0.0.yaml": "5740ad888e062c5e9943a735adb691273d2d72c1bdaea318dab5a90e1a2bafb2",
    "fuzhou-nipt-subsidy/1.0.0.yaml": "5ef7d68620b4df7c540d30ded8b7ff450900e75a8e62efc42761be8e1081c91a",
    "fuzhou-nipt-subsidy/2.0.0.yaml": "73d5d63a68a4a50f1d2b378325f880390f7faf08eae329453bd375e9067bdfa7",
}
REVISIONS = {  # revision -> what it revises
    "jiangsu-nipt@1.1.0": "1.0.0", "jiangsu-consumables@1.1.0": "1.0.0", "jiangxi-rmc@1.1.0": "1.0.0",
    "jilin-art@1.1.0": "1.0.0", "fuzhou-nipt-subsidy@1.1.0": "1.0.0", "fuzhou-nipt-subsidy@2.1.0": "2.0.0",
}

# 附件1's highest price for BR1 is 500; an institution the contract does not list charging 520 is a
# certain price violation only under the rule 1.1.0 added (JS-PRICE-ANY). Under 1.0.0 the line's
# only finding is the unknown institution (JS-8), whichever version judges.
UNLISTED_AT_520 = dict(fixmedins_name="某民营医院", fixmedins_code="H32010699999", price=520.0)


@pytest.fixture(scope="module")
def bundled(request):
    return load_contracts(request.config.rootpath / "contracts")


def rules_flagging(report) -> set[str]:
    return {f.rule_id for f in report.findings}


def versions_judging(report) -> set[str]:
    return {f"{f.contract_id}@{f.contract_version}" for f in report.findings}


def edit(contracts, file, old, new):
    path = contracts / file
    text = path.read_text(encoding="utf-8")
    assert old in text, (file, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# -- the published files are kept -----------------------------------------------------------------

@pytest.mark.parametrize("file", sorted(PUBLISHED))
def test_a_published_version_is_kept_byte_for_byte(root, file):
    data = (root / "contracts" / file).read_bytes()
    assert hashlib.sha256(data).hexdigest() == PUBLISHED[file], (
        f"contracts/{file} is not as it was published: a change of meaning is a new version with revises:")


def test_every_changed_version_has_its_revision(bundled):
    for key, old in REVISIONS.items():
        v = find_version(bundled, key)
        assert v.revises == old
        assert (v.id, old) in retired(bundled)
        r = find_version(bundled, f"{v.id}@{old}")
        assert (r.effective_from, r.effective_to, r.regions) == (v.effective_from, v.effective_to, v.regions)
        assert any(n.startswith(f"修订 {old}") for n in v.notes), "the revision says what changed and why"
    assert {v.key for v in judging(bundled)} == set(REVISIONS)


# -- which version judges -------------------------------------------------------------------------

def test_the_revision_judges_a_line_by_default(write):
    report = check([str(write([line(**UNLISTED_AT_520)]))])
    assert "JS-PRICE-ANY" in rules_flagging(report)
    assert versions_judging(report) == {f"{NIPT}@1.1.0"}
    assert [c["version"] for c in report.contracts if c["contract_id"] == NIPT] == ["1.1.0"]


def test_the_revised_version_judges_by_its_own_rules_when_chosen(write, bundled):
    path = str(write([line(**UNLISTED_AT_520)]))
    old = check([path], contracts=pick_contracts(bundled, [f"{NIPT}@1.0.0"]))
    new = check([path], contracts=pick_contracts(bundled, [f"{NIPT}@1.1.0"]))
    assert "JS-PRICE-ANY" not in rules_flagging(old) and versions_judging(old) == {f"{NIPT}@1.0.0"}
    assert "JS-PRICE-ANY" in rules_flagging(new)
    assert rules_flagging(old) == rules_flagging(new) - {"JS-PRICE-ANY"}


def test_the_cli_chooses_the_revised_version_by_its_number(write, run_cli, tmp_path):
    path = write([line(**UNLISTED_AT_520)])
    for version, flagged in (("1.0.0", False), ("1.1.0", True)):
        out = tmp_path / f"{version}.json"
        p = run_cli("check", path, "--contract", f"{NIPT}@{version}", "--json", out, "--show", "0")
        assert p.returncode in (0, 1), p.stderr
        report = json.loads(out.read_text(encoding="utf-8"))
        assert [c["version"] for c in report["contracts"] if c["contract_id"] == NIPT] == [version]
        assert any(f["rule_id"] == "JS-PRICE-ANY" for f in report["violations"]) is flagged


def test_a_contract_named_without_a_version_means_the_versions_that_judge(bundled):
    assert [v.version for v in pick_contracts(bundled, [NIPT])] == ["1.1.0"]
    assert [v.version for v in pick_contracts(bundled, [FZ])] == ["1.1.0", "2.1.0"]


def test_a_version_and_its_revision_are_not_chosen_together(bundled):
    with pytest.raises(UsageError, match=r"jiangsu-nipt@1\.0\.0 and its revision 1\.1\.0 .* both would judge"):
        pick_contracts(bundled, [f"{NIPT}@1.0.0", f"{NIPT}@1.1.0"])
    with pytest.raises(UsageError, match="both would judge"):
        pick_contracts(bundled, [NIPT, f"{NIPT}@1.0.0"])


def test_a_rule_named_without_a_version_is_the_judging_versions(bundled):
    assert [e.contract.version for e in find(bundled, "JS-4")] == ["1.1.0"]
    assert [e.contract.version for e in find(bundled, "JS-4@1.0.0")] == ["1.0.0"]
    assert [e.contract.version for e in find(bundled, "FZ-2")] == ["1.1.0", "2.1.0"]


# -- overlaps -------------------------------------------------------------------------------------

def test_a_revision_may_overlap_what_it_revises(bundled):
    check_overlaps([v for v in bundled if v.id == NIPT])  # 1.0.0 and 1.1.0 share every day


def test_an_unrelated_overlap_is_still_refused(contracts_copy):
    # 2.1.0 revises 2.0.0, not 1.0.0 or 1.1.0: stretching 1.1.0 into 2022 overlaps versions it does not revise
    edit(contracts_copy, f"{FZ}/1.0.0.yaml", "effective_to: 2021-12-31", "effective_to: 2022-06-30")
    edit(contracts_copy, f"{FZ}/1.1.0.yaml", "effective_to: 2021-12-31", "effective_to: 2022-06-30")
    with pytest.raises(ContractError, match=r"effective dates overlap version 1\.[01]\.0 .* both are in force "
                                            r"2022-01-01 … 2022-06-30"):
        load_contracts(contracts_copy)


def test_a_revision_covers_the_period_of_what_it_revises(contracts_copy):
    edit(contracts_copy, f"{NIPT}/1.1.0.yaml", "effective_from: 2025-01-01", "effective_from: 2025-03-01")
    with pytest.raises(ContractError) as err:
        load_contracts(contracts_copy)
    assert err.value.file.endswith(f"{NIPT}/1.1.0.yaml") and err.value.line == 5
    assert str(err.value).startswith(f"{contracts_copy / NIPT / '1.1.0.yaml'}:5:")
    assert "revises: 1.0.0" in str(err.value) and "does not cover 2025-01-01 … 2026-12-31" in str(err.value)


# -- a bad revises: is refused, naming the file and the key -----------------------------------------

@pytest.mark.parametrize("value, words", [
    ("1.9.0", "revises: 1.9.0 names no version of jiangsu-nipt"),
    ("1.1.0", "revises: 1.1.0 is this version itself"),
])
def test_revises_names_another_existing_version(contracts_copy, value, words):
    edit(contracts_copy, f"{NIPT}/1.1.0.yaml", "revises: 1.0.0", f"revises: {value}")
    with pytest.raises(ContractError) as err:
        load_contracts(contracts_copy)
    assert err.value.file.endswith(f"{NIPT}/1.1.0.yaml")
    assert err.value.line == 5  # the line of the key
    assert words in str(err.value)


def test_revises_makes_no_cycle(contracts_copy, run_cli):
    # 1.0.0 is kept byte for byte; the cycle is made in a copy
    edit(contracts_copy, f"{NIPT}/1.0.0.yaml", "version: 1.0.0\n", "version: 1.0.0\nrevises: 1.1.0\n")
    with pytest.raises(ContractError) as err:
        load_contracts(contracts_copy)
    assert err.value.file.endswith(".yaml") and err.value.line == 5
    assert "makes a cycle of revisions" in str(err.value)
    assert "1.0.0 -> 1.1.0 -> 1.0.0" in str(err.value) or "1.1.0 -> 1.0.0 -> 1.1.0" in str(err.value)
    p = run_cli("contracts", "validate", "--contracts", contracts_copy)
    assert p.returncode == 2 and ".yaml:5:" in p.stderr and "revises:" in p.stderr


def test_revises_is_a_version_number(contracts_copy):
    edit(contracts_copy, f"{NIPT}/1.1.0.yaml", "revises: 1.0.0", "revises: one")
    with pytest.raises(ContractError, match=r"1\.1\.0\.yaml:5:\d+: revises: one names no version of jiangsu-nipt"):
        load_contracts(contracts_copy)


# -- the old tables still load ----------------------------------------------------------------------

def test_the_revised_version_reads_the_shared_tables_as_published(bundled):
    old, new = find_version(bundled, f"{NIPT}@1.0.0"), find_version(bundled, f"{NIPT}@1.1.0")
    assert "source" not in old.tables["institution_aliases"].data.column_names
    assert "source" in new.tables["institution_aliases"].data.column_names
    assert old.tables["institution_aliases"].data.num_rows == new.tables["institution_aliases"].data.num_rows


def test_a_column_no_version_declares_is_still_refused(contracts_copy):
    path = contracts_copy / NIPT / "institution_aliases.csv"
    rows = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([rows[0] + ",typo"] + [r + "," for r in rows[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(ContractError, match="column 'typo' is not declared"):
        load_contracts(contracts_copy)


# -- contracts diff --------------------------------------------------------------------------------

def test_the_diff_of_a_revision_lists_the_rules_it_added(bundled):
    d = diff(find_version(bundled, f"{NIPT}@1.0.0"), find_version(bundled, f"{NIPT}@1.1.0"))
    assert [r["id"] for r in d.rules.added] == ["JS-PRICE-ANY"]
    assert d.rules.removed == []
    changed = {x["id"]: {c.field for c in x["changes"]} for x in d.rules.changed}
    assert changed == {"JS-1-price": {"supersedes"}, "JS-2-price": {"supersedes"}, "JS-6-setting": {"notes"}}
    assert [c.field for c in d.version] == ["notes"]  # the same period: only the revision's note
    tables = {t["name"]: t for t in d.tables.changed}
    assert [c.field for c in tables["institution_aliases"]["changes"]] == ["columns.source"]


def test_the_diff_of_each_revision_is_not_empty(bundled):
    for key, old in REVISIONS.items():
        after = find_version(bundled, key)
        d = diff(find_version(bundled, f"{after.id}@{old}"), after)
        assert sum(sum(getattr(d, s).counts().values()) for s in d.SECTIONS) > 0, key


def test_contracts_diff_on_the_command_line(run_cli):
    p = run_cli("contracts", "diff", f"{NIPT}@1.0.0", "@1.1.0")
    assert p.returncode == 0, p.stderr
    assert "jiangsu-nipt 1.0.0 → jiangsu-nipt 1.1.0" in p.stdout
    assert "JS-PRICE-ANY" in p.stdout
    j = json.loads(run_cli("contracts", "diff", f"{NIPT}@1.0.0", "@1.1.0", "--json").stdout)
    assert [r["id"] for r in j["rules"]["added"]] == ["JS-PRICE-ANY"]
    assert j["summary"]["rules"] == {"added": 1, "removed": 0, "changed": 3}
