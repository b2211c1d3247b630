"""Jiangsu consumables scenario: catalogue consumables at their listed price in Nanjing (a filed
product by the institution that filed it), one NIPT reagent line (a service, judged by the NIPT
contract only), and one planted line per CS rule."""
from __future__ import annotations

import datetime as dt

from .rows import Plan, fee_line, floor

NANJING = ("320106", "南京鼓楼医院")  # filed the sample catalogue's 备案采购 product
OTHER = ("320106", "江苏省人民医院(江苏省妇幼保健院)")
NANTONG = ("320602", "南通市第一人民医院")


def scenario(contracts, lines: int, rng, prefix: str = ""):
    cat = contracts["jiangsu-consumables@1.0.0"].tables["sunshine_catalogue"]
    rows = cat.data.to_pylist() if cat.data is not None else []
    # the clean lines: products valid at any date, listed for the province or Nanjing
    items = [i for i in rows if i["region"] in ("32", "3201") and not i.get("valid_from") and not i.get("valid_to")]
    p = Plan(prefix + "JSC")

    def line(code, name, price, at=NANJING, when=None, **kw):
        v, psn = p.ids()
        day = when or dt.datetime(2025, 2, 1, 9) + dt.timedelta(days=int(rng.integers(0, 300)))
        kw = {"institution": at[1], "list_type": "301", "med_type": "21", **kw}
        return fee_line(mdtrt_id=v, sn=1, psn_no=psn, region=at[0], code=code, name=name, price=price,
                        when=day, **kw)

    for k in range(floor(20, lines, 200)):
        it = items[k % len(items)]
        p.add(line(it["hilist_code"], it["product_name"], it["listed_price"], cnt=float(1 + k % 3)))
    p.add(line("C9999000000000000001", "目录外耗材（全自费）", 35.0, ratio=0.0, inscp_scp_amt=0.0,
               fulamt_ownpay_amt=35.0))
    # NIPT detection under its reagent code: a service, priced by the NIPT contract, not a consumable
    p.add(line("CJ30303033340301303001", "无创产前基因检测服务", 480.0, limit=370.0, med_type="51",
               institution="江苏省人民医院（江苏省妇幼保健院）", fetts="1"))
    for _ in range(max(1, lines // 5000)):
        p.plant("CS-1", line("C9999000000000000002", "目录外冠脉球囊", 980.0))
        it = items[2]
        p.plant("CS-2", line(it["hilist_code"], it["product_name"], it["listed_price"] + 10))
        city = next(i for i in items if i["region"] != "32")  # listed for one city only, used in another
        p.plant("CS-1", line(city["hilist_code"], city["product_name"], city["listed_price"], at=NANTONG))
        filed = next(i for i in items if i["filing_fixmedins_code"])  # a filed product, used by another hospital
        p.plant("CS-1-filed", line(filed["hilist_code"], filed["product_name"], filed["listed_price"], at=OTHER))
        gone = next(i for i in rows if i.get("valid_to"))  # withdrawn: used before, and after, its last day
        p.add(line(gone["hilist_code"], gone["product_name"], gone["listed_price"],
                   when=dt.datetime.combine(gone["valid_to"], dt.time(10))))
        p.plant("CS-W", line(gone["hilist_code"], gone["product_name"], gone["listed_price"],
                             when=dt.datetime.combine(gone["valid_to"], dt.time(10)) + dt.timedelta(days=40)))
        # listed for Nanjing only, self-paid in Nantong above every price of its rows
        p.plant("CS-2-ANY", line(city["hilist_code"], city["product_name"], city["listed_price"] + 50, at=NANTONG,
                                 ratio=0.0, inscp_scp_amt=0.0, fulamt_ownpay_amt=city["listed_price"] + 50))
    return p.rows, p.planted
