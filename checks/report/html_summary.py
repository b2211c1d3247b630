"""What a manager reads first in the HTML report: a one-sentence conclusion and the next step,
money split into violation / suspect / waived, and subtotals by rule, institution and month.

Everything here is computed from the whole findings table (waived findings included, counted
apart), never from the rows the report embeds. Each subtotal row carries `data-f` (rule, inst,
month) and `data-v`: clicking it filters the findings table (report.html).

By department or doctor: the national fee-line fields (checks/claims/fields.py) carry neither,
so no batch has them and there is no such subtotal.
"""
from __future__ import annotations

from html import escape

import pyarrow as pa
import pyarrow.compute as pc

from .safe import xml
from .words import count, money

BUCKETS = ("violation", "suspect", "waived")
TOP = 30

TEXT = {
    "zh": {
        "conclusion": "本批次 {lines} 行费用中，{visits} 次就诊的 {findings} 条发现涉及 {amount} 元"
                      "（明确违规 {violation} 元，可疑 {suspect} 元）；{top} 合计 {top_money} 元，占 {share}。",
        "top_one": "「{title}」{money} 元",
        "none": "本批次 {lines} 行费用未发现问题{waived}。",
        "none_waived": "（{n} 条发现已豁免，{money} 元）",
        "next_fix": "下一步：先核对「{title}」的 {n} 条发现，更正后重新提交；可疑的发现请补充病历或说明材料后再判断。",
        "next_suspect": "下一步：逐条核对可疑发现，补充病历或说明材料；确认违规的更正后重新提交。",
        "next_clean": "下一步：可以提交本批次。",
        "next_incomplete": "另有 {n} 条规则未能判断全部费用行（见下方说明），请补齐所缺数据或参考表后重新检查。",
        "sep": "、", "all": "全部",
        "h_subtotals": "小计（全部发现；点击一行筛选下方明细）", "by_rule": "按规则", "by_inst": "按医疗机构（金额前 {top} 家，共 {n} 家）",
        "by_month": "按月份", "what": "项目", "n": "发现", "violation": "明确违规（元）", "suspect": "可疑（元）",
        "waived": "已豁免（元）", "card_violation": "明确违规金额（元）", "card_suspect": "可疑金额（元）",
        "card_waived": "已豁免金额（元）",
    },
    "en": {
        "conclusion": "Of the batch's {lines} fee lines, {findings} findings in {visits} visits put {amount} yuan at stake "
                      "({violation} yuan violations, {suspect} yuan suspect); {top} account for {top_money} yuan, "
                      "{share} of it.",
        "top_one": "“{title}” ({money} yuan)",
        "none": "No finding in the batch's {lines} fee lines{waived}.",
        "none_waived": " ({n} findings waived, {money} yuan)",
        "next_fix": "Next: check the {n} findings of “{title}” first, correct them and resubmit; for suspect findings, "
                    "add the medical record or an explanation before deciding.",
        "next_suspect": "Next: check each suspect finding and add the medical record or an explanation; correct and "
                        "resubmit those confirmed.",
        "next_clean": "Next: the batch can be submitted.",
        "next_incomplete": "{n} rules could not judge every line (see below): supply the missing data or reference "
                           "table and check again.",
        "sep": ", ", "all": "all",
        "h_subtotals": "subtotals (every finding; click a row to filter the findings below)", "by_rule": "by rule",
        "by_inst": "by institution (top {top} by money of {n})", "by_month": "by month", "what": "",
        "n": "findings", "violation": "violation (yuan)", "suspect": "suspect (yuan)", "waived": "waived (yuan)",
        "card_violation": "violations (yuan)", "card_suspect": "suspect (yuan)", "card_waived": "waived (yuan)",
    },
}


def e(v) -> str:
    return escape(xml(v))


def _text(col):
    return pc.cast(col, pa.string()) if pa.types.is_dictionary(col.type) else col


def split(table: pa.Table, keys: dict[str, pa.ChunkedArray]) -> dict[tuple, dict[str, float]]:
    """{key values: {'n': findings not waived, 'violation': money, 'suspect': money, 'waived': money}}."""
    if table.num_rows == 0:
        return {}
    bucket = pc.if_else(pc.is_valid(table["waiver"]), "waived", _text(table["severity"]))
    t = pa.table({**{k: _text(v) for k, v in keys.items()}, "b": bucket, "amount": table["amount"]})
    agg = t.group_by([*keys, "b"]).aggregate([("amount", "count"), ("amount", "sum")])
    out: dict[tuple, dict[str, float]] = {}
    names = list(keys)
    for row in agg.to_pylist():
        k = tuple(row[n] for n in names)
        d = out.setdefault(k, {"n": 0, "violation": 0.0, "suspect": 0.0, "waived": 0.0})
        if row["b"] != "waived":
            d["n"] += row["amount_count"]
        if row["b"] in d:
            d[row["b"]] += row["amount_sum"] or 0.0
    return out


def money_split(report) -> dict[str, float]:
    total = split(report.table, {"all": pa.chunked_array([pa.array([""] * report.table.num_rows)])})
    d = total.get(("",), {"n": 0, "violation": 0.0, "suspect": 0.0, "waived": 0.0})
    return {k: round(v, 2) for k, v in d.items()}


def cards(report, lang: str) -> list[tuple[str, str, str]]:
    """(id, value, label) of the money cards."""
    m, T = money_split(report), TEXT[lang]
    return [(f"m-{b}", money(m[b]), T[f"card_{b}"]) for b in BUCKETS]


def conclusion(report, lang: str, title_of) -> str:
    """The sentence at the top and the next step, as HTML."""
    T, s, m = TEXT[lang], report.summary(), money_split(report)
    active = report.active
    rules = {(r.contract_id, r.contract_version, r.rule_id): r for r in report.rules}
    if active.num_rows == 0 or (m["violation"] + m["suspect"]) == 0 and s["findings_by_severity"]["violation"] == 0 \
            and s["findings_by_severity"]["suspect"] == 0:
        waived = T["none_waived"].format(n=count(s["waived"]), money=money(m["waived"])) if s["waived"] else ""
        said = T["none"].format(lines=count(s["lines"]), waived=waived)
        step = T["next_clean"]
    else:
        visits = pc.count_distinct(active["mdtrt_id"]).as_py()
        per_rule = split(active, {"c": active["contract_id"], "v": active["contract_version"], "r": active["rule_id"]})
        ranked = sorted(per_rule.items(), key=lambda kv: -(kv[1]["violation"] + kv[1]["suspect"]))
        top = [(rules[k], d) for k, d in ranked[:3] if k in rules]
        top_money = sum(d["violation"] + d["suspect"] for _, d in top)
        at_stake = m["violation"] + m["suspect"]
        said = T["conclusion"].format(
            lines=count(s["lines"]), visits=count(visits), findings=count(active.num_rows), amount=money(at_stake),
            violation=money(m["violation"]), suspect=money(m["suspect"]),
            top=T["sep"].join(T["top_one"].format(title=title_of(r), money=money(d["violation"] + d["suspect"]))
                              for r, d in top),
            top_money=money(top_money), share=f"{100 * top_money / at_stake:.0f}%" if at_stake else "—")
        first = next(((r, d) for r, d in top if d["violation"] > 0), None)
        step = (T["next_fix"].format(title=title_of(first[0]), n=count(first[1]["n"])) if first else T["next_suspect"])
    incomplete = len(report.incomplete())
    if incomplete:
        step += (" " if lang == "en" else "") + T["next_incomplete"].format(n=count(incomplete))
    return (f"<section id='conclusion'><p class='said'>{e(said)}</p><p class='next'>{e(step)}</p></section>")


def _rows(items, f: str, lang: str) -> str:
    """Rows of a subtotal table; each number carries its column's name (data-l) for the phone layout."""
    T, out = TEXT[lang], []
    for key, label, d in items:
        out.append(f"<tr data-f='{f}' data-v='{e(key)}' tabindex='0'><td>{label}</td>"
                   f"<td class='r' data-l='{e(T['n'])}'>{count(d['n'])}</td>"
                   + "".join(f"<td class='r' data-l='{e(T[b])}'>{money(d[b])}</td>" for b in BUCKETS) + "</tr>")
    return "".join(out)


def subtotals(report, lang: str, title_of, rid) -> str:
    """Three tables of subtotals (rule, institution, month) from every finding, rows clickable."""
    T, t = TEXT[lang], report.table
    if t.num_rows == 0:
        return ""
    head = "".join(f"<th class='{'r' if k != 'what' else ''}'>{e(T[k])}</th>" for k in ("what", "n", *BUCKETS))
    rules = {(r.contract_id, r.contract_version, r.rule_id): r for r in report.rules}
    by_rule = split(t, {"c": t["contract_id"], "v": t["contract_version"], "r": t["rule_id"]})
    rank = lambda d: -(d["violation"] + d["suspect"] + d["waived"])  # noqa: E731
    rule_items = [(k[2], f"{rid(k[2], k[1])} <span class='rtitle'>{e(title_of(rules[k]) if k in rules else '')}"
                   "</span>", d) for k, d in sorted(by_rule.items(), key=lambda kv: rank(kv[1]))]
    by_inst = split(t, {"code": t["fixmedins_code"], "name": t["fixmedins_name"]})
    inst_sorted = sorted(by_inst.items(), key=lambda kv: (rank(kv[1]), kv[0][0] or ""))
    inst_items = [(k[0], f"<span class='iname'>{e(k[1] or '')}</span> <span class='code'>{e(k[0])}</span>", d)
                  for k, d in inst_sorted[:TOP]]
    month = pc.utf8_slice_codeunits(pc.fill_null(t["fee_ocur_time"], ""), 0, 7)
    by_month = split(t, {"m": month})
    month_items = [(k[0], e(k[0]), d) for k, d in sorted(by_month.items())]
    block = lambda h, f, items: (f"<div class='sub'><h3>{e(h)}</h3><div class='scroll'><table class='subtotal' "  # noqa: E731
                                 f"id='sub-{f}'><thead><tr>{head}</tr></thead><tbody>{_rows(items, f, lang)}</tbody>"
                                 "</table></div></div>")
    return (f"<section id='subtotals'><h2>{e(T['h_subtotals'])}</h2><div class='subs'>"
            + block(T["by_rule"], "rule", rule_items)
            + block(T["by_inst"].format(top=min(TOP, len(by_inst)), n=count(len(by_inst))), "inst", inst_items)
            + block(T["by_month"], "month", month_items) + "</div></section>")
