"""Which part of the engine runs where (README, "Engine layout"), held to the code.

    checks/engine/          the shared plan: both engines run it; it imports neither engine's room
    checks/engine/duckdb/   what runs on DuckDB only; it imports no pyspark and nothing of Spark's
    checks/engine/spark/    what runs on Spark only; pyspark is imported inside its functions

Imports are read from each file's syntax tree (every import statement, those inside functions
too), never by searching the text, and relative imports are resolved to the module they name.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ROOT / "checks"
ENGINE = CHECKS / "engine"

SHARED = sorted(ENGINE.glob("*.py"))
DUCKDB_ROOM = sorted((ENGINE / "duckdb").glob("*.py"))
SPARK_ROOM = sorted((ENGINE / "spark").glob("*.py"))


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path) -> list[tuple[str, str | None, int, str]]:
    """(module, name imported from it or None, line, the local name bound) for every import in
    `path`, relative ones resolved; `from package import submodule` imports the submodule."""
    me = module_of(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno, a.asname or a.name.partition(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for a in node.names:
                if is_module(f"{target}.{a.name}"):
                    out.append((f"{target}.{a.name}", None, node.lineno, a.asname or a.name))
                else:
                    out.append((target, a.name, node.lineno, a.asname or a.name))
    return out


def under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def offending(files, *prefixes) -> list[str]:
    return [f"{p.relative_to(ROOT)}:{line} imports {m}" for p in files for m, _, line, _ in imports(p)
            if any(under(m, x) for x in prefixes)]


def test_the_three_rooms_hold_the_files_the_readme_lists():
    assert {p.name for p in SHARED} == {"__init__.py", "plan.py", "survey.py", "idle.py", "items.py", "cache.py",
                                        "context.py", "lookups.py", "identity.py", "findings.py", "watch.py"}
    assert {p.name for p in DUCKDB_ROOM} == {"__init__.py", "run.py", "diagnose.py"}
    assert {p.name for p in SPARK_ROOM} == {"__init__.py", "run.py", "session.py", "source.py", "sql.py", "dialect.py"}


def test_the_duckdb_room_imports_no_pyspark_and_nothing_of_the_spark_room():
    assert offending(DUCKDB_ROOM, "pyspark", "checks.engine.spark") == []


def test_the_shared_plan_imports_neither_room_nor_an_engine_library():
    """The plan writes SQL and runs it on the connection it is given: it opens none itself."""
    assert offending(SHARED, "checks.engine.duckdb", "checks.engine.spark", "duckdb", "pyspark", "checks.duck") == []


def test_the_spark_room_imports_pyspark_only_inside_functions():
    """Importing the Spark room (as --help and the DuckDB engine may) must not need pyspark."""
    top = [f"{p.relative_to(ROOT)}:{n.lineno}" for p in SPARK_ROOM
           for n in ast.parse(p.read_text(encoding="utf-8")).body
           if isinstance(n, (ast.Import, ast.ImportFrom))
           and any(under(m, "pyspark") for m, _, line, _ in imports(p) if line == n.lineno)]
    assert top == []


def test_the_import_reader_sees_what_a_room_imports():
    """The reader of imports can fail: the Spark room does import pyspark, and the DuckDB room duckdb."""
    assert offending(SPARK_ROOM, "pyspark")
    assert offending(DUCKDB_ROOM, "duckdb")
    assert ("checks.engine.plan", "run_on") in {(m, n) for p in SPARK_ROOM + DUCKDB_ROOM for m, n, _, _ in imports(p)}


# pyspark as if it were not installed (an optional extra), noting which file asked for it: pandera
# tries it on import and does without; claimcheck's DuckDB path must not ask at all.
PROBE = """
import json, sys

class NoPyspark:
    asked = []

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] != "pyspark":
            return None
        f = sys._getframe(1)
        while f is not None and ("importlib" in f.f_code.co_filename or f.f_code.co_filename.startswith("<frozen")):
            f = f.f_back
        self.asked.append(f.f_code.co_filename if f is not None else "?")
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoPyspark())
import checks
findings = None
if sys.argv[1] == "duckdb":
    findings = checks.check([sys.argv[2]], contracts_dir=sys.argv[3]).summary()["findings"]
else:
    from checks.engine.spark.session import session
    try:
        session()
    except checks.errors.UsageError:
        pass
print(json.dumps({"findings": findings, "asked": NoPyspark.asked,
                  "loaded": sorted(m for m in sys.modules if m.split(".")[0] == "pyspark")}))
"""


def without_pyspark(engine: str) -> dict:
    p = subprocess.run([sys.executable, "-c", PROBE, engine, str(ROOT / "sample_claims" / "jiangsu-nipt-1.0.0.parquet"),
                        str(ROOT / "contracts" / "jiangsu-nipt")], capture_output=True, text=True, timeout=300,
                       cwd=ROOT, env={**os.environ, "CLAIMCHECK_CACHE": "off"})  # every step runs, pandera's too
    assert p.returncode == 0, p.stderr
    seen = json.loads(p.stdout.splitlines()[-1])
    seen["asked by claimcheck"] = sorted({a for a in seen["asked"] if Path(a).is_relative_to(CHECKS)})
    return seen


def test_import_checks_and_check_with_the_duckdb_engine_need_no_pyspark():
    seen = without_pyspark("duckdb")
    assert seen["findings"] == 23  # the sample's planted findings: the engine did run
    assert seen["loaded"] == []
    assert seen["asked by claimcheck"] == []


def test_the_probe_sees_claimcheck_asking_for_pyspark():
    """The probe can fail: starting a Spark session does ask for pyspark (and says it is missing)."""
    seen = without_pyspark("spark")
    assert seen["asked by claimcheck"] == [str(ENGINE / "spark" / "session.py")]


def test_no_module_reaches_into_an_engine_modules_underscore_names():
    """A name another module needs is public (plan.run_on, not _run): neither imported with
    `from … import _name` nor read as `module._name`."""
    bad = []
    for path in sorted(CHECKS.rglob("*.py")):
        me = module_of(path)
        engine_modules = {}  # local name -> the engine module it is bound to
        for m, name, line, local in imports(path):
            if not under(m, "checks.engine") or m == me:
                continue
            if name is None:
                engine_modules[local] = m
            elif name.startswith("_"):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {m}.{name}")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in engine_modules
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} reads {engine_modules[node.value.id]}.{node.attr}")
    assert bad == []


OLD = ["duckdb_engine", "spark_engine", "spark_source", "spark_sql", "dialect", "diagnose"]


@pytest.mark.parametrize("old", OLD)
def test_the_old_module_paths_are_gone(old):
    assert not (ENGINE / f"{old}.py").exists()
    mentions = [f"{p.relative_to(ROOT)}: {form}"
                for p in [ROOT / "README.md", ROOT / "bench" / "README.md", ROOT / "pyproject.toml", ROOT / "setup.py",
                          *CHECKS.rglob("*.py"), *(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]
                if p != Path(__file__).resolve()
                for form in (f"engine/{old}", f"engine.{old}") if form in p.read_text(encoding="utf-8")]
    assert mentions == []
