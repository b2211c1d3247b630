"""Jiangxi regional-medical-centre scenario: trial items at their own hospitals and prices from
2025-09-30 (add-ons billed with their base in one visit), and one planted line per JX rule."""
from __future__ import annotations

import datetime as dt

from .rows import Plan, fee_line, floor

REGION = {"广东省人民医院赣州医院": "360702", "南方医院赣州医院": "360703", "中日友好医院江西医院": "360102",
          "浙江大学医学院附属第一医院江西医院": "360111", "中南大学湘雅医院江西医院": "360104"}
# add-on -> the base billed before it in the same visit (a local debridement item has no trial code)
BASE = {"QYLS00159": "QYLS00158", "QYLS00164": "QYLS00153", "QYFK00067": None}
KETONE = {"hilist_code": "250102012", "item": "血酮体测定-酮体粉法", "price": 9.2, "hospital": "广东省人民医院赣州医院",
          "scope": "", "unit": "项"}
DEBRIDEMENT = {"hilist_code": "X36-QC-0001", "item": "超声清创术", "price": 200.0, "hospital": "赣南医学院第一附属医院",
               "scope": "", "unit": "次"}


def scenario(contracts, lines: int, rng, prefix: str = ""):
    rows = contracts["jiangxi-rmc@1.0.0"].tables["attachment2"].data.to_pylist()
    p = Plan(prefix + "JXR")

    def line(r, price=None, hospital=None, when=None, cnt=1.0, visit=None, sn=1, psn=None):
        v, new_psn = p.ids()
        hospital = hospital or r["hospital"]
        day = when or dt.datetime(2025, 10, 1, 9) + dt.timedelta(days=int(rng.integers(0, 200)))
        return fee_line(mdtrt_id=visit or v, sn=sn, psn_no=psn or new_psn, region=REGION.get(hospital, "360702"),
                        institution=hospital, code=r["hilist_code"], name=r["item"],
                        price=r["price"] if price is None else price, when=day, cnt=cnt, level="03", ratio=0.0,
                        med_type="21")

    by = {r["hilist_code"]: r for r in rows}

    def with_base(r, hospital=None, cnt=1.0):
        """An add-on line after its base line, in one visit."""
        base = by[BASE[r["hilist_code"]]] if BASE[r["hilist_code"]] else DEBRIDEMENT
        first = p.add(line(base, hospital=hospital or r["hospital"]))
        return p.add(line(r, hospital=hospital, cnt=cnt, visit=first["mdtrt_id"], sn=2, psn=first["psn_no"],
                          when=first["fee_ocur_time"] + dt.timedelta(hours=1)))

    priced = [r for r in rows if r["price"] is not None]
    for k in range(floor(30, lines, 100)):
        r = priced[k % len(priced)]
        hospital = "赣州市人民医院" if r["scope"].startswith("放宽") else None  # = 南方医院赣州医院 (bracketed name)
        cnt = float(12 if r["hilist_code"] == "QYFK00067" else 1)
        if r["hilist_code"] in BASE:
            with_base(r, hospital=hospital, cnt=cnt)
        else:
            p.add(line(r, hospital=hospital, cnt=cnt))
    p.add(line(next(r for r in rows if r["price"] is None), price=1850.0))  # QYLS00150: no listed price
    for _ in range(max(1, lines // 5000)):
        p.plant("JX-1", line(by["QYLS00152"], hospital="南方医院赣州医院"))  # the other hospital's code
        p.plant("JX-3", line(by["QYLS00147"], price=5600.0))
        p.plant("JX-W", line(by["QYLS00144"], when=dt.datetime(2025, 9, 20, 10)))
        p.plant("JX-3-addon", line(by["QYLS00159"]))  # the per-vertebra add-on without its base
        p.plant("JX-3-base-units", line(by["QYLS00158"], cnt=2.0))  # the base billed for two vertebrae
        p.plant("JX-3-addon-fluorescence", line(by["QYLS00164"]))
        p.plant("JX-3-addon-debridement", line(by["QYFK00067"], hospital="赣南医学院第一附属医院", cnt=15.0))
        # blood ketone under 250102012 (附表1 序号78: 9.2 yuan per item), at and above the price
        p.add(line(KETONE, price=9.2))
        p.plant("JX-5-ketone", line(KETONE, price=12.0))
    return p.rows, p.planted
