"""The condition language is documented from the registry that validates it: every name the validator
accepts is documented, every documented function and operator is accepted, and every example runs."""
from __future__ import annotations

import logging
import re

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from click.testing import CliRunner
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB

from checks.claims.fields import FIELDS
from checks.cli import main
from checks.expr import _ALLOWED, _STRUCTURE, FUNCTION_SPECS, OPERATORS, ExprError, documented_names, parse
from conftest import line, table

ARGS = ["", "hilist_code", "hilist_code, 2", "hilist_code, 1, 2", "hilist_code, 1, 2, 3"]


def accepted(name: str) -> bool:
    """Whether a condition calling `name` with some number of arguments passes the validator."""
    for args in ARGS:
        try:
            parse(f"{name}({args}) IS NULL", set(FIELDS))
            return True
        except ExprError:
            continue
    return False


def test_the_validator_accepts_exactly_the_documented_names():
    logging.getLogger("sqlglot").setLevel(logging.CRITICAL)  # some names fall back to a Command, with a warning
    candidates = {r[0] for r in duckdb.sql("SELECT DISTINCT function_name FROM duckdb_functions()").fetchall()}
    candidates |= {k.lower() for k in DuckDB.Parser.FUNCTIONS} | {k.lower() for k in sqlglot.parser.Parser.FUNCTIONS}
    candidates = {n for n in candidates if re.fullmatch(r"[a-z_][a-z0-9_]*", n)} | documented_names()
    assert len(candidates) > 1000
    assert {n for n in sorted(candidates) if accepted(n)} == documented_names()


def test_every_node_the_validator_allows_is_documented():
    documented = {n for o in OPERATORS for n in o.nodes} | {f.node for f in FUNCTION_SPECS if f.node}
    assert set(_ALLOWED) - set(_STRUCTURE) == documented


def one_line() -> pa.Table:
    return table([line(serum_risk="1:300", subsidy_amt=0.0, fixmedins_name="南京鼓楼医院", hilist_code="310")],
                 {"subsidy_amt": pa.decimal128(14, 2)})


def evaluate(text: str):
    con = duckdb.connect()
    con.register("t", one_line())
    return con.sql(f"SELECT {parse(text, set(FIELDS)).sql('l')} FROM t l").fetchall()[0][0]


@pytest.mark.parametrize("f", FUNCTION_SPECS, ids=lambda f: f.name)
def test_every_function_example_calls_it_and_runs(f):
    tree = parse(f.example, set(FIELDS))._tree
    if f.node:
        assert any(isinstance(n, f.node) for n in tree.walk())
    else:
        assert any(isinstance(n, exp.Anonymous) and n.name.lower() == f.name for n in tree.walk())
    assert f.name in f.signature and f.description and f.arity
    assert evaluate(f.example) in (True, False)


@pytest.mark.parametrize("o", OPERATORS, ids=lambda o: o.syntax)
def test_every_operator_example_uses_it_and_runs(o):
    assert any(isinstance(n, o.nodes) for n in parse(o.example, set(FIELDS))._tree.walk())
    assert evaluate(o.example) in (True, False)


def test_our_functions_check_their_arity_as_documented():
    with pytest.raises(ExprError, match=r"age_years\(\) takes 2 argument\(s\), got 1"):
        parse("age_years(brdy) > 35", set(FIELDS))


def test_the_functions_command_lists_every_function_alias_and_operator():
    result = CliRunner().invoke(main, ["functions"])
    assert result.exit_code == 0
    for f in FUNCTION_SPECS:
        assert f.signature in result.output and f.example in result.output
    for name in documented_names():
        assert re.search(rf"\b{name}\b", result.output), name
    for o in OPERATORS:
        assert o.syntax in result.output and o.example in result.output
