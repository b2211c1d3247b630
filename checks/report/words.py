"""Findings in words for a billing manager: one sentence per finding, per rule kind, in the
report's language; China local times; numbers with thousands separators.

The engine keeps each finding's precise `expected` and `actual` (a condition as written in the
contract, `column=value` pairs); here they become a sentence: for an eligibility rule its title
as the condition and the values read in plain words, for a scope rule "机构 X 不在「附件1 …」所列
范围内", for a ceiling "单价 520.00 元，上限 500.00 元（附件1 序号4）". Whatever cannot be read as
expected falls back to the engine's own message, so a sentence is never wrong, at worst plain.
Only the findings a report embeds pass through here (a few thousand), never the whole table.
"""
from __future__ import annotations

import datetime as dt
import json
import re

from ..claims.fields import COLUMNS

try:
    from zoneinfo import ZoneInfo
    CHINA = ZoneInfo("Asia/Shanghai")
except Exception:  # no time-zone database: China has kept UTC+8 all year since 1991
    CHINA = dt.timezone(dt.timedelta(hours=8), "CST")

SHORT_ZH = {"fixmedins_name": "机构", "fixmedins_code": "机构编号", "hilist_code": "项目编码", "hilist_name": "项目",
            "main_diag_code": "主诊断", "insuplc_admdvs": "参保地区划", "mdtrtarea_admvs": "就医地区划",
            "det_item_fee_sumamt": "明细金额", "subsidy_amt": "补助金额", "inpolicy_amt": "政策范围内金额",
            "psn_no": "人员", "fetts": "胎次", "serum_risk": "血清学筛查风险", "price_class": "价格类别"}
EN = {"mdtrt_id": "visit", "feedetl_sn": "line", "psn_no": "person", "insutype": "insurance type",
      "med_type": "care category", "mdtrtarea_admvs": "region of care", "fixmedins_code": "institution code",
      "fixmedins_name": "institution", "fee_ocur_time": "fee time", "hilist_code": "item code",
      "hilist_name": "item", "cnt": "quantity", "pric": "unit price", "det_item_fee_sumamt": "line amount",
      "setl_id": "settlement", "insuplc_admdvs": "region of insurance", "gend": "sex", "brdy": "date of birth",
      "main_diag_code": "main diagnosis", "fetts": "pregnancy number", "inscp_scp_amt": "in-policy amount",
      "preselfpay_amt": "self-pay-first amount", "overlmt_amt": "amount above the price limit",
      "fulamt_ownpay_amt": "wholly self-paid amount", "list_type": "catalogue type", "chrgitm_lv": "item class",
      "refd_setl_flag": "refund flag", "price_class": "price class", "subsidy_amt": "subsidy",
      "serum_risk": "serum screening risk", "poverty_flag": "registered poor", "inpolicy_amt": "in-policy amount"}
CODES = {  # national code lists (shared/FIELDS.md), shown beside the code
    "med_type": {"11": ("普通门诊", "general outpatient"), "12": ("门诊挂号", "outpatient registration"),
                 "13": ("急诊", "emergency"), "14": ("门诊慢特病", "outpatient chronic/special disease"),
                 "15": ("特药", "special drugs"), "16": ("中医特色门诊", "TCM outpatient"),
                 "21": ("普通住院", "general inpatient"), "22": ("外伤住院", "injury inpatient"),
                 "23": ("转外诊治住院", "referred inpatient"), "24": ("急诊转住院", "emergency to inpatient"),
                 "26": ("单病种住院", "single-disease inpatient"), "28": ("日间手术", "day surgery"),
                 "41": ("定点药店购药", "pharmacy purchase"), "51": ("生育门诊", "maternity outpatient"),
                 "52": ("生育住院", "maternity inpatient")},
    "chrgitm_lv": {"01": ("甲类", "class A"), "02": ("乙类", "class B"), "03": ("丙类", "class C"),
                   "1": ("甲类", "class A"), "2": ("乙类", "class B"), "3": ("丙类", "class C")},
    "gend": {"1": ("男", "male"), "2": ("女", "female")},
}
MONEY = {c for c, f in COLUMNS.items() if f.family == "number" and c != "cnt"}
_PAIR = re.compile(r"(?:^|, )(" + "|".join(sorted(COLUMNS, key=len, reverse=True)) + ")=")


def label(col: str, lang: str) -> str:
    if lang == "en":
        return EN.get(col, col)
    return SHORT_ZH.get(col) or (COLUMNS[col].zh.split("（")[0] if col in COLUMNS else col)


def count(n) -> str:
    return f"{int(n or 0):,}"


def money(x) -> str:
    return f"{float(x or 0):,.2f}"


def yuan(text, lang: str) -> str:
    """'5600.00' -> '5,600.00 元' ('yuan' in English); text that is not a number is kept."""
    try:
        v = money(float(text))
    except (TypeError, ValueError):
        return str(text or "")
    return f"{v} 元" if lang == "zh" else f"{v} yuan"


def local_time(iso: str | None) -> str:
    """An ISO time with zone (the run's UTC `checked_at`) as China local time: 2025-03-01 09:30."""
    if not iso:
        return ""
    try:
        t = dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def fee_time(text: str | None) -> str:
    """A finding's fee time (China local, no zone): '2025-03-01T09:30:00' -> '2025-03-01 09:30'."""
    return (text or "").replace("T", " ")[:16]


def value(col: str, v: str, lang: str) -> str:
    """A claim value as read by a rule, in words: codes named, money and times formatted."""
    if v in ("NULL", "", None):
        return "（空）" if lang == "zh" else "(empty)"
    names = CODES.get(col, {}).get(v)
    if names:
        return f"{v}（{names[0]}）" if lang == "zh" else f"{v} ({names[1]})"
    if col in MONEY:
        return yuan(v, lang)
    if col == "fee_ocur_time":
        return fee_time(v)
    return v


def pairs(actual: str | None) -> list[tuple[str, str]]:
    """'brdy=1989-03-01, serum_risk=1:2000' -> [(brdy, 1989-03-01), (serum_risk, 1:2000)]; keys
    are claim columns, so a value holding ', ' stays whole."""
    text = actual or ""
    keys = list(_PAIR.finditer(text))
    if not keys or keys[0].start() != 0:
        return []
    return [(m.group(1), text[m.end():keys[k + 1].start() if k + 1 < len(keys) else len(text)])
            for k, m in enumerate(keys)]


def _read(actual, lang, sep) -> str:
    return sep.join(f"{label(c, lang)} {value(c, v, lang)}" for c, v in pairs(actual))


def _age(expected: str, actual: str, lang: str) -> str:
    got = dict(pairs(actual))
    if "age_years" not in (expected or "") or not got.get("brdy") or not got.get("fee_ocur_time"):
        return ""
    try:
        b, t = dt.date.fromisoformat(got["brdy"][:10]), dt.date.fromisoformat(got["fee_ocur_time"][:10])
    except ValueError:
        return ""
    age = t.year - b.year - ((t.month, t.day) < (b.month, b.day))
    return f"（费用发生时 {age} 周岁）" if lang == "zh" else f" (aged {age} when billed)"


def _cite(citation, lang) -> str:
    if not citation:
        return ""
    return f"（{citation}）" if lang == "zh" else f" ({citation})"


def sentence(f: dict, title: str | None, lang: str = "zh") -> str:
    """One finding in words. `f` holds kind, expected, actual, message, citation, related."""
    make = _SENTENCES.get(f.get("kind"))
    try:
        text = make(f, title or "", lang) if make else None
    except (ValueError, TypeError, KeyError, IndexError):
        text = None
    return text + _cite(f.get("citation"), lang) if text else _message(f, title, lang)


def _message(f, title, lang):
    """The engine's message when no sentence fits: the rule's title as what is broken, the values
    read in words (never the condition as a contract writes it)."""
    read = _read(f.get("actual"), lang, "，" if lang == "zh" else ", ") if f.get("actual") else ""
    if title:
        if lang == "zh":
            return f"不符合「{title}」" + (f"：{read}" if read else "") + _cite(f.get("citation"), lang)
        return f"does not meet “{title}”" + (f": {read}" if read else "") + _cite(f.get("citation"), lang)
    return f.get("message") or ""


def _addon(f, title, lang):
    if lang == "zh":
        return f"加收项目 {f['actual']} 须随主项目收取，同一次就诊未收取主项目：{f['expected']}"
    return f"add-on item {f['actual']} is billed without its base item in the same visit: {f['expected']}"


def _ceiling(f, title, lang):
    msg, e, a = f.get("message") or "", f["expected"], f["actual"]
    what = {"合计": ("合计", "group total"), "金额": ("金额", "line amount")}.get(msg[:2], ("单价", "unit price"))
    if lang == "zh":
        return f"{what[0]} {yuan(a, lang)}，上限 {yuan(e, lang)}"
    return f"{what[1]} {yuan(a, lang)}, ceiling {yuan(e, lang)}"


def _payment_limit(f, title, lang):
    msg = f.get("message") or ""
    expr = msg.split(" = ")[0] if " = " in msg else "inpolicy_amt"  # the contract's `amount:` expression
    what = re.sub(r"[a-z_]+", lambda m: label(m.group(), lang) if m.group() in COLUMNS else m.group(), expr)
    if lang == "zh":
        return f"{what} {yuan(f['actual'], lang)}，支付标准 {yuan(f['expected'], lang)}"
    return f"{what} {yuan(f['actual'], lang)}, payment standard {yuan(f['expected'], lang)}"


def _selfpay(f, title, lang):
    msg = f.get("message") or ""
    ratio = re.search(r"（(\d+(?:\.\d+)?%)）", msg)
    ratio = ratio.group(1) if ratio else ""
    at_most = "不高于" in msg
    if lang == "zh":
        return (f"先行自付 {yuan(f['actual'], lang)}，按 {ratio} 应{'不高于' if at_most else '为'} "
                f"{yuan(f['expected'], lang)}")
    return (f"self-pay-first {yuan(f['actual'], lang)}; at {ratio} it should be "
            f"{'at most ' if at_most else ''}{yuan(f['expected'], lang)}")


def _care_setting(f, title, lang):
    got = value("med_type", f["actual"], lang)
    allowed = "、".join(value("med_type", c, lang) for c in f["expected"].split(", "))
    if lang == "zh":
        return f"医疗类别 {got}不允许；允许：{allowed}"
    return f"care category {got} is not allowed; allowed: {allowed.replace('、', ', ')}"


def _exclusion(f, title, lang):
    if lang == "zh":
        return f"同一次就诊已收取 {f['expected']}，不得同时收取 {f['actual']}"
    return f"the same visit bills {f['expected']}; {f['actual']} may not be charged with it"


def _keys(spec: str, lang: str) -> str:
    cols = [c.strip() for c in spec.split(",")]
    return ("、" if lang == "zh" else " and ").join(label(c, lang) for c in cols)


def _frequency(f, title, lang):
    e = f["expected"]
    m = re.fullmatch(r"(\d+) 次（每 (.+)）", e)
    fb = re.fullmatch(r"(\d+) 次（(.+) 为空时：同一 (.+) (\d+) 天内）", e)
    first = json.loads(f["related"]) if f.get("related") else {}
    where = ""
    if first:
        when = fee_time(first.get("fee_ocur_time"))
        inst = first.get("fixmedins_name") or first.get("fixmedins_code") or ""
        where = (f"；首次：就诊 {first.get('mdtrt_id')}/{first.get('feedetl_sn')}，{when}，{inst}" if lang == "zh" else
                 f"; first: visit {first.get('mdtrt_id')}/{first.get('feedetl_sn')}, {when}, {inst}")
    n = f["actual"]
    if m:
        limit, per = m.group(1), _keys(m.group(2), lang)
        head = (f"第 {n} 次；同一{per}限 {limit} 次" if lang == "zh" else
                f"payment number {n}; at most {limit} per {per}")
    elif fb:
        limit, per, days = fb.group(1), _keys(fb.group(3), lang), fb.group(4)
        empty = _keys(fb.group(2).replace("/", ","), lang)
        head = (f"第 {n} 次；{empty}为空，按同一{per} {days} 天内限 {limit} 次" if lang == "zh" else
                f"payment number {n}; {empty} empty, so at most {limit} per {per} within {days} days")
    else:
        return None
    return head + where


def _window(f, title, lang):
    start, _, end = f["expected"].partition(" … ")
    end = "" if end == "(open)" else end
    if lang == "zh":
        span = f"{start} 至 {end}" if end else f"{start} 起"
        return f"费用发生于 {f['actual']}，不在执行期（{span}）内"
    span = f"{start} to {end}" if end else f"from {start}"
    return f"billed on {f['actual']}, outside the period in force ({span})"


def _eligibility(f, title, lang):
    read = _read(f["actual"], lang, "，" if lang == "zh" else ", ")
    age = _age(f["expected"], f["actual"], lang)
    if lang == "zh":
        return f"不符合「{title}」：{read}{age}" if read else f"不符合「{title}」"
    return f"does not meet “{title}”: {read}{age}" if read else f"does not meet “{title}”"


def _scope(f, title, lang):
    got = pairs(f["actual"])
    if not got:
        return None
    e = f["expected"]
    listed = re.fullmatch(r"(\w+) ∈ \{(.*)\}", e)
    if listed and len(got) > 1:  # listed_only: the institution is listed, for other codes
        col = listed.group(1)
        others = [p for p in got if p[0] != col]
        mine = dict(got).get(col, "")
        if lang == "zh":
            return (f"{_read_pairs(others, lang)} 所列{label(col, lang)}为 {listed.group(2)}，"
                    f"实际 {value(col, mine, lang)}")
        return (f"{_read_pairs(others, lang)} is listed for {label(col, lang)} {listed.group(2)}, "
                f"billed {value(col, mine, lang)}")
    what = _read_pairs(got, lang)
    if lang == "zh":
        return f"{what}{' 的组合' if len(got) > 1 else ' '}不在「{e}」所列范围内"
    return f"{what} {'together are' if len(got) > 1 else 'is'} not listed in “{e}”"


def _read_pairs(ps, lang):
    return (" 与 " if lang == "zh" else " and ").join(f"{label(c, lang)} {value(c, v, lang)}" for c, v in ps)


def _money_identity(f, title, lang):
    parts = dict(re.findall(r"([TFOPI]) (-?[\d.]+)", f["actual"]))
    t, fo, o, p, i = (float(parts[k]) for k in "TFOPI")
    if lang == "zh":
        return (f"费用构成不平衡：明细总额 {money(t)}；全自费 {money(fo)} + 超限价 {money(o)} + 先行自付 {money(p)} + "
                f"符合政策范围 {money(i)} = {money(fo + o + p + i)}，不含先行自付为 {money(fo + o + i)}，均不等于总额")
    return (f"money parts do not add up: total {money(t)}; wholly self-paid {money(fo)} + above limit {money(o)} + "
            f"self-pay-first {money(p)} + in-policy {money(i)} = {money(fo + o + p + i)}, or {money(fo + o + i)} "
            f"without self-pay-first; neither equals the total")


_SENTENCES = {"ceiling": _ceiling, "payment_limit": _payment_limit, "selfpay": _selfpay,
              "care_setting": _care_setting, "exclusion": _exclusion, "frequency": _frequency,
              "window": _window, "eligibility": _eligibility, "scope": _scope, "money_identity": _money_identity,
              "addon": _addon}

