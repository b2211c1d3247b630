"""When a name is wrong, the error offers the closest valid names first and says "did you mean";
the list is capped, the count is complete, and the meant name is never cut off."""
from __future__ import annotations

import pytest

from checks.contract import load_contracts
from checks.errors import Choices, ContractError, choices_text

YAML = "jiangsu-nipt/1.0.0.yaml"


def edit(contracts, old, new, file=YAML):
    path = contracts / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def message(contracts) -> str:
    with pytest.raises(ContractError) as e:
        load_contracts(contracts)
    return str(e.value)


def valid_names(text: str) -> list[str]:
    return text.split("valid: ", 1)[1].split(", ")


def test_closest_names_come_first_and_the_rest_keep_their_order():
    names = [f"col_{c}" for c in "abcdefghijklmnop"] + ["serum_risk"]
    c = Choices(names, "serum_rsk")
    assert c[0] == "serum_risk" and c[1:] == names[:-1]
    text = choices_text(c)
    assert text.startswith("; did you mean 'serum_risk'? valid: serum_risk, col_a")
    assert text.endswith(", … (17 in all)") and len(valid_names(text)) == 13  # 12 names and the count


def test_likeness_ignores_case_and_nothing_close_means_no_suggestion():
    assert Choices(["JS-4", "JS-4-nt", "FZ-2"], "js-4-NT")[0] == "JS-4-nt"
    assert choices_text(Choices(["violation", "suspect"], "fatal")) == "; valid: violation, suspect"


def test_a_name_that_begins_with_the_wrong_one_is_close():
    assert Choices(["jiangsu-nipt", "fuzhou-nipt-subsidy"], "fuzhou").close == ["fuzhou-nipt-subsidy"]


def test_the_wrong_name_is_read_from_the_message_when_not_given():
    text = choices_text(["payment_limit", "source_row", "item"],
                        message="table 'attachment3' has no column 'payment_limt'")
    assert text.startswith("; did you mean 'payment_limit'?")


def test_unknown_column_in_a_condition_beyond_the_first_twelve(contracts_copy):
    edit(contracts_copy, "when: inpolicy_amt > 0", "when: serum_rsk > 0")
    text = message(contracts_copy)
    assert "unknown column 'serum_rsk'" in text and "did you mean 'serum_risk'?" in text
    assert valid_names(text)[0] == "serum_risk" and "(33 in all)" in text


def test_unknown_kind(contracts_copy):
    edit(contracts_copy, "kind: payment_limit", "kind: paymentlimit")
    text = message(contracts_copy)
    assert "'paymentlimit' is unknown; did you mean 'payment_limit'? valid: payment_limit, " in text


def test_unknown_code_set(contracts_copy):
    edit(contracts_copy, "codes: [consultation_fee]", "codes: [consultaton_fee]")
    text = message(contracts_copy)
    assert "unknown code set 'consultaton_fee'; did you mean 'consultation_fee'? valid: consultation_fee, " in text


def test_unknown_table_column_in_a_lookup(contracts_copy):
    edit(contracts_copy, "value: payment_limit", "value: paymnt_limit")
    text = message(contracts_copy)
    assert "table 'attachment3' has no column 'paymnt_limit'; did you mean 'payment_limit'?" in text


def test_reference_table_column_not_declared(contracts_copy):
    edit(contracts_copy, "source_row,hilist_code,item", "source_row,hilist_cod,item", file="jiangsu-nipt/attachment3.csv")
    assert "column 'hilist_cod' is not declared in the contract; did you mean 'hilist_code'?" in message(contracts_copy)


def test_unknown_key_in_a_rule(contracts_copy):
    edit(contracts_copy, "    severity: violation\n", "    severity: violation\n    sevrity: suspect\n")
    assert "unknown key 'sevrity'; did you mean 'severity'? valid: severity," in message(contracts_copy)


def test_unknown_function_in_a_condition(contracts_copy):
    edit(contracts_copy, "when: inpolicy_amt > 0", "when: age_year(brdy, fee_ocur_time) > 35")
    assert "unknown function 'age_year'" in (text := message(contracts_copy))
    assert "did you mean 'age_years'?" in text
