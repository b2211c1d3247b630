"""The wheel is the product: it carries the contracts, their schema and the licence, and an installed
claimcheck finds its bundled contracts wherever it runs; --contracts and $CLAIMCHECK_CONTRACTS override."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

SOURCES = ["pyproject.toml", "setup.py", "README.md", "LICENSE", "checks", "contracts"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a clean copy of the sources (no stale build/ folder can leak into it)."""
    root = Path(__file__).resolve().parents[1]
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        if (root / name).is_dir():
            shutil.copytree(root / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(root / name, src / name)
    out = tmp_path_factory.mktemp("dist")
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
                        "--no-build-isolation", "-w", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    (whl,) = out.glob("claimcheck-*.whl")
    return whl


def test_the_wheel_carries_every_contract_file_the_schema_and_the_licence(wheel, root):
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled = {f"checks/_bundled/{p.relative_to(root / 'contracts').as_posix()}"
               for p in (root / "contracts").rglob("*") if p.is_file() and p.suffix in {".yaml", ".csv", ".json"}}
    assert any(n.endswith(".yaml") for n in bundled) and any(n.endswith(".csv") for n in bundled)
    assert "checks/_bundled/contract.schema.json" in bundled
    assert bundled <= names, sorted(bundled - names)
    modules = {f"checks/{p.relative_to(root / 'checks').as_posix()}" for p in (root / "checks").rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    assert "checks/report/report.html" in names
    assert {"checks/nhsa/codes.yaml", "checks/nhsa/answer.schema.json"} <= names  # the answer's code map and schema
    licence = next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))
    assert zipfile.ZipFile(wheel).read(licence) == (root / "LICENSE").read_bytes()
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata and "License-File: LICENSE" in metadata


def test_the_licence_is_the_full_apache_2_text(root):
    text = (root / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text and "END OF TERMS AND CONDITIONS" in text


def test_the_installed_wheel_finds_its_contracts_from_an_unrelated_folder(wheel, tmp_path, root):
    """Unpacked on its own (dependencies from this environment), run from an empty folder."""
    target, empty = tmp_path / "site", tmp_path / "empty"
    empty.mkdir()
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                        "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    env = {k: v for k, v in os.environ.items() if k != "CLAIMCHECK_CONTRACTS"}
    env["PYTHONPATH"] = str(target)

    def run(*args):
        code = "import sys, checks; assert checks.__file__.startswith(sys.argv[1]), checks.__file__; " \
               "from checks.cli import main; sys.argv = ['claimcheck'] + sys.argv[2:]; main()"
        return subprocess.run([sys.executable, "-c", code, str(target), *map(str, args)], capture_output=True,
                              text=True, cwd=empty, env=env, timeout=300)

    p = run("explain", "JS-4")
    assert p.returncode == 0, p.stderr
    assert "_bundled/jiangsu-nipt/1.1.0.yaml" in p.stdout
    p = run("check", root / "sample_claims" / "jiangsu-nipt-1.0.0.parquet", "--table",
            f"sunshine_catalogue={root / 'contracts/jiangsu-consumables/sample_catalogue.csv'}")
    assert p.returncode == 1, p.stderr
    assert "findings: 23" in p.stdout
    assert not any(empty.iterdir()), "nothing is written to the working folder"


def test_an_environment_variable_chooses_another_contracts_folder(contracts_copy, tmp_path):
    shutil.rmtree(contracts_copy / "jilin-art")
    env_run = lambda *a, **env: subprocess.run(  # noqa: E731
        [str(Path(sys.executable).parent / "claimcheck"), *a], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, **env}, timeout=300)
    listed = env_run("contracts", "list", CLAIMCHECK_CONTRACTS=str(contracts_copy)).stdout
    assert "jiangsu-nipt@1.0.0" in listed and "jilin-art" not in listed
    assert "jilin-art@1.0.0" in env_run("contracts", "list").stdout
    p = env_run("contracts", "list", CLAIMCHECK_CONTRACTS=str(tmp_path / "nowhere"))
    assert p.returncode == 2 and "nowhere: contracts folder not found" in p.stderr
    # --contracts wins over the environment
    p = env_run("contracts", "list", "--contracts", str(contracts_copy), CLAIMCHECK_CONTRACTS=str(tmp_path / "nowhere"))
    assert p.returncode == 0 and "jilin-art" not in p.stdout
