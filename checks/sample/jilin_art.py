"""Jilin assisted-reproduction scenario: complete outpatient cycles within the fund payment
standards from 2024-07-01 at an approved institution, and one planted line per JL rule."""
from __future__ import annotations

import datetime as dt

from .rows import Plan, fee_line, floor

CYCLE = [  # code, name, unit price, cnt, per-unit standard for the in-policy amount
    ("311600001", "取卵术", 2500.0, 1.0, 2500.0), ("311600002", "胚胎培养", 5350.0, 1.0, 5350.0),
    ("311600012", "单精子注射", 3000.0, 2.0, 3000.0), ("311600008", "组织、细胞活检（辅助生殖）", 1000.0, 3.0, 1000.0),
    ("311600005", "胚胎移植", 4300.0, 1.0, 4300.0), ("311600010", "精子优选处理", 900.0, 1.0, 900.0),
]


def scenario(contracts, lines: int, rng, prefix: str = ""):
    p = Plan(prefix + "JLA")

    def line(code, name, price, cnt=1.0, when=None, psn=None, diag="Q95.000", institution="吉林大学第一医院", **kw):
        v, new_psn = p.ids()
        day = when or dt.datetime(2024, 8, 1, 9) + dt.timedelta(days=int(rng.integers(0, 400)))
        kw = {"med_type": "14", **kw}
        return fee_line(mdtrt_id=v, sn=1, psn_no=psn or new_psn, region="220102", institution=institution,
                        code=code, name=name, price=price, cnt=cnt, when=day, main_diag_code=diag, **kw)

    for _ in range(floor(4, lines, 400, small=100)):
        first = None
        for code, name, price, cnt, std in CYCLE:
            row = line(code, name, price, cnt, psn=first["psn_no"] if first else None,
                       when=first["fee_ocur_time"] + dt.timedelta(days=3) if first else None, limit=std)
            first = first or row
            p.add(row)
    for _ in range(max(1, lines // 5000)):
        p.plant("JL-1", line("311600002", "胚胎培养", 5400.0))
        p.plant("JL-1-biopsy", line("311600008", "组织、细胞活检（辅助生殖）", 1150.0, cnt=2.0))
        p.plant("JL-1-icsi", line("311600012", "单精子注射", 3800.0))
        p.plant("JL-2", line("311600009", "人工授精", 600.0, med_type="21"))
        first = p.add(line("311600009", "人工授精", 600.0))
        p.plant("JL-3", line("311600009", "人工授精", 600.0, psn=first["psn_no"],
                             when=first["fee_ocur_time"] + dt.timedelta(days=60)))
        p.plant("JL-PGT", line("311600008", "组织、细胞活检（辅助生殖）", 1500.0, diag="N97.900"))
        p.plant("JL-class", line("311600010", "精子优选处理", 900.0, level="01"))
        p.plant("JL-W", line("311600010", "精子优选处理", 900.0, when=dt.datetime(2024, 6, 20, 10)))
        p.plant("JL-3", line("311600009", "人工授精", 600.0, cnt=2.0))  # one line, two times
        first = p.add(line("311600012", "单精子注射", 3000.0, limit=3000.0))
        p.plant("JL-3-embryo", line("311600012", "单精子注射", 3000.0, limit=3000.0, psn=first["psn_no"],
                                    when=first["fee_ocur_time"] + dt.timedelta(days=90)))
        p.plant("JL-INST", line("311600009", "人工授精", 600.0, institution="长春市某民营医院"))
        # maternity insurance (510): a delivery-stay line without, and one with, 先行自付
        p.add(line("120400001", "静脉输液", 30.0, ratio=0.0, insutype="510", med_type="52"))
        p.plant("JL-MAT-PRESELF", line("120400001", "静脉输液", 30.0, insutype="510", med_type="52"))
    return p.rows, p.planted
