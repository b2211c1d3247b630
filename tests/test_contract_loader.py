"""Contract errors say file:line:column, what is wrong and what would be valid."""
from __future__ import annotations

import json
import re

import pytest

from checks.contract import load_contracts
from checks.contract.schema import contract_schema
from checks.errors import ContractError

YAML = "jiangsu-nipt/1.0.0.yaml"


def edit(contracts, old, new, file=YAML, count=1):
    path = contracts / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def line_of(path, needle):
    return next(i for i, l in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in l)


def error(contracts) -> ContractError:
    with pytest.raises(ContractError) as e:
        load_contracts(contracts)
    return e.value


def test_the_bundled_contracts_load(root):
    versions = load_contracts(root / "contracts")
    published, revision = (next(v for v in versions if v.id == "jiangsu-nipt" and v.version == n)
                           for n in ("1.0.0", "1.1.0"))
    assert len(published.rules) == 20 and published.tables["attachment1"].data.num_rows == 241
    nipt = revision
    assert len(nipt.rules) == 21 and nipt.revises == "1.0.0"
    assert all(r.source.quote for r in nipt.rules)


def test_unknown_kind_lists_the_known_ones(contracts_copy):
    path = edit(contracts_copy, "kind: ceiling", "kind: ceilng")
    e = error(contracts_copy)
    assert e.line == line_of(path, "kind: ceilng")
    assert "rules[1].kind 'ceilng' is unknown" in str(e)
    assert "did you mean 'ceiling'? valid: ceiling, addon, care_setting, eligibility" in str(e)
    assert re.match(rf".*{re.escape(YAML)}:\d+:\d+: ", str(e))


def test_unknown_key(contracts_copy):
    path = edit(contracts_copy, "    severity: violation\n", "    severity: violation\n    sevrity: suspect\n")
    e = error(contracts_copy)
    assert "unknown key 'sevrity'" in str(e) and e.line == line_of(path, "sevrity")
    assert "severity" in e.choices


def test_bad_severity(contracts_copy):
    edit(contracts_copy, "severity: violation", "severity: fatal")
    assert "'fatal' is unknown; valid: violation, suspect" in str(error(contracts_copy))


def test_unknown_column_in_a_condition(contracts_copy):
    path = edit(contracts_copy, "when: price_class IN", "when: price_klass IN")
    e = error(contracts_copy)
    assert "unknown column 'price_klass'" in str(e) and e.line == line_of(path, "price_klass")
    assert "price_class" in e.choices


@pytest.mark.parametrize("condition,words", [
    ("price_class IN ('一类',", "malformed condition"),
    ("price_class = '一类'; DROP TABLE lines", "not allowed"),
    ("(SELECT 1) = 1", "SUBQUERY is not allowed"),
    ("read_csv('/etc/passwd') IS NULL", "unknown function 'read_csv'"),
    ("lines.price_class = '一类'", "qualified column"),
])
def test_conditions_are_checked_never_run(contracts_copy, condition, words):
    path = edit(contracts_copy, "when: price_class IN ('一类', '基层')", f'when: "{condition}"')
    e = error(contracts_copy)
    assert words in str(e) and e.line == line_of(path, f"when: \"{condition[:10]}")


def test_unknown_code_set(contracts_copy):
    path = edit(contracts_copy, "codes: [consultation_fee]", "codes: [consultation_fees]")
    e = error(contracts_copy)
    assert "unknown code set 'consultation_fees'" in str(e) and "consultation_fee" in e.choices
    assert e.line == line_of(path, "consultation_fees")


def test_unknown_table_and_table_column(contracts_copy):
    edit(contracts_copy, "value: payment_limit", "value: payment_limt")
    e = error(contracts_copy)
    assert "table 'attachment3' has no column 'payment_limt'" in str(e) and "payment_limit" in e.choices


def test_unknown_document(contracts_copy):
    edit(contracts_copy, "document: NT\n", "document: NTX\n")
    assert "unknown document 'NTX'; did you mean 'NT'? valid: NT, SJ59" in str(error(contracts_copy))


def test_missing_quote(contracts_copy):
    edit(contracts_copy, "      quote: 诊断服务最高政府指导价为60元/次\n", "")
    assert "'quote' is a required property" in str(error(contracts_copy))


def test_version_must_match_file_name(contracts_copy):
    edit(contracts_copy, "version: 1.0.0", "version: 1.0.1")
    assert "does not match the file name 1.0.0.yaml" in str(error(contracts_copy))


def test_overlapping_versions(contracts_copy):
    text = (contracts_copy / YAML).read_text(encoding="utf-8").replace("version: 1.0.0", "version: 1.2.0")
    (contracts_copy / "jiangsu-nipt/1.2.0.yaml").write_text(text, encoding="utf-8")
    assert "effective dates overlap version 1.0.0" in str(error(contracts_copy))


def test_a_published_version_alone_reads_the_alias_table_that_now_carries_sources(contracts_copy):
    (contracts_copy / "jiangsu-nipt/1.1.0.yaml").unlink()
    [v] = [v for v in load_contracts(contracts_copy) if v.id == "jiangsu-nipt"]
    assert v.version == "1.0.0" and v.institutions.aliases


def test_duplicate_rule_id(contracts_copy):
    edit(contracts_copy, "id: JS-4\n", "id: JS-3\n")
    assert "rule id JS-3 is used twice" in str(error(contracts_copy))


def test_supersedes_must_name_a_rule(contracts_copy):
    edit(contracts_copy, "supersedes: [JS-4]", "supersedes: [JS-44]")
    assert "supersedes names no other rule" in str(error(contracts_copy))


def test_yaml_syntax_error_has_a_line(contracts_copy):
    path = edit(contracts_copy, "title_en: Jiangsu NIPT", "title_en: [Jiangsu NIPT")
    e = error(contracts_copy)
    assert "not valid YAML" in str(e) and e.line is not None


def test_duplicate_yaml_key(contracts_copy):
    edit(contracts_copy, "effective_to: 2026-12-31\n", "effective_to: 2026-12-31\neffective_to: 2027-12-31\n")
    assert "effective_to is given twice" in str(error(contracts_copy))


def test_reference_table_with_an_undeclared_column(contracts_copy):
    edit(contracts_copy, "source_row,hilist_code,item", "source_row,hilist_code,itme", file="jiangsu-nipt/attachment3.csv")
    e = error(contracts_copy)
    assert e.file.endswith("attachment3.csv") and "column 'itme' is not declared" in str(e)


def test_reference_table_row_without_citation(contracts_copy):
    path = contracts_copy / "jiangsu-nipt/attachment3.csv"
    path.write_text(path.read_text(encoding="utf-8") + ",X,y,乙,1,0.1\n", encoding="utf-8")
    assert "has no source_row" in str(error(contracts_copy))


def test_reference_table_bad_number(contracts_copy):
    edit(contracts_copy, ",370,", ",三百七十,", file="jiangsu-nipt/attachment3.csv")
    e = error(contracts_copy)
    assert e.file.endswith("attachment3.csv") and "cannot read reference table" in str(e)


def test_the_published_schema_is_the_one_in_force(root):
    published = json.loads((root / "contracts" / "contract.schema.json").read_text(encoding="utf-8"))
    assert published == contract_schema(), "run: claimcheck contracts schema --out contracts/contract.schema.json"
