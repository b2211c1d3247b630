"""The HTML compliance report: one self-contained file that opens offline.

Everything from claims or contracts is escaped on the server (html.escape) and, in the findings
table, written by the browser with textContent only; the embedded data is JSON with <, > and &
escaped, so no claim value can close the script element or run. A Content-Security-Policy forbids
every load from outside the file. The findings table embeds at most CAP findings (the cap is
stated, with where the full list is); counts, money and charts always cover every finding.
"""
from __future__ import annotations

import json
import re
from html import escape
from importlib import resources

import pyarrow as pa
import pyarrow.compute as pc

from .. import __version__
from .charts import bars, columns, tally
from .model import _rows
from .safe import xml
from .target import text_target

CAP = 20_000
LABELS = {
    "zh": {"title": "医保费用合规检查报告", "lines": "费用明细行", "findings": "发现", "amount": "涉及金额（元）",
           "waived": "已豁免", "rules": "规则", "contracts": "生效的合同版本", "inputs": "输入文件", "charts": "图表",
           "by_rule": "按规则", "by_inst": "按医疗机构（金额前15）", "by_month": "按月份（涉及金额）",
           "count": "发现数", "money": "涉及金额", "rule": "规则", "status": "状态", "checked": "已检查行",
           "severity": "性质", "source": "依据", "search": "搜索（就诊ID、机构、项目、说明…）", "all": "全部",
           "shown": "显示", "of": "共", "prev": "上一页", "next": "下一页", "file": "文件", "row": "行",
           "cap": "表中嵌入前 {cap:,} 条发现（共 {n:,} 条）；完整清单见 JSON 或 Parquet 输出（--json / --findings）。",
           "violation": "明确违规", "suspect": "可疑", "data_quality": "数据质量", "errors": "未能运行的规则", "expired": "已过期的豁免",
           "waived_list": "已豁免的发现", "history": "历史台账", "notes": "说明", "generated": "生成",
           "period": "执行期", "jurisdiction": "辖区", "document": "文件", "quote": "原文",
           "status_pass": "通过", "status_fail": "不通过", "status_waived": "已豁免", "status_not_applicable": "不适用",
           "status_error": "错误", "inst": "医疗机构", "item": "项目", "time": "费用发生时间", "message": "说明",
           "visit": "就诊ID / 明细", "expected": "应为", "actual": "实际"},
    "en": {"title": "Medical-insurance claim compliance report", "lines": "fee lines", "findings": "findings",
           "amount": "money at stake (yuan)", "waived": "waived", "rules": "rules",
           "contracts": "contract versions in force", "inputs": "input files", "charts": "charts",
           "by_rule": "by rule", "by_inst": "by institution (top 15 by money)", "by_month": "by month (money at stake)",
           "count": "findings", "money": "money at stake", "rule": "rule", "status": "status",
           "checked": "lines checked", "severity": "severity", "source": "source",
           "search": "search (visit, institution, item, message…)", "all": "all", "shown": "showing", "of": "of",
           "prev": "previous", "next": "next", "file": "file", "row": "row",
           "cap": "The table embeds the first {cap:,} of {n:,} findings; the full list is in the JSON or Parquet "
                  "output (--json / --findings).",
           "violation": "violation", "suspect": "suspect", "data_quality": "data quality", "errors": "rules that could not run",
           "expired": "expired waivers", "waived_list": "waived findings", "history": "history ledger",
           "notes": "notes", "generated": "generated", "period": "in force", "jurisdiction": "jurisdiction",
           "document": "document", "quote": "original words", "status_pass": "pass", "status_fail": "fail",
           "status_waived": "waived", "status_not_applicable": "not applicable", "status_error": "error",
           "inst": "institution", "item": "item", "time": "fee time", "message": "message",
           "visit": "visit / line", "expected": "expected", "actual": "actual"},
}
ROW_FIELDS = ["rule_id", "severity", "mdtrt_id", "feedetl_sn", "psn_no", "fixmedins_code", "fixmedins_name",
              "hilist_code", "hilist_name", "fee_ocur_time", "message", "expected", "actual", "amount", "file", "row"]


def _json(data) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def render_html(report, lang: str = "zh", cap: int = CAP) -> str:
    L = LABELS[lang]

    def e(value) -> str:  # claim text: no control or bidi characters, then HTML-escaped
        return escape(xml(value))
    s = report.summary()
    title_of = (lambda r: r.title) if lang == "zh" else (lambda r: r.title_en)
    cards = "".join(f"<div class='card'><div class='num' id='n-{k}'>{v}</div><div class='lbl'>{e(L[k])}</div></div>"
                    for k, v in [("lines", f"{s['lines']:,}"), ("findings", f"{s['findings']:,}"),
                                 ("amount", f"{s['amount']:,.2f}"), ("waived", f"{s['waived']:,}")])
    contracts = "".join(
        f"<tr><td>{e(c['contract_id'])}</td><td>{e(c['version'])}</td><td>{e(c['title'] if lang == 'zh' else c['title_en'])}</td>"
        f"<td>{e(c['jurisdiction'])}</td><td>{e(c['effective_from'])} … {e(c['effective_to'] or '')}</td>"
        f"<td class='r'>{c['lines_in_force']:,}</td></tr>" for c in report.contracts if c.get("lines_in_force"))
    inputs = "".join(f"<tr><td>{e(i['file'])}</td><td class='r'>{i['rows']:,}</td><td class='mono'>{e(i['sha256'])}</td></tr>"
                     for i in report.inputs)
    active = report.active
    by_rule = bars(tally(active, pc.cast(active["rule_id"], pa.string())), L["count"], L["money"], top=60)
    text = lambda c: pc.cast(active[c], pa.string())  # noqa: E731  (dictionary-encoded in the model)
    inst = pc.binary_join_element_wise(pc.fill_null(text("fixmedins_name"), ""), text("fixmedins_code"), " ")
    by_inst = bars(tally(active, pc.utf8_trim_whitespace(inst)), L["count"], L["money"])
    by_month = columns(tally(active, pc.utf8_slice_codeunits(active["fee_ocur_time"], 0, 7)), L["money"])
    rules = []
    for r in report.rules:
        src = r.source
        notes = "".join(f"<li>{e(n)}</li>" for n in r.notes)
        rules.append(
            f"<tr class='st-{e(r.status)}' data-rule='{e(r.rule_id)}'><td class='mono'>{e(r.rule_id)}</td>"
            f"<td>{e(r.contract_id)} {e(r.contract_version)}</td>"
            f"<td><details><summary>{e(title_of(r))}</summary><div class='src'>"
            f"<b>{e(src['document'])}</b> {e(src['section'])}<br><span class='muted'>{e(src['title'])}</span>"
            f"<blockquote>{e(src['quote'])}</blockquote>{'<ul>' + notes + '</ul>' if notes else ''}"
            f"{'<p class=warn>' + e(r.reason) + '</p>' if r.status == 'error' and r.reason else ''}</div></details></td>"
            f"<td>{e(L[r.severity])}</td><td class='status'>{e(L['status_' + r.status])}</td>"
            f"<td class='r'>{r.lines_checked:,}</td><td class='r findings'>{r.findings:,}</td>"
            f"<td class='r'>{r.amount:,.2f}</td></tr>")
    errors = "".join(f"<li><b>{e(r.rule_id)}</b> {e(r.reason or '')}</li>" for r in report.errors())
    expired = "".join(f"<li><b>{e(w['id'])}</b> ({e(w['rule'])}, {e(w['owner'])}): {e(w['message'] or '')}</li>"
                      for w in report.waivers if w["status"] == "expired")
    rows = [[getattr(f, k) for k in ROW_FIELDS] for f in report.head(cap)]
    waived_rows = [[getattr(f, k) for k in ROW_FIELDS] + [f.waiver["id"], f.waiver["reason"]]
                   for f in _rows(report.waived_table.slice(0, cap))]
    data = {"fields": ROW_FIELDS, "rows": rows, "waived": waived_rows, "total": active.num_rows,
            "labels": {k: L[k] for k in ("violation", "suspect", "shown", "of", "all")}}
    cap_note = (f"<p class='cap' id='cap'>{e(L['cap'].format(cap=cap, n=active.num_rows))}</p>"
                if active.num_rows > cap else "")
    history = ""
    if report.history:
        h = report.history
        history = (f"<section><h2>{e(L['history'])}</h2><p class='mono'>{e(h['ledger'])} · schema "
                   f"{h['schema_version']} · earlier {h.get('earlier_lines') or 0:,} · recorded "
                   f"{h.get('recorded', 0):,}</p></section>")
    rule_options = "".join(f"<option>{e(r)}</option>" for r in sorted(set(active["rule_id"].to_pylist())))
    inst_options = "".join(f"<option>{e(c)}</option>" for c in sorted(set(active["fixmedins_code"].to_pylist())))
    template = resources.files("checks.report").joinpath("report.html").read_text(encoding="utf-8")
    head = "".join(f"<th>{e(L[k])}</th>" for k in ("rule", "severity", "visit", "inst", "item", "time", "message",
                                                    "expected", "actual", "amount", "file"))
    values = {
        "lang": "zh-CN" if lang == "zh" else "en", "title": e(L["title"]),
        "generated": e(f"{L['generated']} {report.engine.get('checked_at', '')} · claimcheck {__version__}"),
        "cards": cards, "h_contracts": e(L["contracts"]), "contracts": contracts, "h_inputs": e(L["inputs"]),
        "inputs": inputs, "h_charts": e(L["charts"]), "h_by_rule": e(L["by_rule"]), "by_rule": by_rule,
        "h_by_inst": e(L["by_inst"]), "by_inst": by_inst, "h_by_month": e(L["by_month"]), "by_month": by_month,
        "h_rules": e(L["rules"]), "rules": "".join(rules),
        "rule_head": "".join(f"<th>{e(L[k])}</th>" for k in (
            "rule", "contracts", "source", "severity", "status", "checked", "findings", "amount")),
        "errors": f"<section class='warn'><h2>{e(L['errors'])}</h2><ul>{errors}</ul></section>" if errors else "",
        "expired": f"<section class='warn'><h2>{e(L['expired'])}</h2><ul>{expired}</ul></section>" if expired else "",
        "history": history, "h_findings": e(L["findings"]), "cap_note": cap_note, "search": e(L["search"]),
        "all": e(L["all"]), "rule_options": rule_options, "inst_options": inst_options, "v": e(L["violation"]),
        "s": e(L["suspect"]), "prev": e(L["prev"]), "next": e(L["next"]), "finding_head": head,
        "h_waived": e(L["waived_list"]), "data": _json(data),
    }
    # one pass: text inserted for one placeholder is never searched for another
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], template)


def write_html(report, path, lang: str = "zh") -> None:
    with text_target(path) as fh:
        fh.write(render_html(report, lang))
