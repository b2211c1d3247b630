"""Rule addresses: ID, ID@VERSION, CONTRACT/ID@VERSION; any case; not-encoded entries included;
not found and ambiguous are typed errors offering what would be valid."""
from __future__ import annotations

import pytest

from checks.contract import load_contracts
from checks.contract.lookup import Address, AmbiguousRule, RuleNotFound, entries, find, resolve
from checks.errors import ContractError, UsageError


@pytest.fixture(scope="module")
def versions(request):
    return load_contracts(request.config.rootpath / "contracts", read_tables=False)


def test_addresses_parse():
    assert Address.parse("JS-4") == Address("JS-4")
    assert Address.parse("FZ-2@2.0.0") == Address("FZ-2", "2.0.0")
    assert Address.parse("fuzhou-nipt-subsidy/FZ-2@2.0.0") == Address("FZ-2", "2.0.0", "fuzhou-nipt-subsidy")
    assert str(Address.parse(" fuzhou-nipt-subsidy/FZ-2 ")) == "fuzhou-nipt-subsidy/FZ-2"
    for bad in ["", "a b", "FZ-2@", "x/y/z", "FZ-2@1@2"]:
        with pytest.raises(UsageError, match="is not a rule address"):
            Address.parse(bad)


def test_a_rule_in_two_versions(versions):
    # without a version, the revisions (1.1.0 revises 1.0.0, 2.1.0 revises 2.0.0); with one, any version
    assert [e.address for e in find(versions, "FZ-2")] == ["fuzhou-nipt-subsidy/FZ-2@1.1.0",
                                                           "fuzhou-nipt-subsidy/FZ-2@2.1.0"]
    (e,) = find(versions, "fz-2@2.0.0")
    assert e.encoded and e.rule.kind == "payment_limit" and e.contract.version == "2.0.0"
    with pytest.raises(AmbiguousRule, match="FZ-2 is in 2 contract versions: .*write ID@VERSION"):
        resolve(versions, "FZ-2")
    assert resolve(versions, "FUZHOU-nipt-subsidy/FZ-2@1.0.0").contract.version == "1.0.0"


def test_not_encoded_entries_are_found(versions):
    e = resolve(versions, "js-9")
    assert not e.encoded and e.id == "JS-9" and e.not_encoded.reason and e.not_encoded.line > 1
    assert e.title.startswith("中选产前诊断机构")


def test_not_found_offers_the_closest_ids(versions):
    with pytest.raises(RuleNotFound) as err:
        find(versions, "JS-4-N")
    assert err.value.suggestions[0] == "JS-4-NT" and "did you mean 'JS-4-NT'?" in str(err.value)
    with pytest.raises(RuleNotFound, match="FZ-2 has no version 3.0.0: it is in fuzhou-nipt-subsidy@1.0.0, "):
        find(versions, "FZ-2@3.0.0")
    with pytest.raises(RuleNotFound, match="no contract 'fuzhou'; did you mean 'fuzhou-nipt-subsidy'"):
        find(versions, "fuzhou/FZ-2")
    with pytest.raises(RuleNotFound, match="no rule 'JS-4' in jilin-art"):
        find(versions, "jilin-art/JS-4")


def test_every_entry_has_a_unique_full_address(versions):
    addresses = [e.address for e in entries(versions)]
    assert len(addresses) == len(set(addresses)) == 169  # published versions and their revisions
    assert all(resolve(versions, a).address == a for a in addresses)


def test_two_contracts_sharing_an_id_are_told_apart_by_contract(contracts_copy):
    path = contracts_copy / "jiangxi-rmc" / "1.0.0.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("- id: JX-1\n", "- id: JS-4\n", 1), encoding="utf-8")
    versions = load_contracts(contracts_copy, read_tables=False)
    assert {e.contract.id for e in find(versions, "JS-4@1.0.0")} == {"jiangsu-nipt", "jiangxi-rmc"}
    with pytest.raises(AmbiguousRule, match="jiangsu-nipt/JS-4@1.0.0, jiangxi-rmc/JS-4@1.0.0"):
        resolve(versions, "JS-4@1.0.0")
    assert resolve(versions, "jiangxi-rmc/JS-4@1.0.0").rule.title == resolve(versions, "jiangxi-rmc/js-4").title


def test_ids_are_unique_in_a_version_whatever_their_case(contracts_copy):
    path = contracts_copy / "jiangsu-nipt" / "1.0.0.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("- id: JS-9\n", "- id: JS-4-nt\n", 1), encoding="utf-8")
    with pytest.raises(ContractError, match=r"rule id JS-4-nt is used twice \(first at rules\[\d+\]; ids are compared"):
        load_contracts(contracts_copy)
