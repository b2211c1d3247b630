"""Ordinary fee lines in bulk: outpatient and inpatient visits of 1–6 lines, no policy item."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
INSTITUTIONS = 59  # numbered 1..59 in every region
MED_TYPES = ["11", "11", "11", "13", "14", "21"]
INSUTYPES = ["310", "390", "390"]


def numbered(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """`prefix` + the zero-padded number, e.g. MD000000042."""
    digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def pick(values, index: np.ndarray) -> pa.Array:
    return pa.array(list(values), type=pa.string()).take(pa.array(index))


def background(n: int, rng: np.random.Generator, prefix: str = "", chunk: str = "") -> dict:
    """`n` ordinary fee lines, vectorised; visit and person ids start with `chunk` + `prefix`,
    settlement ids with `chunk`."""
    sizes = rng.integers(1, 7, size=n // 2 + 8)
    visit = np.repeat(np.arange(len(sizes)), sizes)[:n]
    nv = int(visit[-1]) + 1 if n else 0
    codes, weights = zip(*REGIONS)
    w = np.array(weights, float)
    v_region = rng.choice(len(codes), size=nv, p=w / w.sum())
    v_inst = rng.integers(1, INSTITUTIONS + 1, size=nv)
    v_psn = rng.integers(1, max(2, nv // 2), size=nv)
    v_time = rng.integers(0, 364 * 24 * 3600, size=nv)
    v_med = rng.integers(0, 6, size=nv)  # of MED_TYPES
    v_ins = rng.integers(0, 3, size=nv)  # of INSUTYPES
    item = rng.integers(0, len(ITEMS), size=n)
    it = list(zip(*ITEMS))
    base = np.array(it[4])[item]
    consumable = np.array([c.startswith("C") for c in it[0]])[item]
    factor = rng.choice([1.0, 1.0, 0.9, 1.2], size=n)
    pric = np.round(base * np.where(consumable, np.minimum(factor, 1.0), factor), 2)  # consumables at most listed
    cnt = rng.integers(1, 4, size=n).astype(float)
    sumamt = np.round(pric * cnt, 2)
    pre = np.where(np.array(it[3])[item] == "02", np.round(sumamt * 0.1, 2), 0.0)
    inscp = np.round(sumamt - pre, 2)
    region = v_region[visit]
    inst = v_inst[visit]
    place = region * (INSTITUTIONS + 1) + inst  # one label per (region, institution number)
    seq = np.arange(n) - np.searchsorted(visit, visit)  # position within the visit
    null = pa.nulls(n, pa.string())
    return {
        "mdtrt_id": numbered(chunk + prefix + "MD", visit, 9), "feedetl_sn": numbered("", seq + 1, 4),
        "setl_id": numbered(chunk + "ST", visit, 9), "psn_no": numbered(chunk + prefix + "P", v_psn[visit], 10),
        "gend": pick(["1", "2"], rng.integers(0, 2, size=n)),
        "brdy": np.datetime64("1950-01-01") + rng.integers(0, 60 * 365, size=n).astype("timedelta64[D]"),
        "insutype": pick(INSUTYPES, v_ins[visit]), "med_type": pick(MED_TYPES, v_med[visit]),
        "insuplc_admdvs": pick(codes, region), "mdtrtarea_admvs": pick(codes, region),
        "fixmedins_code": pick((f"H{c}{i:05d}" for c in codes for i in range(INSTITUTIONS + 1)), place),
        "fixmedins_name": pick((f"{c}地区第{i}人民医院" for c in codes for i in range(INSTITUTIONS + 1)), place),
        "price_class": pick(["三类", "二类", "一类", "基层"], inst % 4),
        "fee_ocur_time": (np.datetime64(START) + v_time[visit].astype("timedelta64[s]")).astype("datetime64[s]"),
        "hilist_code": pick(it[0], item), "hilist_name": pick(it[1], item),
        "list_type": pick(it[2], item), "chrgitm_lv": pick(it[3], item), "cnt": cnt, "pric": pric,
        "det_item_fee_sumamt": sumamt, "fulamt_ownpay_amt": np.zeros(n), "overlmt_amt": np.zeros(n),
        "preselfpay_amt": pre, "inscp_scp_amt": inscp, "fetts": null,
        "subsidy_amt": np.full(n, np.nan), "serum_risk": null, "poverty_flag": pa.nulls(n, pa.bool_()),
        "main_diag_code": pick(["J06.900", "I10.x00", "K29.700", "E11.900"], rng.integers(0, 4, size=n)),
        "medins_list_codg": numbered("L", item, 1),
    }
