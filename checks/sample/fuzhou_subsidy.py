"""Fuzhou NIPT subsidy scenarios (one per contract version): eligible subsidised tests at the
two pilot institutions (one printed with the documents' own short name), and one planted line
per FZ rule."""
from __future__ import annotations

import datetime as dt

from .rows import Plan, fee_line, floor

PILOTS = ["福州市第一医院", "福建省妇幼保健院"]


def _scenario(tag: str, start: dt.datetime, days: int, lines: int, rng):
    p = Plan(tag)

    def line(institution=None, subsidy=500.0, price=1200.0, risk="1:500", age=30, poor=False, insured="350102",
             when=None, psn=None, fetts="1", brdy=None, med_type="11"):
        v, new_psn = p.ids()
        day = when or start + dt.timedelta(days=int(rng.integers(0, days)))
        return fee_line(mdtrt_id=v, sn=1, psn_no=psn or new_psn, region="350102",
                        institution=institution or PILOTS[p.n % 2], code="FZNIPT0001",
                        name="无创产前DNA检测减免补助（福州市出生缺陷防控项目）", price=price, when=day, level="03",
                        ratio=0.0, inscp_scp_amt=0.0, fulamt_ownpay_amt=price - subsidy, insuplc_admdvs=insured,
                        brdy=brdy or dt.date(day.year - age, 3, 1), subsidy_amt=subsidy, serum_risk=risk,
                        poverty_flag=poor, fetts=fetts, med_type=med_type)

    for k in range(floor(24, lines, 150)):
        if k % 6 == 5:
            p.add(line(institution="福州市第一医院", subsidy=1000.0, price=1000.0, poor=True))
        elif k % 3 == 0:
            p.add(line(risk="1:8000", age=36))
        else:
            p.add(line(insured="359900" if k % 4 == 1 else "350102"))
    p.add(line(institution="市一医院"))  # the documents' own short name for 福州市第一医院
    day = start + dt.timedelta(days=90)  # 35 the day after the test, but a high serum risk: eligible anyway
    p.add(line(when=day, brdy=dt.date(day.year - 35, day.month, day.day) + dt.timedelta(days=1)))
    for _ in range(max(1, lines // 5000)):
        p.plant("FZ-1-insured", line(insured="350203"))
        p.plant("FZ-1-risk", line(risk="1:2000", age=30))
        day = start + dt.timedelta(days=60)  # 35 the day after the test, low risk: suspect
        p.plant("FZ-1-age", line(risk="1:5000", when=day, brdy=dt.date(day.year - 35, day.month, day.day)
                                 + dt.timedelta(days=1)))
        p.plant("FZ-2", line(subsidy=600.0))
        p.plant("FZ-2-poor", line(institution="福建省妇幼保健院", subsidy=1100.0, price=1300.0, poor=True))
        p.plant("FZ-3", line(institution="福建医科大学附属协和医院"))
        p.plant("FZ-4", line(institution="福州市第一医院", subsidy=1000.0, price=1200.0, poor=True))
        first = line()
        p.add(first)
        p.plant("FZ-7", line(psn=first["psn_no"], when=first["fee_ocur_time"] + dt.timedelta(days=20)))
        p.plant("FZ-W", line(when=dt.datetime(2018, 11, 20, 10)))
        p.plant("FZ-5", line(med_type="51"))  # settled as maternity outpatient, not ordinary outpatient
    return p.rows, p.planted


def scenario_2019(contracts, lines, rng, prefix=""):
    return _scenario(prefix + "FZA", dt.datetime(2019, 2, 1, 9), 1000, lines, rng)


def scenario_2022(contracts, lines, rng, prefix=""):
    return _scenario(prefix + "FZB", dt.datetime(2022, 2, 1, 9), 1000, lines, rng)
