"""One fee line with a consistent money split, for every scenario.

The national platform splits a line's total into 全自费 + 超限价 + 先行自付 + 符合政策范围金额:
the part within `limit` (per unit) is in policy, `ratio` of it is self-pay-first.
"""
from __future__ import annotations

import datetime as dt


def fee_line(*, mdtrt_id: str, sn: int, psn_no: str, region: str, institution: str, code: str, name: str,
             price: float, when: dt.datetime, cnt: float = 1.0, limit: float | None = None, ratio: float = 0.10,
             level: str = "02", med_type: str = "11", insutype: str = "310", list_type: str = "201",
             **over) -> dict:
    total = round(price * cnt, 2)
    in_limit = total if limit is None else min(total, round(limit * cnt, 2))
    pre = round(in_limit * ratio, 2)
    row = {
        "mdtrt_id": mdtrt_id, "feedetl_sn": f"{sn:04d}", "setl_id": "S" + mdtrt_id, "psn_no": psn_no,
        "gend": "2", "brdy": dt.date(1990, 5, 17), "insutype": insutype, "med_type": med_type,
        "insuplc_admdvs": region, "mdtrtarea_admvs": region,
        "fixmedins_code": f"H{region}{sum(map(ord, institution)) % 99999:05d}", "fixmedins_name": institution,
        "price_class": "三类", "fee_ocur_time": when, "hilist_code": code, "hilist_name": name,
        "list_type": list_type, "chrgitm_lv": level, "cnt": cnt, "pric": price, "det_item_fee_sumamt": total,
        "fulamt_ownpay_amt": 0.0, "overlmt_amt": round(total - in_limit, 2), "preselfpay_amt": pre,
        "inscp_scp_amt": round(in_limit - pre, 2), "fetts": None, "main_diag_code": "Z00.000",
        "medins_list_codg": code, "subsidy_amt": None, "serum_risk": None, "poverty_flag": None,
    }
    row.update(over)
    return row


class Plan:
    """Collects a scenario's rows and the (rule_id, mdtrt_id, feedetl_sn) it planted."""

    def __init__(self, tag: str):
        self.tag, self.rows, self.planted, self.n = tag, [], set(), 0

    def ids(self) -> tuple[str, str]:
        self.n += 1
        return f"{self.tag}V{self.n:07d}", f"{self.tag}P{self.n:07d}"

    def add(self, row: dict) -> dict:
        self.rows.append(row)
        return row

    def plant(self, rule: str, row: dict) -> dict:
        self.planted.add((rule, row["mdtrt_id"], row["feedetl_sn"]))
        return self.add(row)


def floor(least: int, lines: int, per: int, small: int = 20) -> int:
    """How many clean cases a scenario writes for a batch of `lines`: one per `per` lines, at least
    `least` (fewer in very small batches, one per `small` lines, so that the planted cases fit)."""
    return max(min(least, lines // small), lines // per)
