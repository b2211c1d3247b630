"""The findings-heavy part of a batch: what a hospital system with one mis-configured price
produces. Every NIPT detection is charged 10 yuan above the institution's price in 附件1, so each
is one finding (JS-1-price at a selected prenatal diagnosis institution, JS-2-price elsewhere) and
nothing else; one pregnancy in five also has its diagnosis visit, billed correctly. Vectorised:
these lines are most of such a batch. Diagnoses are billed, as the rules require, at the
prenatal diagnosis institution (a screening institution's partner)."""
from __future__ import annotations

import datetime as dt
import zlib

import numpy as np
import pyarrow as pa

from .background import numbered, pick
from .jiangsu_nipt import DETECTION_LIMIT, DIAG, DIAGNOSIS_LIMIT, RATIO, Builder, _class

OVERCHARGE = 10.0
TAG = "JSH"
FIRST_DAY = dt.datetime(2025, 1, 2, 9)


class Institutions:
    """附件1's institutions as arrays: the first reagent code of each, its price, what it is billed as."""

    def __init__(self, table):
        b = Builder(table, rng=None)
        self.names = b.names
        info = [b.inst[n] for n in b.names]
        self.code = [min(i["codes"]) for i in info]
        self.price = np.array([i["codes"][c] for i, c in zip(info, self.code)], dtype=float)
        self.region = [i["city"] + "02" for i in info]
        self.cls = [_class(n, i["role"]) for n, i in zip(b.names, info)]
        self.fixmedins_code = [f"H{r}{zlib.crc32(n.encode()) % 99999:05d}" for n, r in zip(b.names, self.region)]
        self.rule = np.array(["JS-1-price" if i["role"] == "中选产前诊断机构" else "JS-2-price" for i in info])
        low = [r.startswith("3206") and c in ("一类", "基层") for r, c in zip(self.region, self.cls)]
        self.diagnosis_price = np.where(low, 54.0, 60.0)  # Nantong's class-1 and primary price, else 60
        self.diag = np.array([b.names.index(i["diag_at"]) for i in info])  # where its diagnoses are billed


def split(total: float, limit: float):
    """The national money split of a one-unit line at `total` with a per-unit payment limit."""
    in_limit = np.minimum(total, limit)
    pre = np.round(in_limit * RATIO, 2)
    return np.round(total - in_limit, 2), pre, np.round(in_limit - pre, 2)


def overcharged(inst: Institutions, n: int, rng: np.random.Generator, chunk: str = "") -> tuple[dict, list]:
    """`n` lines: detections charged too much, and some diagnoses; and the findings they make."""
    npreg = n - n // 5
    ndiag = n - npreg
    where = rng.integers(0, len(inst.names), size=npreg)
    fetts = rng.integers(1, 3, size=npreg)
    day = rng.integers(0, 330, size=npreg)
    preg = np.concatenate([np.arange(npreg), np.arange(ndiag)])  # detections, then the diagnoses
    diag = np.arange(n) >= npreg
    at = np.where(diag, inst.diag[where[preg]], where[preg])  # diagnoses at the prenatal diagnosis institution
    visit = np.concatenate([numbered(chunk + TAG + "D", np.arange(1, npreg + 1), 8).to_numpy(zero_copy_only=False),
                            numbered(chunk + TAG + "G", np.arange(1, ndiag + 1), 8).to_numpy(zero_copy_only=False)])
    price = np.where(diag, inst.diagnosis_price[at], inst.price[at] + OVERCHARGE)
    over, pre, inscp = split(price, np.where(diag, DIAGNOSIS_LIMIT, DETECTION_LIMIT))
    when = np.datetime64(FIRST_DAY, "s") + (day[preg] + np.where(diag, 10, 0)).astype("timedelta64[D]")
    code = np.where(diag, DIAG[0], np.array(inst.code)[at])
    region = pick(inst.region, at)
    cols = {
        "mdtrt_id": visit, "feedetl_sn": np.full(n, "0001"), "setl_id": np.char.add("S", visit.astype(str)),
        "psn_no": numbered(chunk + TAG + "P", preg + 1, 8), "gend": np.full(n, "2"),
        "brdy": np.full(n, np.datetime64("1988-05-17")), "insutype": np.full(n, "310"), "med_type": np.full(n, "51"),
        "insuplc_admdvs": region, "mdtrtarea_admvs": region, "fixmedins_code": pick(inst.fixmedins_code, at),
        "fixmedins_name": pick(inst.names, at), "price_class": pick(inst.cls, at), "fee_ocur_time": when,
        "hilist_code": code, "hilist_name": np.where(diag, DIAG[1], "无创产前基因检测服务"),
        "list_type": np.where(diag, "201", "301"), "chrgitm_lv": np.full(n, "02"), "cnt": np.ones(n),
        "pric": price, "det_item_fee_sumamt": price, "fulamt_ownpay_amt": np.zeros(n), "overlmt_amt": over,
        "preselfpay_amt": pre, "inscp_scp_amt": inscp, "fetts": fetts[preg].astype(str),
        "main_diag_code": np.full(n, "Z34.900"), "subsidy_amt": np.full(n, np.nan),
        "serum_risk": pa.nulls(n, pa.string()), "poverty_flag": pa.nulls(n, pa.bool_()),
        "medins_list_codg": np.full(n, "NIPT"),
    }
    planted = list(zip(inst.rule[where].tolist(), visit[:npreg].tolist(), ["0001"] * npreg))
    return cols, planted
