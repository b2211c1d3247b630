"""Jiangsu NIPT scenario: clean pregnancies (detection, then diagnosis at the prenatal diagnosis
institution) and one planted violation pattern per rule, each recorded as (rule_id, mdtrt_id,
feedetl_sn)."""
from __future__ import annotations

import datetime as dt
import zlib

from .rows import fee_line, floor

DETECTION_LIMIT, DIAGNOSIS_LIMIT, RATIO = 370.0, 60.0, 0.10
UNLISTED = ("南京和睦妇产医院", "320105")  # not in 附件1
CONSULTATION = ("110200001", "门诊诊查费")
DIAG = ("250700010-b", "胎儿染色体非整倍体无创产前基因诊断服务")
PARTNER = "合作产前筛查机构"
SAMPLING = ("C0000000000000000099", "游离DNA保存管")  # billed beside the detection: included in its price
DRAW = ("120400002a", "静脉采血")
OTHER_LAB = ("250101015", "血细胞分析")


def _class(name: str, role: str) -> str:
    if role == "中选产前诊断机构":
        return "三类"
    return ["二类", "一类", "基层", "二类"][zlib.crc32(name.encode()) % 4]


# which institutions a pattern may use: (name, its entry in Builder.inst) -> bool
def selected(n, i):
    return i["role"] == "中选产前诊断机构"


def partner(n, i):
    return i["role"] != "中选产前诊断机构"


def nantong(n, i):
    return i["city"] == "3206"


def diagnostic(n, i):  # qualified for prenatal diagnosis: may bill the diagnosis service
    return i["role"] != PARTNER


def screening(n, i):
    return not diagnostic(n, i)


def nantong_low(n, i):  # a Nantong diagnosis institution of class 一类/基层: the 54-yuan diagnosis price
    return i["city"] == "3206" and _class(n, i["role"]) in ("一类", "基层") and diagnostic(n, i)


def outside_nantong(n, i):
    return i["city"] != "3206"


def diagnostic_outside_nantong(n, i):
    return outside_nantong(n, i) and diagnostic(n, i)


def pricey(n, i):
    return min(i["codes"].values()) >= 480


def not_every_code(n, i):  # an institution with reagent codes that are not its own
    return bool(i["missing"])


class Builder:
    def __init__(self, table, rng, tag: str = "JSN"):
        self.rng = rng
        rows = table.data.to_pylist()
        self.inst = {}
        for r in rows:
            i = self.inst.setdefault(r["institution"], {"codes": {}, "role": r["role"], "city": r["city_admvs"],
                                                        "diag_at": r["price_basis"].removeprefix("合作产前诊断机构 ")
                                                        if r["role"] == PARTNER else r["institution"]})
            # an institution in two rows (吴中, 江滨) may charge the higher of their prices, as the rules read them
            i["codes"][r["hilist_code"]] = max(r["price"], i["codes"].get(r["hilist_code"], 0.0))
        self.names = sorted(self.inst)
        self.all_codes = sorted({r["hilist_code"] for r in rows})
        for i in self.inst.values():
            i["missing"] = [c for c in self.all_codes if c not in i["codes"]]
        self.rows, self.planted, self.n = [], set(), 0
        self.tag = tag
        self.pools = {}

    def vid(self, letter: str) -> str:
        return f"{self.tag}{letter}{self.n:08d}"

    def pick(self, cond=None):
        if cond not in self.pools:
            self.pools[cond] = [n for n in self.names if cond is None or cond(n, self.inst[n])]
        names = self.pools[cond]
        return names[int(self.rng.integers(0, len(names)))]

    def pregnancy(self, name=None, fetts="1"):
        self.n += 1
        name = name or self.pick()
        i = self.inst.get(name)
        region = (i["city"] + "02") if i else UNLISTED[1]
        return {"psn": f"{self.tag}PN{self.n:08d}", "fetts": fetts, "name": name, "region": region,
                "class": _class(name, i["role"]) if i else "二类",
                "code": sorted(i["codes"])[0] if i else self.all_codes[0],
                "price": i["codes"][sorted(i["codes"])[0]] if i else 500.0,
                "day": dt.datetime(2025, 1, 2, 9) + dt.timedelta(days=int(self.rng.integers(0, 330)))}

    def line(self, p, visit, sn, code, name, price, when, cnt=1.0, limit=None, ratio=RATIO, **over):
        row = fee_line(
            mdtrt_id=visit, sn=sn, psn_no=p["psn"], region=p["region"], institution=p["name"], code=code, name=name,
            price=price, when=when, cnt=cnt, limit=limit, ratio=ratio, med_type="51",
            list_type="301" if code.startswith("CJ") else "201", brdy=dt.date(1988, 5, 17),
            fixmedins_code=f"H{p['region']}{zlib.crc32(p['name'].encode()) % 99999:05d}", price_class=p["class"],
            fetts=p["fetts"], main_diag_code="Z34.900", medins_list_codg="NIPT")
        row.update(over)
        self.rows.append(row)
        return row

    def detection(self, p, visit, sn=1, when=None, **over):
        return self.line(p, visit, sn, over.pop("code", p["code"]), "无创产前基因检测服务", over.pop("price", p["price"]),
                         when or p["day"], limit=DETECTION_LIMIT, **over)

    def diagnosis(self, p, visit, sn=1, when=None, at_own=False, **over):
        """The diagnosis service, at the pregnancy's prenatal diagnosis institution (its own, or its
        partner's when it is a screening institution; `at_own`: at its own institution anyway)."""
        at = self.inst[p["name"]]["diag_at"] if p["name"] in self.inst and not at_own else p["name"]
        if at != p["name"]:
            d = self.inst[at]
            p = {**p, "name": at, "region": d["city"] + "02", "class": _class(at, d["role"])}
        std = 54.0 if p["region"].startswith("3206") and p["class"] in ("一类", "基层") else 60.0
        return self.line(p, visit, sn, DIAG[0], DIAG[1], over.pop("price", std), when or p["day"] + dt.timedelta(days=10),
                         limit=DIAGNOSIS_LIMIT, **over)

    def plant(self, rule, row):
        self.planted.add((rule, row["mdtrt_id"], row["feedetl_sn"]))


def scenario(contracts, lines: int, rng, prefix: str = ""):
    b = Builder(contracts["jiangsu-nipt@1.0.0"].tables["attachment1"], rng, prefix + "JSN")
    clean = floor(40, lines, 60)
    for k in range(clean):  # clean pregnancies: detection visit, then diagnosis visit (a fifth in one visit)
        p = b.pregnancy(b.pick(diagnostic) if k % 5 == 0 else None, fetts=str(1 + k % 2))
        if k % 5 == 0:
            b.detection(p, b.vid("NA"))
            b.diagnosis(p, b.vid("NA"), 2, when=p["day"] + dt.timedelta(hours=2))
        else:
            b.detection(p, b.vid("NA"))
            b.diagnosis(p, b.vid("NB"))
    # clean edge cases: full-width brackets in the name, Nantong class-1 at 54 with exactly 10%
    p = b.pregnancy("江苏省人民医院(江苏省妇幼保健院)")
    b.detection(p, b.vid("NA"), fixmedins_name="江苏省人民医院（江苏省妇幼保健院）")
    p = b.pregnancy(b.pick(nantong_low))
    b.diagnosis(p, b.vid("NB"))
    # the name without its bracketed second name; a blood draw in a visit with another blood test
    p = b.pregnancy("江苏省人民医院(江苏省妇幼保健院)")
    v = b.vid("NA")
    b.detection(p, v, fixmedins_name="江苏省人民医院")
    b.line(p, v, 2, *DRAW, 4.0, p["day"], ratio=0.0, chrgitm_lv="01")
    b.line(p, v, 3, *OTHER_LAB, 20.0, p["day"], ratio=0.0, chrgitm_lv="01")
    # a cfDNA tube in a visit without a detection; Nantong care with no insured place, exactly 10%
    p = b.pregnancy()
    b.line(p, b.vid("NC"), 1, *SAMPLING, 35.0, p["day"], ratio=0.0, chrgitm_lv="03", list_type="301",
           inscp_scp_amt=0.0, fulamt_ownpay_amt=35.0)
    p = b.pregnancy(b.pick(nantong))
    b.detection(p, b.vid("NA"), insuplc_admdvs=None)
    # outside Jiangsu the Jiangsu prices do not apply; before 2025 the version is not in force
    p = b.pregnancy()
    b.detection(p, b.vid("NZ"), price=800.0, mdtrtarea_admvs="330106", fixmedins_name="杭州市妇产科医院")
    p = b.pregnancy()
    b.detection(p, b.vid("NY"), when=dt.datetime(2024, 11, 5, 10), price=900.0)

    per_rule = max(1, lines // 5000)
    for _ in range(per_rule):
        plant_all(b)
    return b.rows, b.planted


def plant_all(b: Builder):
    p = b.pregnancy(b.pick(not_every_code))
    wrong = b.inst[p["name"]]["missing"][0]
    b.plant("JS-1-code", b.detection(p, b.vid("V"), code=wrong))

    p = b.pregnancy(b.pick(selected))
    b.plant("JS-1-price", b.detection(p, b.vid("V"), price=p["price"] + 20))

    p = b.pregnancy(b.pick(partner))
    b.plant("JS-2-price", b.detection(p, b.vid("V"), price=p["price"] + 30))

    p = b.pregnancy(b.pick(diagnostic_outside_nantong))  # charged twice in one visit, self-paid: only the 560 cap
    v = b.vid("V")
    b.detection(p, v, cnt=2.0, preselfpay_amt=0.0, inscp_scp_amt=0.0, overlmt_amt=0.0,
                fulamt_ownpay_amt=2 * p["price"])
    b.plant("JS-3", b.diagnosis(p, v, 2, when=p["day"] + dt.timedelta(hours=3)))

    p = b.pregnancy(b.pick(outside_nantong))
    b.plant("JS-4", b.diagnosis(p, b.vid("V"), price=65.0))

    p = b.pregnancy(b.pick(nantong_low))
    b.plant("JS-4-NT", b.diagnosis(p, b.vid("V"), price=60.0))
    p = b.pregnancy(b.pick(nantong_low))  # above 60 too: reported once, under the Nantong rule
    b.plant("JS-4-NT", b.diagnosis(p, b.vid("V"), price=66.0))

    p = b.pregnancy(b.pick(diagnostic))
    v = b.vid("V")
    b.diagnosis(p, v)
    b.plant("JS-5", b.line(p, v, 2, *CONSULTATION, 15.0, p["day"] + dt.timedelta(days=10), ratio=0.0,
                           chrgitm_lv="01", main_diag_code="Z36.000"))

    p = b.pregnancy(b.pick(pricey))
    b.plant("JS-6-limit", b.detection(p, b.vid("V"), preselfpay_amt=40.0, inscp_scp_amt=360.0,
                                      overlmt_amt=p["price"] - 400.0))

    p = b.pregnancy(b.pick(outside_nantong))
    b.plant("JS-6-selfpay", b.detection(p, b.vid("V"), preselfpay_amt=55.5, inscp_scp_amt=314.5))

    p = b.pregnancy(b.pick(nantong))
    b.plant("JS-6-NT", b.detection(p, b.vid("V"), preselfpay_amt=18.5, inscp_scp_amt=351.5))

    p = b.pregnancy(b.pick(nantong))  # insured place not recorded: presumed Nantong, suspect
    b.plant("JS-6-NT-presumed", b.detection(p, b.vid("V"), preselfpay_amt=18.5, inscp_scp_amt=351.5,
                                            insuplc_admdvs=None))

    p = b.pregnancy()
    b.plant("JS-6-class", b.detection(p, b.vid("V"), chrgitm_lv="03"))

    p = b.pregnancy()
    b.plant("JS-6-setting", b.detection(p, b.vid("V"), med_type="21"))

    p = b.pregnancy()
    b.detection(p, b.vid("V"))
    b.plant("JS-7-detection", b.detection(p, b.vid("W"), when=p["day"] + dt.timedelta(days=30)))

    p = b.pregnancy(fetts=None)  # no fetts: the same person twice within 210 days, suspect
    b.detection(p, b.vid("V"))
    b.plant("JS-7-detection", b.detection(p, b.vid("W"), when=p["day"] + dt.timedelta(days=45)))

    p = b.pregnancy()
    b.diagnosis(p, b.vid("V"))
    b.plant("JS-7-diagnosis", b.diagnosis(p, b.vid("W"), when=p["day"] + dt.timedelta(days=40)))

    p = b.pregnancy(b.pick(screening))  # a screening partner bills the diagnosis
    b.plant("JS-DIAG-INST", b.diagnosis(p, b.vid("V"), at_own=True))

    p = b.pregnancy()  # a cfDNA tube, self-paid, beside the detection whose price includes it
    v = b.vid("V")
    b.detection(p, v)
    b.plant("JS-SAMPLE", b.line(p, v, 2, *SAMPLING, 35.0, p["day"], ratio=0.0, chrgitm_lv="03", list_type="301",
                                inscp_scp_amt=0.0, fulamt_ownpay_amt=35.0))

    p = b.pregnancy()  # a blood draw beside the detection, no other blood test in the visit
    v = b.vid("V")
    b.detection(p, v)
    b.plant("JS-SAMPLE-draw", b.line(p, v, 2, *DRAW, 4.0, p["day"], ratio=0.0, chrgitm_lv="01"))

    p = b.pregnancy(UNLISTED[0])
    b.plant("JS-8", b.detection(p, b.vid("V")))

    p = b.pregnancy()
    b.plant("JS-W", b.diagnosis(p, b.vid("V"), when=dt.datetime(2024, 12, 20, 10)))

    p = b.pregnancy(UNLISTED[0])  # an unlisted hospital, wholly self-paid, above every price of 附件1
    b.plant("JS-PRICE-ANY", b.detection(p, b.vid("V"), price=520.0, inscp_scp_amt=0.0, preselfpay_amt=0.0,
                                        overlmt_amt=0.0, fulamt_ownpay_amt=520.0))
