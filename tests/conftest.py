"""Shared fixtures: the repository root, claim-line builders, a writable copy of the contracts."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]

BR1 = "CJ30303033341300103001"  # 贝瑞和康, 附件1 序号4 南京鼓楼医院 (500)
HD = "CJ30303033340301303001"   # 华大
DIAG = "250700010-b"

TYPES = {
    "mdtrt_id": pa.string(), "feedetl_sn": pa.string(), "psn_no": pa.string(), "insutype": pa.string(),
    "med_type": pa.string(), "mdtrtarea_admvs": pa.string(), "fixmedins_code": pa.string(),
    "fixmedins_name": pa.string(), "fee_ocur_time": pa.timestamp("s"), "hilist_code": pa.string(),
    "hilist_name": pa.string(), "cnt": pa.float64(), "pric": pa.decimal128(12, 2),
    "det_item_fee_sumamt": pa.decimal128(14, 2), "inscp_scp_amt": pa.decimal128(14, 2),
    "preselfpay_amt": pa.decimal128(14, 2), "overlmt_amt": pa.decimal128(14, 2),
    "fulamt_ownpay_amt": pa.decimal128(14, 2), "fetts": pa.string(),
    "chrgitm_lv": pa.string(), "price_class": pa.string(), "gend": pa.string(), "brdy": pa.date32(),
}


def line(n: int = 1, *, code=BR1, price=500.0, cnt=1.0, limit=370.0, ratio=0.10, self_paid=False, **over) -> dict:
    """A clean Jiangsu NIPT fee line (南京鼓楼医院, detection, 2025-03-01), with overrides.

    Its money splits as the national platform does (T = F + O + P + I, 符合政策范围金额 without
    先行自付); `self_paid` makes the whole line 全自费."""
    total = round(price * cnt, 2)
    in_limit = min(total, limit * cnt)
    pre = round(in_limit * ratio, 2)
    row = {
        "mdtrt_id": f"M{n:05d}", "feedetl_sn": "1", "psn_no": f"P{n:05d}", "insutype": "310", "med_type": "51",
        "mdtrtarea_admvs": "320106", "fixmedins_code": "H32010600001", "fixmedins_name": "南京鼓楼医院",
        "fee_ocur_time": dt.datetime(2025, 3, 1, 9, 30), "hilist_code": code, "hilist_name": "无创产前基因检测服务",
        "cnt": cnt, "pric": price, "det_item_fee_sumamt": total, "inscp_scp_amt": round(in_limit - pre, 2),
        "preselfpay_amt": pre, "overlmt_amt": round(total - in_limit, 2), "fulamt_ownpay_amt": 0.0,
        "fetts": "1", "chrgitm_lv": "02",
        "price_class": "三类", "gend": "2", "brdy": dt.date(1990, 1, 1),
    }
    if self_paid:
        row.update(fulamt_ownpay_amt=total, overlmt_amt=0.0, inscp_scp_amt=0.0, preselfpay_amt=0.0)
    row.update(over)
    return row


def diagnosis(n: int = 1, price=60.0, **over) -> dict:
    over.setdefault("hilist_name", "胎儿染色体非整倍体无创产前基因诊断服务")
    return line(n, code=DIAG, price=price, limit=60.0, **over)


def table(rows: list[dict], types: dict | None = None) -> pa.Table:
    types = {**TYPES, **(types or {})}
    cols = {}
    for name in rows[0]:
        values = [r.get(name) for r in rows]
        typ = types.get(name, pa.string())
        if pa.types.is_decimal(typ):
            values = [None if v is None else Decimal(f"{v:.2f}") for v in values]
        cols[name] = pa.array(values, type=typ)
    return pa.table(cols)


@pytest.fixture(scope="session", autouse=True)
def survey_cache(tmp_path_factory):
    """The survey cache of this test session, never the user's (checks/engine/cache.py)."""
    import os
    folder = tmp_path_factory.mktemp("cache")
    os.environ["CLAIMCHECK_CACHE"] = str(folder)
    return folder


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def write(tmp_path):
    """write(rows, name='claims.parquet', types=None) -> path of a Parquet claim file."""
    def _write(rows, name="claims.parquet", types=None):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table(rows, types), path)
        return path
    return _write


@pytest.fixture
def contracts_copy(tmp_path):
    """A writable copy of the bundled contracts folder."""
    dest = tmp_path / "contracts"
    shutil.copytree(ROOT / "contracts", dest)
    return dest


@pytest.fixture
def run_cli():
    """Run the installed console script as a user would; return the CompletedProcess."""
    def _run(*args, cwd=None):
        exe = Path(sys.executable).parent / "claimcheck"
        return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=cwd or ROOT,
                              timeout=300)
    return _run


def spark_missing() -> str | None:
    """Why the Spark engine cannot run here (None when it can)."""
    import importlib.util
    import os

    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[spark]')"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "Java is not installed (apt-get install openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="session")
def spark():
    """One local Spark session (local[2]) for the whole run. Without pyspark or Java the Spark tests
    are skipped, saying which is missing; with CLAIMCHECK_REQUIRE_SPARK set (.ci/run) they fail."""
    import os

    reason = spark_missing()
    if reason:
        if os.environ.get("CLAIMCHECK_REQUIRE_SPARK"):
            pytest.fail(f"CLAIMCHECK_REQUIRE_SPARK is set but {reason}")
        pytest.skip(reason)
    from checks.engine.spark.session import session, shutdown

    s = session("local[2]")
    yield s
    shutdown()
