"""Every rule kind documents itself: what it checks, why, and an example that is a valid rule."""
from __future__ import annotations

import sys

import jsonschema
import pytest
import yaml

from checks.kinds import KINDS

EXPECTED = {"ceiling", "scope", "window", "care_setting", "frequency", "exclusion", "payment_limit", "addon",
            "selfpay", "eligibility", "money_identity"}


def test_all_kinds_are_registered():
    assert set(KINDS) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_docstring_is_documentation_with_a_valid_example(name):
    doc = sys.modules[KINDS[name].__module__].__doc__
    assert "What it checks" in doc and "Why" in doc and "Money at stake" in doc and "Example" in doc
    example = doc.split("Example:", 1)[1]
    rule = yaml.safe_load(example)[0]
    assert rule["kind"] == name
    params = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in rule["params"].items()}
    jsonschema.validate(params, KINDS[name].params_schema)


def test_a_kind_cannot_be_registered_twice():
    from checks.kinds import register

    with pytest.raises(RuntimeError):
        register("ceiling")(type("Again", (), {}))
