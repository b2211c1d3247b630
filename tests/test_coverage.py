"""How versions cover time: a gap between consecutive versions is a warning from `contracts validate`
(exit 0); two versions in force on one day over the same regions are a load error naming both files
and the shared days."""
from __future__ import annotations

import pytest

from checks.contract import load_contracts
from checks.contract.coverage import coverage_gaps, regions_meet
from checks.errors import ContractError

FZ = "fuzhou-nipt-subsidy"


def edit(contracts, file, old, new):
    path = contracts / FZ / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def published(contracts_copy):
    """The copied contracts with Fuzhou's versions as published (its revisions 1.1.0 and 2.1.0
    removed): these tests move a published version's dates, which its revision would no longer cover."""
    for v in ("1.1.0", "2.1.0"):
        (contracts_copy / FZ / f"{v}.yaml").unlink()
    return contracts_copy


def test_regions_meet_when_one_code_begins_the_other():
    assert regions_meet(["32"], ["3206"]) and regions_meet(["3501"], ["3501"])
    assert not regions_meet(["3501"], ["3502"]) and not regions_meet(["32"], ["33", "3501"])


def test_the_bundled_versions_leave_no_gap(root, run_cli):
    assert coverage_gaps(load_contracts(root / "contracts", read_tables=False)) == []
    p = run_cli("contracts", "validate")
    assert p.returncode == 0 and "warning" not in p.stderr


def test_a_gap_between_versions_is_a_warning(published, run_cli):
    edit(published, "2.0.0.yaml", "effective_from: 2022-01-01", "effective_from: 2022-04-01")
    (gap,) = coverage_gaps(load_contracts(published, read_tables=False))
    assert (gap.before.version, gap.after.version) == ("1.0.0", "2.0.0")
    assert (str(gap.start), str(gap.end)) == ("2022-01-01", "2022-03-31")
    p = run_cli("contracts", "validate", "--contracts", published)
    assert p.returncode == 0, p.stderr
    assert ("warning: fuzhou-nipt-subsidy: no version is in force 2022-01-01 … 2022-03-31 (90 days) between "
            "1.0.0 (ends 2021-12-31") in p.stderr
    assert "2.0.0 (begins 2022-04-01" in p.stderr and "1.0.0.yaml" in p.stderr and "2.0.0.yaml" in p.stderr


def test_overlapping_versions_name_both_files_and_the_shared_days(published, run_cli):
    edit(published, "1.0.0.yaml", "effective_to: 2021-12-31", "effective_to: 2022-06-30")
    with pytest.raises(ContractError) as err:
        load_contracts(published)
    text = str(err.value)
    assert err.value.file.endswith(f"{FZ}/2.0.0.yaml")
    assert f"effective dates overlap version 1.0.0 ({published / FZ / '1.0.0.yaml'}, 2019-01-01 … 2022-06-30)" in text
    assert "both are in force 2022-01-01 … 2022-06-30 over regions 3501" in text
    p = run_cli("contracts", "validate", "--contracts", published)
    assert p.returncode == 2 and "both are in force 2022-01-01 … 2022-06-30" in p.stderr


def test_an_open_version_overlaps_every_later_one(published):
    edit(published, "1.0.0.yaml", "effective_to: 2021-12-31", "effective_to: null")
    with pytest.raises(ContractError, match="both are in force 2022-01-01 … open over regions 3501"):
        load_contracts(published)


def test_versions_over_regions_that_do_not_meet_may_share_days(published):
    text = (published / FZ / "2.0.0.yaml").read_text(encoding="utf-8")
    (published / FZ / "2.2.0.yaml").write_text(
        text.replace("version: 2.0.0", "version: 2.2.0").replace('regions: ["3501"]', 'regions: ["3502"]'),
        encoding="utf-8")
    versions = [v for v in load_contracts(published, read_tables=False) if v.id == FZ]
    assert [v.version for v in versions] == ["1.0.0", "2.0.0", "2.2.0"]
    assert coverage_gaps(versions) == []
