"""Commands that only show text (help, kinds, functions, explain, contracts list) start fast: they
import neither DuckDB nor pandas/pandera nor pyarrow. Checked by what gets imported, not by time."""
from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ["duckdb", "pandas", "pandera", "pyarrow", "numpy"]

PROBE = """
import sys
from click.testing import CliRunner
from checks.cli import main
result = CliRunner().invoke(main, sys.argv[1:])
assert result.exit_code == 0, (result.exit_code, result.output)
print(" ".join(sorted(m for m in %r if m in sys.modules)))
""" % (HEAVY,)


def imported_by(*args) -> list[str]:
    p = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


@pytest.mark.parametrize("args", [["--help"], ["kinds"], ["functions"], ["explain", "JS-4"], ["explain", "JS-9"],
                                  ["contracts", "list"]])
def test_showing_text_imports_no_engine_and_no_data_library(args):
    assert imported_by(*args) == []


def test_the_probe_sees_heavy_imports_when_there_are_some():
    """The probe itself can fail: reading a reference table does import pyarrow."""
    assert "pyarrow" in imported_by("contracts", "validate")


def test_a_table_read_on_first_use_still_reports_its_errors(contracts_copy):
    from checks.contract import load_contracts
    from checks.errors import ContractError

    path = contracts_copy / "jiangsu-nipt" / "attachment3.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",370,", ",三百七十,", 1), encoding="utf-8")
    nipt = next(v for v in load_contracts(contracts_copy, read_tables=False) if v.id == "jiangsu-nipt")
    assert nipt.tables["attachment1"].data.num_rows == 241
    with pytest.raises(ContractError, match="attachment3.csv: cannot read reference table"):
        nipt.tables["attachment3"].data
    with pytest.raises(ContractError, match="attachment3.csv: cannot read reference table"):
        load_contracts(contracts_copy)  # the default reads every table at load
