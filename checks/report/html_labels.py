"""The words of the HTML report, in Chinese and English (`--lang`), and the engine's reasons
for rules that could not judge their lines, in Chinese."""
from __future__ import annotations

import re

_CAP_ZH = ("本批次共 <b>{n}</b> 条发现，下表嵌入其中 <b>{cap}</b> 条（每条规则都有），搜索和筛选只在这些条目中进行；"
           "上方的计数、图表和金额涵盖全部 {n} 条。获取完整清单：运行 <code>claimcheck check … "
           "--findings 发现.parquet</code>（每条发现一行，可用 DuckDB、Python 或 Excel 的 Power Query 打开），或 "
           "<code>--json 报告.json</code>。")
_CAP_EN = ("The batch has <b>{n}</b> findings; the table below embeds <b>{cap}</b> of them (every rule represented), "
           "and search and filters work on those. The counts, charts and money above cover all {n}. For the full "
           "list run <code>claimcheck check … --findings findings.parquet</code> (one row per finding, readable with "
           "DuckDB, Python or Excel Power Query), or <code>--json report.json</code>.")

LABELS = {
    "zh": {"title": "医保费用合规检查报告", "lines": "费用明细行", "findings": "发现", "amount": "涉及金额（元）",
           "waived": "已豁免", "period": "费用期间", "rules": "规则", "contracts": "生效的合同版本", "inputs": "输入文件",
           "charts": "图表", "by_rule": "按规则（发现数与涉及金额）", "by_inst": "按医疗机构（金额前 {top} 家，共 {n} 家）",
           "by_month": "按月份（涉及金额，含无发现的月份）", "month_tip": "{month}：{n} 条，{money} 元", "month_top": "最高 {money} 元",
           "count": "发现数", "money": "涉及金额（元）", "rule": "规则", "inst": "医疗机构", "status": "状态",
           "checked": "已检查行", "unjudged": "未判断行", "severity": "性质", "source": "依据",
           "search": "搜索（就诊ID、机构、项目、说明…）", "all": "全部", "shown": "显示", "of": "共",
           "embedded": "表中嵌入", "prev": "上一页", "next": "下一页", "file": "文件", "row": "行",
           "cap_html": _CAP_ZH, "violation": "明确违规", "suspect": "可疑", "data_quality": "数据质量",
           "errors": "未能运行或未能判断全部行的规则", "could_not_run": "未能运行", "not_judged": "{n} 行未能判断",
           "expired": "已过期的豁免", "waived_list": "已豁免的发现", "history": "历史台账", "earlier": "以往行",
           "recorded": "本次记录", "generated": "生成于", "china_time": "（北京时间）", "open": "长期",
           "status_pass": "通过", "status_fail": "不通过", "status_waived": "已豁免",
           "status_not_applicable": "不适用", "status_error": "未能运行", "visit": "就诊ID / 明细 / 文件行", "item": "项目",
           "time": "费用发生时间", "words": "说明", "expected": "应为", "actual": "实际",
           "precise": "政策依据", "contract": "合同", "version": "版本", "name": "名称", "jurisdiction": "辖区",
           "period_in_force": "执行期", "lines_in_force": "适用行数", "rows": "行数", "fee_dates": "费用日期",
           "sha256": "SHA-256", "l_q": "搜索", "l_rule": "规则", "l_sev": "性质", "l_inst": "医疗机构", "l_month": "月份",
           "l_export": "导出 CSV（当前筛选的条目）", "l_clear": "清除筛选",
           "l_export_note": "导出的是表中嵌入的条目；全部发现请用 claimcheck check … --findings 发现.xlsx（或 .csv）。",
           "expired_on": "已于 {date} 过期，不再适用于其 {n} 条发现", "sort": "点击排序"},
    "en": {"title": "Medical-insurance claim compliance report", "lines": "fee lines", "findings": "findings",
           "amount": "money at stake (yuan)", "waived": "waived", "period": "fee period", "rules": "rules",
           "contracts": "contract versions in force", "inputs": "input files", "charts": "charts",
           "by_rule": "by rule (findings and money at stake)",
           "by_inst": "by institution (top {top} by money of {n})",
           "by_month": "by month (money at stake; months without findings included)",
           "month_tip": "{month}: {n} findings, {money} yuan", "month_top": "highest {money} yuan", "count": "findings", "money": "money at stake (yuan)",
           "rule": "rule", "inst": "institution", "status": "status", "checked": "lines checked",
           "unjudged": "lines not judged", "severity": "severity", "source": "source",
           "search": "search (visit, institution, item, message…)", "all": "all", "shown": "showing", "of": "of",
           "embedded": "embedded", "prev": "previous", "next": "next", "file": "file", "row": "row",
           "cap_html": _CAP_EN, "violation": "violation", "suspect": "suspect", "data_quality": "data quality",
           "errors": "rules that could not run or could not judge every line", "could_not_run": "could not run",
           "not_judged": "{n} lines not judged", "expired": "expired waivers", "waived_list": "waived findings",
           "history": "history ledger", "earlier": "earlier lines", "recorded": "recorded",
           "generated": "generated", "china_time": " (China time)", "open": "open", "status_pass": "pass",
           "status_fail": "fail", "status_waived": "waived", "status_not_applicable": "not applicable",
           "status_error": "could not run", "visit": "visit / line / file row", "item": "item", "time": "fee time",
           "words": "what is wrong", "expected": "expected", "actual": "actual",
           "precise": "policy source", "contract": "contract", "version": "version", "name": "title",
           "jurisdiction": "jurisdiction", "period_in_force": "in force", "lines_in_force": "lines in force",
           "rows": "rows", "fee_dates": "fee dates", "sha256": "SHA-256", "l_q": "search", "l_rule": "rule",
           "l_sev": "severity", "l_inst": "institution", "l_month": "month",
           "l_export": "export CSV (the rows filtered)", "l_clear": "clear filters",
           "l_export_note": "The export holds the rows the report embeds; for every finding run claimcheck check … "
                            "--findings findings.xlsx (or .csv).",
           "expired_on": "expired on {date}: no longer applies to its {n} finding(s)", "sort": "click to sort",
           "notes": "the contract's notes, as its authors wrote them (in Chinese):"},
}


_REASONS = [  # the engine's reasons (checks/runner.py, contract and batch models), in Chinese
    (r"^([\d,]+) of ([\d,]+) lines in scope could not be judged: ", r"范围内 \2 行中有 \1 行未能判断："),
    (r"the in-policy amount inpolicy_amt could not be derived on ([\d,]+) \(.*?convention is unknown\)",
     r"\1 行无法得出政策范围内金额（费用构成在两种口径下都不平衡，见 DQ-MONEY；或口径未知的文件中全自费/超限价为空）"),
    (r"the in-policy amount inpolicy_amt needs the line's money split \(([\w, ]+) absent; a 3101/3102 request "
     r"carries none\) on ([\d,]+)", r"\2 行无法得出政策范围内金额：缺少费用构成（\1；3101/3102 请求不携带）"),
    (r"column (\w+) \(([^)]*)\) is not in the claim files \(([\d,]+) lines\)", r"费用明细文件中没有\2（\1）列（\3 行）"),
    (r"column (\w+) \(([^)]*)\) is empty \(null\) on every line \(([\d,]+) lines\)",
     r"\2（\1）列在每一行都为空（\3 行）"),
    (r"(\w+) \(([^)]*)\) is empty on ([\d,]+)", r"\3 行的\2（\1）为空"),
    (r"a value the rule reads is empty, or its condition could not be decided", "规则读取的值为空，或其条件无法判定"),
    (r"reference table '(\w+)' \((.*?)\) is supplied by the user and was not given: pass --table (\S+)"
     r"(?: \(a sample for tests: (.*?)\))?(?=;|$)", lambda m: f"参考表 {m[1]}（{m[2]}）须由使用者提供，本次未提供："
     f"请加 --table {m[3]}" + (f"（测试用样例：{m[4]}）" if m[4] else "")),
    (r"; ([\d,]+) lines in scope were not judged", r"；范围内 \1 行未判断"),
    (r"no line of the batch falls in this rule's scope", "本批次没有属于此规则范围的费用行"),
    (r" \(e\.g\. (.+) row (\d+)\)$", r"（例：\1 第 \2 行）"),
    (r"; ", "；"),
]


def reason(text: str | None, lang: str) -> str:
    """Why a rule could not judge (some of) its lines, in the report's language (the engine
    writes English; a part it does not recognise stays as written)."""
    if not text or lang != "zh":
        return text or ""
    for pattern, repl in _REASONS:
        text = re.sub(pattern, repl, text)
    return text
