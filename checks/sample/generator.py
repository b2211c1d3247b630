"""Generate a realistic claim batch: ordinary fee lines in bulk, plus policy scenarios with
planted violations. Writes Parquet (zstd) and, on request, the planted manifest as CSV
(rule_id, mdtrt_id, feedetl_sn): exactly the findings a correct checker reports.
"""
from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..contract import load_contracts
from ..errors import UsageError
from . import fuzhou_subsidy, jiangsu_consumables, jiangsu_nipt, jiangxi_rmc, jilin_art

# contract version -> (id prefix, scenario); each plants one line per rule that only that rule flags
SCENARIOS = {
    "jiangsu-nipt@1.0.0": ("JSN", jiangsu_nipt.scenario),
    "jiangsu-consumables@1.0.0": ("JSC", jiangsu_consumables.scenario),
    "jiangxi-rmc@1.0.0": ("JXR", jiangxi_rmc.scenario),
    "fuzhou-nipt-subsidy@1.0.0": ("FZA", fuzhou_subsidy.scenario_2019),
    "fuzhou-nipt-subsidy@2.0.0": ("FZB", fuzhou_subsidy.scenario_2022),
    "jilin-art@1.0.0": ("JLA", jilin_art.scenario),
}

# (code, name, list_type, chrgitm_lv, typical unit price)
ITEMS = [
    ("110200001", "门诊诊查费", "201", "01", 15.0), ("110200001a", "门诊诊查费（副主任医师）", "201", "01", 25.0),
    ("250101001", "血红蛋白测定", "201", "01", 3.0), ("250102001", "尿常规检查", "201", "01", 6.0),
    ("250301002", "肝功能检测", "201", "01", 40.0), ("250203001", "血糖测定", "201", "01", 8.0),
    ("210102015", "数字化摄影(DR)", "201", "01", 70.0), ("220301001", "B超常规检查", "201", "02", 80.0),
    ("310701001", "常规心电图检查", "201", "01", 20.0), ("120400001", "肌肉注射", "201", "01", 3.0),
    ("XJ01CAA040A001010101234", "阿莫西林胶囊", "101", "01", 0.35),
    ("XC09AAX123A001010203456", "依那普利片", "101", "02", 1.20),
    ("ZA01AAA0001010203040506", "板蓝根颗粒", "101", "01", 0.80),
    ("XN02BEA011A001010104021", "对乙酰氨基酚片", "101", "01", 0.15),
    ("C1401010150010000001", "一次性使用无菌注射器", "301", "01", 0.60),
    ("C0203010120020000002", "医用脱脂纱布", "301", "02", 2.50),
]
# (region prefix, weight): mostly Jiangsu; some other provinces, where Jiangsu rules do not apply
REGIONS = [("320102", 8), ("320205", 3), ("320311", 2), ("320402", 2), ("320506", 4), ("320602", 3),
           ("320612", 1), ("320703", 1), ("320803", 1), ("320902", 1), ("321002", 1), ("321102", 1),
           ("321202", 1), ("321302", 1), ("330106", 2), ("360702", 1), ("350102", 1), ("220102", 1)]
START = dt.datetime(2025, 1, 1, 8, 0, 0)

SCHEMA = pa.schema([
    ("mdtrt_id", pa.string()), ("feedetl_sn", pa.string()), ("setl_id", pa.string()), ("psn_no", pa.string()),
    ("gend", pa.string()), ("brdy", pa.date32()), ("insutype", pa.string()), ("med_type", pa.string()),
    ("insuplc_admdvs", pa.string()), ("mdtrtarea_admvs", pa.string()), ("fixmedins_code", pa.string()),
    ("fixmedins_name", pa.string()), ("price_class", pa.string()), ("fee_ocur_time", pa.timestamp("s")),
    ("hilist_code", pa.string()), ("hilist_name", pa.string()), ("list_type", pa.string()),
    ("chrgitm_lv", pa.string()), ("cnt", pa.float64()), ("pric", pa.decimal128(12, 2)),
    ("det_item_fee_sumamt", pa.decimal128(14, 2)), ("fulamt_ownpay_amt", pa.decimal128(14, 2)),
    ("overlmt_amt", pa.decimal128(14, 2)), ("preselfpay_amt", pa.decimal128(14, 2)),
    ("inscp_scp_amt", pa.decimal128(14, 2)), ("fetts", pa.string()), ("main_diag_code", pa.string()),
    ("subsidy_amt", pa.decimal128(12, 2)), ("serum_risk", pa.string()), ("poverty_flag", pa.bool_()),
    ("medins_list_codg", pa.string()),  # a column no contract knows: carried along
])
MONEY = ["pric", "det_item_fee_sumamt", "fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt",
         "subsidy_amt"]


def background(n: int, rng: np.random.Generator, prefix: str = "") -> dict[str, np.ndarray]:
    """`n` ordinary fee lines in visits of 1–6 lines, vectorised; ids start with `prefix`."""
    sizes = rng.integers(1, 7, size=n // 2 + 8)
    visit = np.repeat(np.arange(len(sizes)), sizes)[:n]
    nv = int(visit.max()) + 1 if n else 0
    codes, weights = zip(*REGIONS)
    w = np.array(weights, float)
    v_region = np.array(codes)[rng.choice(len(codes), size=nv, p=w / w.sum())]
    v_inst = rng.integers(1, 60, size=nv)
    v_psn = rng.integers(1, max(2, nv // 2), size=nv)
    v_time = rng.integers(0, 364 * 24 * 3600, size=nv)
    v_med = np.array(["11", "11", "11", "13", "14", "21"])[rng.integers(0, 6, size=nv)]
    v_ins = np.array(["310", "390", "390"])[rng.integers(0, 3, size=nv)]
    item = rng.integers(0, len(ITEMS), size=n)
    it = list(zip(*ITEMS))
    base = np.array(it[4])[item]
    consumable = np.array([c.startswith("C") for c in it[0]])[item]
    factor = rng.choice([1.0, 1.0, 0.9, 1.2], size=n)
    pric = np.round(base * np.where(consumable, np.minimum(factor, 1.0), factor), 2)  # consumables at most listed
    cnt = rng.integers(1, 4, size=n).astype(float)
    sumamt = np.round(pric * cnt, 2)
    lv = np.array(it[3])[item]
    pre = np.where(lv == "02", np.round(sumamt * 0.1, 2), 0.0)
    inscp = np.round(sumamt - pre, 2)
    region = v_region[visit]
    inst = v_inst[visit]
    seq = np.arange(n) - np.searchsorted(visit, visit)  # position within the visit
    return {
        "mdtrt_id": np.char.add(prefix + "MD", np.char.zfill(visit.astype(str), 9)),
        "feedetl_sn": np.char.zfill((seq + 1).astype(str), 4),
        "setl_id": np.char.add("ST", np.char.zfill(visit.astype(str), 9)),
        "psn_no": np.char.add(prefix + "P", np.char.zfill(v_psn[visit].astype(str), 10)),
        "gend": np.array(["1", "2"])[rng.integers(0, 2, size=n)],
        "brdy": np.datetime64("1950-01-01") + rng.integers(0, 60 * 365, size=n).astype("timedelta64[D]"),
        "insutype": v_ins[visit], "med_type": v_med[visit],
        "insuplc_admdvs": region, "mdtrtarea_admvs": region,
        "fixmedins_code": np.char.add(np.char.add("H", region), np.char.zfill(inst.astype(str), 5)),
        "fixmedins_name": np.char.add(np.char.add(region, "地区第"), np.char.add(inst.astype(str), "人民医院")),
        "price_class": np.array(["三类", "二类", "一类", "基层"])[inst % 4],
        "fee_ocur_time": (np.datetime64(START) + v_time[visit].astype("timedelta64[s]")).astype("datetime64[s]"),
        "hilist_code": np.array(it[0])[item], "hilist_name": np.array(it[1])[item],
        "list_type": np.array(it[2])[item], "chrgitm_lv": lv, "cnt": cnt, "pric": pric,
        "det_item_fee_sumamt": sumamt, "fulamt_ownpay_amt": np.zeros(n), "overlmt_amt": np.zeros(n),
        "preselfpay_amt": pre, "inscp_scp_amt": inscp, "fetts": np.full(n, None, dtype=object),
        "subsidy_amt": np.full(n, np.nan), "serum_risk": np.full(n, None, dtype=object),
        "poverty_flag": np.full(n, None, dtype=object),
        "main_diag_code": np.array(["J06.900", "I10.x00", "K29.700", "E11.900"])[rng.integers(0, 4, size=n)],
        "medins_list_codg": np.char.add("L", item.astype(str)),
    }


def _column(name: str, values) -> pa.Array:
    typ = SCHEMA.field(name).type
    if pa.types.is_decimal(typ):
        arr = np.asarray(values, dtype=float)
        if len(arr) < 50_000:
            return pa.array([None if np.isnan(x) else Decimal(f"{x:.2f}") for x in arr], type=typ)
        return pa.array(np.round(arr, 2), type=pa.float64(), from_pandas=True).cast(typ, safe=False)
    if pa.types.is_timestamp(typ):
        return pa.array(np.asarray(values, dtype="datetime64[s]"), type=typ)
    if pa.types.is_date(typ):
        return pa.array(np.asarray(values, dtype="datetime64[D]"), type=typ)
    if pa.types.is_boolean(typ):
        return pa.array([None if v is None else bool(v) for v in values], type=typ)
    if typ == pa.float64():
        return pa.array(np.asarray(values, dtype=float), type=typ)
    return pa.array([None if v is None else str(v) for v in values], type=typ) if isinstance(values, list) \
        else pa.array(values, type=typ, from_pandas=True)


def generate(out: Path, lines: int = 3000, seed: int = 20250301, planted_path: Path | None = None,
             contracts_dir=None, scenarios: list[str] | None = None) -> tuple[int, int]:
    """Write about `lines` fee lines: the scenarios' lines (all by default) and ordinary ones."""
    rng = np.random.default_rng(seed)
    contracts = {c.key: c for c in load_contracts(contracts_dir, use_samples=True)}
    names = scenarios or list(SCENARIOS)
    scenario_rows, planted = [], set()
    for name in names:
        if name not in SCENARIOS:
            raise UsageError(f"unknown scenario {name!r}; valid: {', '.join(SCENARIOS)}")
        rows, pl = SCENARIOS[name][1](contracts, lines, rng)
        scenario_rows += rows
        planted |= pl
    prefix = "" if scenarios is None else "".join(SCENARIOS[n][0] for n in names)
    bg = background(max(0, lines - len(scenario_rows)), rng, prefix)
    cols = {}
    for name in SCHEMA.names:
        extra = [r.get(name) for r in scenario_rows]
        if name in ("fee_ocur_time", "brdy"):
            unit = "datetime64[s]" if name == "fee_ocur_time" else "datetime64[D]"
            extra = np.array([np.datetime64(x) if x is not None else np.datetime64("NaT") for x in extra], dtype=unit)
            cols[name] = np.concatenate([bg[name].astype(unit), extra])
        elif name in MONEY or name == "cnt":
            extra = [np.nan if x is None else x for x in extra]
            cols[name] = np.concatenate([np.asarray(bg[name], dtype=float), np.array(extra, dtype=float)])
        else:
            cols[name] = list(bg[name]) + extra
    table = pa.table({name: _column(name, cols[name]) for name in SCHEMA.names}, schema=SCHEMA)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out, compression="zstd", row_group_size=256_000)
    if planted_path:
        with open(planted_path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["rule_id", "mdtrt_id", "feedetl_sn"])
            w.writerows(sorted(planted))
    return table.num_rows, len(planted)
