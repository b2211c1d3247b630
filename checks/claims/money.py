"""One definition of a line's money: the fund-eligible base, whatever the extract's convention.

The national platform splits a line's total (明细项目费用总额 T) into 全自费 F + 超限价 O + the
in-policy part. Extracts follow two conventions for that part: in some, 符合政策范围金额 I excludes
先行自付 P (T = F + O + P + I); in others it already contains it (T = F + O + I). The in-policy
amount including self-pay-first, `inpolicy_amt`, is T − F − O under both, and every payment-standard
and self-pay rule reads it.

Per line: with T, F and O present, inpolicy_amt = T − F − O, and the line's convention is the one
its parts add up under (both, when P is 0). When they add up under neither, the line gets a
data-quality finding (DQ-MONEY) and no money rule judges it. Without F or O, the file's convention
(the one its other lines follow) decides between I + P and I; when P is 0 the two agree.
"""
from __future__ import annotations

TOLERANCE = 0.02  # four parts rounded to the fen each may differ from the rounded total by this much
PARTS = ("det_item_fee_sumamt", "fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt")
EXCL, INCL, EITHER, NEITHER = "excl", "incl", "either", "neither"
WORDS = {EXCL: "符合政策范围金额不含先行自付 (T = F + O + P + I)",
         INCL: "符合政策范围金额已含先行自付 (T = F + O + I)",
         "mixed": "两种口径混用", "unknown": "无法判断（缺全自费/超限价/先行自付，或先行自付均为 0）"}


def convention(v) -> str:
    """SQL: the convention a line's parts add up under ('excl', 'incl', 'either', 'neither'; NULL if a part is empty)."""
    t, f, o, p, i = (v(n) for n in PARTS)
    excl = f"abs({f} + {o} + {p} + {i} - {t}) <= {TOLERANCE}"
    incl = f"abs({f} + {o} + {i} - {t}) <= {TOLERANCE}"
    present = " AND ".join(f"{x} IS NOT NULL" for x in (t, f, o, p, i))
    return (f"(CASE WHEN NOT ({present}) THEN NULL WHEN {excl} AND {incl} THEN '{EITHER}' "
            f"WHEN {excl} THEN '{EXCL}' WHEN {incl} THEN '{INCL}' ELSE '{NEITHER}' END)")


def inpolicy(v, line_convention: str, file_convention: str) -> str:
    """SQL: inpolicy_amt from the parts, the line's convention and its file's (NULL when unknown)."""
    t, f, o, p, i = (v(n) for n in PARTS)
    return (f"(CASE WHEN {t} IS NOT NULL AND {f} IS NOT NULL AND {o} IS NOT NULL THEN "
            f"CASE WHEN coalesce({line_convention} = '{NEITHER}', FALSE) THEN NULL ELSE round({t} - {f} - {o}, 2) END "
            f"WHEN {i} IS NOT NULL AND {file_convention} = '{INCL}' THEN {i} "
            f"WHEN {i} IS NOT NULL AND {p} IS NOT NULL AND abs({p}) <= {TOLERANCE} THEN {i} "
            f"WHEN {i} IS NOT NULL AND {p} IS NOT NULL AND {file_convention} = '{EXCL}' THEN round({i} + {p}, 2) "
            f"ELSE NULL END)")


def file_convention(counts: dict[str, int]) -> str:
    excl, incl = counts.get(EXCL, 0), counts.get(INCL, 0)
    if excl and incl:
        return "mixed"
    return EXCL if excl else INCL if incl else "unknown"
