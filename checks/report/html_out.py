"""The HTML compliance report: one self-contained file that opens offline, for a billing manager.

Everything from claims or contracts is escaped on the server (html.escape after safe.xml) and,
in the findings table, written by the browser with textContent only; the embedded data is JSON
with <, > and & escaped and control and bidi characters shown as escapes, so no claim value can
close the script element, run, or reorder what is read. A Content-Security-Policy forbids every
load from outside the file.

Counts, charts and money are computed from the whole findings table (pyarrow); the findings
table embeds at most CAP findings, every rule represented, each with a sentence in words
(words.py) beside the precise expected/actual for auditors. With more findings than it embeds,
the report says so and how to get every one (--findings Parquet, --json).
"""
from __future__ import annotations

import json
import re
from html import escape
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import __version__
from .charts import bars, months, tally
from .html_labels import LABELS, reason
from .html_summary import cards as money_cards
from .html_summary import conclusion, subtotals
from .safe import xml
from .target import text_target
from .words import count, fee_time, local_time, money, sentence

CAP = 20_000
FIELDS = ["ri", "severity", "mdtrt_id", "feedetl_sn", "psn_no", "fixmedins_code", "fixmedins_name", "hilist_code",
          "hilist_name", "time", "words", "expected", "actual", "citation", "amount", "file", "row", "rule_id"]
_BAD = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\x{061c}\x{200e}\x{200f}\x{202a}-\x{202e}\x{2066}-\x{2069}\x{fffe}\x{ffff}]"


def e(value) -> str:
    """Contract or claim text for HTML: control and bidi characters shown as escapes, then escaped."""
    return escape(xml(value))


def _json(data) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def pick(table: pa.Table, cap: int) -> pa.Table:
    """At most `cap` findings in table order, taken round-robin across rules so every rule with
    findings is in (its first ones), then the rest in order."""
    if table.num_rows <= cap:
        return table
    key = pc.binary_join_element_wise(*(_text(table[c]) for c in ("contract_id", "contract_version", "rule_id")),
                                      "\x1f")
    codes = pc.dictionary_encode(key).combine_chunks().indices.to_numpy()
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.searchsorted(sorted_codes, sorted_codes, side="left")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order)) - starts
    chosen = np.sort(np.lexsort((np.arange(len(rank)), rank))[:cap])
    return table.take(pa.array(chosen))


def _text(col):
    """A column as plain text (the model dictionary-encodes rules, severities and files)."""
    return pc.cast(col, pa.string()) if pa.types.is_dictionary(col.type) else col


def _clean(table: pa.Table) -> dict[str, list]:
    """The embedded findings as Python columns, text made safe (only columns that need it)."""
    out = {}
    for name in table.column_names:
        col = _text(table[name])
        values = col.to_pylist()
        if pa.types.is_string(col.type) and col.null_count < len(col) and \
                pc.any(pc.match_substring_regex(col, _BAD)).as_py():
            values = [None if v is None else xml(v) for v in values]
        out[name] = values
    return out


def embedded_rows(table: pa.Table, rule_index: dict, titles: list[str], lang: str) -> list[list]:
    """The rows the findings table shows: FIELDS, plus the waiver for waived findings."""
    cols = _clean(table)
    n = table.num_rows
    rows, said = [], {}
    for i in range(n):
        f = {k: cols[k][i] for k in cols}
        ri = rule_index.get((f["contract_id"], f["contract_version"], f["rule_id"]), -1)
        f["ri"], f["time"] = ri, fee_time(f["fee_ocur_time"])
        key = (ri, f["expected"], f["actual"], f["citation"], f["related"])  # a rule's message varies by these only
        if key not in said:
            said[key] = sentence(f, titles[ri] if ri >= 0 else "", lang)
        f["words"] = said[key]
        row = [f[k] for k in FIELDS]
        if f.get("waiver"):
            w = json.loads(f["waiver"])
            row += [w.get("id"), w.get("reason")]
        rows.append(row)
    return rows


def _month_span(report, active) -> tuple[str | None, str | None]:
    """First and last fee month of the batch (its inputs' fee dates), else of the findings."""
    dates = [d for i in report.inputs for d in (i.get("fee_dates") or []) if d]
    if dates:
        return min(dates)[:7], max(dates)[:7]
    if active.num_rows:
        t = pc.drop_null(active["fee_ocur_time"])
        if len(t):
            return pc.min(t).as_py()[:7], pc.max(t).as_py()[:7]
    return None, None


def _charts(report, active, L, title_of) -> dict:
    """The three charts, and the per-rule and per-institution sums the filters reuse."""
    rules = {(r.contract_id, r.contract_version, r.rule_id): r for r in report.rules}
    per_rule = tally(active, {"c": active["contract_id"], "v": active["contract_version"], "r": active["rule_id"]})
    by_rule = [(f"{_rid(report, rid, v)} <span class='rtitle'>{e(title_of(rules[(c, v, rid)]) if (c, v, rid) in rules else '')}"
                f"</span>", n, m) for (c, v, rid), n, m in per_rule]
    inst = tally(active, {"code": active["fixmedins_code"], "name": active["fixmedins_name"]})
    by_inst = [(f"<span class='iname'>{e(name or '')}</span> <span class='code'>{e(code)}</span>", n, m)
               for (code, name), n, m in inst[:15]]
    month = pc.utf8_slice_codeunits(pc.fill_null(active["fee_ocur_time"], ""), 0, 7)
    first, last = _month_span(report, active)
    by_month = [(k[0], n, m) for k, n, m in tally(active, {"m": month})]
    n_inst = len({code for (code, _), _, _ in inst})
    return {
        "by_rule": bars(by_rule, L["count"], L["money"], L["rule"], "by-rule", ("rule", [k[2] for k, _, _ in per_rule])),
        "by_inst": bars(by_inst, L["count"], L["money"], L["inst"], "by-inst", ("inst", [k[0] for k, _, _ in inst[:15]])),
        "h_by_inst": e(L["by_inst"].format(top=min(15, n_inst), n=count(n_inst))),
        "by_month": months(by_month, first, last, L["by_month"], L["month_tip"], L["month_top"]),
        "period": (first, last), "per_rule": per_rule, "inst": inst, "months": sorted(k for k, _, _ in by_month if k),
    }


def _filters(ch, report, title_of) -> dict:
    """The rule, institution and month choices of the findings table, with every finding counted."""
    n_rule, title = {}, {r.rule_id: title_of(r) for r in report.rules}
    for (_, _, rid), n, _ in ch["per_rule"]:
        n_rule[rid] = n_rule.get(rid, 0) + n
    rules = "".join(f"<option value='{e(rid)}'>{e(rid)} {e(title.get(rid, ''))} ({count(n)})</option>"
                    for rid, n in sorted(n_rule.items()))
    months = "".join(f"<option value='{e(m)}'>{e(m)}</option>" for m in ch["months"])
    inst = "".join(f"<option value='{e(c)}'>{e(nm or '')} {e(c)}</option>"
                   for (c, nm), _, _ in sorted(ch["inst"], key=lambda t: (t[0][1] or "", t[0][0] or "")))
    return {"rule_options": rules, "inst_options": inst, "month_options": months}


def _tables(report, L, lang) -> dict:
    contracts = "".join(
        f"<tr><td class='nw'>{e(c['contract_id'])}</td><td>{e(c['version'])}</td>"
        f"<td>{e(c['title'] if lang == 'zh' else c['title_en'])}</td><td>{e(c['jurisdiction'])}</td>"
        f"<td class='nw'>{e(c['effective_from'])} – {e(c['effective_to'] or L['open'])}</td>"
        f"<td class='r'>{count(c['lines_in_force'])}</td></tr>" for c in report.contracts if c.get("lines_in_force"))
    inputs = "".join(f"<tr><td>{e(i['file'])}</td><td class='r'>{count(i['rows'])}</td>"
                     f"<td class='nw'>{e(' – '.join(i.get('fee_dates') or []))}</td>"
                     f"<td class='mono hash'>{e(i['sha256'])}</td></tr>" for i in report.inputs)
    history = ""
    if report.history:
        h = report.history
        history = (f"<section><h2>{e(L['history'])}</h2><p class='mono'>{e(h.get('ledger'))} · schema "
                   f"{e(h.get('schema_version'))} · {e(L['earlier'])} {count(h.get('earlier_lines'))} · "
                   f"{e(L['recorded'])} {count(h.get('recorded'))}</p></section>")
    head = lambda keys: "".join(f"<th>{e(L[k])}</th>" for k in keys)  # noqa: E731
    return {"contracts": contracts, "inputs": inputs, "history": history,
            "contract_head": head(("contract", "version", "name", "jurisdiction", "period_in_force", "lines_in_force")),
            "input_head": head(("file", "rows", "fee_dates", "sha256")),
            "rule_head": head(("rule", "contracts", "source", "severity", "status", "checked", "unjudged", "findings",
                               "amount")),
            "finding_head": "".join(f"<th class='c-{k}'>{e(L[k])}</th>" for k in (
                "rule", "severity", "visit", "inst", "item", "time", "words", "amount"))}


def _versions(report) -> dict[str, int]:
    seen = {}
    for r in report.rules:
        seen.setdefault(r.rule_id, set()).add((r.contract_id, r.contract_version))
    return {k: len(v) for k, v in seen.items()}


def _rid(report, rule_id: str, version: str) -> str:
    """A rule's id, with its contract version where the same id is in more than one version."""
    many = _versions(report).get(rule_id, 1) > 1
    return f"<b class='rid'>{e(rule_id)}</b>" + (f"<span class='ver'>@{e(version)}</span>" if many else "")


def _rules_rows(report, L, lang, title_of) -> str:
    out = []
    for r in report.rules:
        src = r.source
        notes = "".join(f"<li>{e(n)}</li>" for n in r.notes)
        why = (f"<p class='warn'>{e(reason(r.reason, lang))}</p>" if r.reason and
               (r.status == "error" or r.lines_not_judged) else "")
        out.append(
            f"<tr class='st-{e(r.status)}' data-rule='{e(r.rule_id)}'>"
            f"<td class='c-rule'>{_rid(report, r.rule_id, r.contract_version)} <span class='rtitle'>{e(title_of(r))}</span>{why}</td>"
            f"<td class='nw'>{e(r.contract_id)} {e(r.contract_version)}</td>"
            f"<td class='c-src'><details><summary>{e(src['document'])} {e(src['section'])}</summary><div class='src'>"
            f"<span class='muted' lang='zh-CN'>{e(src['title'])}</span><blockquote lang='zh-CN'>{e(src['quote'])}</blockquote>"
            f"{_notes(notes, L) if notes else ''}</div></details></td>"
            f"<td class='nw'><span class='sev sev-{e(r.severity)}'>{e(L[r.severity])}</span></td>"
            f"<td class='status nw'>{e(L['status_' + r.status])}</td><td class='r'>{count(r.lines_checked)}</td>"
            f"<td class='r{' warn-num' if r.lines_not_judged else ''}'>{count(r.lines_not_judged)}</td>"
            f"<td class='r findings'>{count(r.findings)}</td><td class='r nw'>{money(r.amount)}</td></tr>")
    return "".join(out)


def _notes(items: str, L) -> str:
    """A rule's notes: the contract's own words, in Chinese (said so in an English report)."""
    head = f"<p class='muted'>{e(L['notes'])}</p>" if L.get("notes") else ""
    return f"{head}<ul lang='zh-CN'>{items}</ul>"


def _incomplete(report, L, lang, title_of) -> str:
    items = []
    for r in report.incomplete():
        what = L["could_not_run"] if r.status == "error" else L["not_judged"].format(n=count(r.lines_not_judged))
        items.append(f"<li data-rule='{e(r.rule_id)}'>{_rid(report, r.rule_id, r.contract_version)} {e(title_of(r))} "
                     f"<span class='badge'>{e(what)}</span><div class='why'>{e(reason(r.reason, lang))}</div></li>")
    if not items:
        return ""
    return f"<section class='warn' id='incomplete'><h2>{e(L['errors'])}</h2><ul>{''.join(items)}</ul></section>"


def render_html(report, lang: str = "zh", cap: int = CAP) -> str:
    L = LABELS[lang]
    s = report.summary()
    title_of = (lambda r: r.title) if lang == "zh" else (lambda r: r.title_en)
    active = report.active
    ch = _charts(report, active, L, title_of)
    first, last = ch["period"]
    cards = [("lines", count(s["lines"])), ("findings", count(s["findings"])), ("amount", money(s["amount"])),
             ("waived", count(s["waived"]))] + ([("period", f"{first} – {last}" if first != last else first)]
                                               if first else [])
    split_cards = "".join(f"<div class='card money-{k[2:]}'><div class='num' id='{k}'>{e(v)}</div><div class='lbl'>"
                          f"{e(lbl)}</div></div>" for k, v, lbl in money_cards(report, lang))
    rule_index = {(r.contract_id, r.contract_version, r.rule_id): i for i, r in enumerate(report.rules)}
    titles = [title_of(r) for r in report.rules]
    versions = _versions(report)
    shown = pick(active, cap)
    data = {"fields": FIELDS, "rows": embedded_rows(shown, rule_index, titles, lang),
            "waived": embedded_rows(report.waived_table.slice(0, cap), rule_index, titles, lang),
            "total": active.num_rows,
            "rules": [[r.rule_id, xml(title_of(r)), r.contract_version if versions[r.rule_id] > 1 else ""]
                      for r in report.rules],
            "labels": {k: L[k] for k in ("violation", "suspect", "data_quality", "shown", "of", "all", "embedded",
                                         "precise", "expected", "actual", "source", "row", "rule", "severity",
                                         "visit", "inst", "item", "time", "words", "amount", "file", "sort")}}
    when = local_time(report.engine.get("checked_at"))
    version = report.engine.get("claimcheck") or __version__
    values = {
        "lang": "zh-CN" if lang == "zh" else "en", "title": e(L["title"]),
        "generated": e((f"{L['generated']} {when}{L['china_time']} · " if when else "") + f"claimcheck {version}"),
        "cards": "".join(f"<div class='card'><div class='num' id='n-{k}'>{e(v)}</div><div class='lbl'>{e(L[k])}</div>"
                         f"</div>" for k, v in cards) + split_cards,
        "conclusion": conclusion(report, lang, title_of),
        "subtotals": subtotals(report, lang, title_of, lambda rid, v: _rid(report, rid, v)),
        "cap_note": (f"<div class='cap' id='cap'>{L['cap_html'].format(cap=count(shown.num_rows), n=count(active.num_rows))}"
                     f"</div>" if active.num_rows > shown.num_rows else ""),
        "by_rule": ch["by_rule"], "by_inst": ch["by_inst"], "h_by_inst": ch["h_by_inst"], "by_month": ch["by_month"],
        "rules": _rules_rows(report, L, lang, title_of), "errors": _incomplete(report, L, lang, title_of),
        "expired": _expired(report, L), "data": _json(data), **_tables(report, L, lang),
        **_filters(ch, report, title_of),
        **{f"h_{k}": e(L[k]) for k in ("contracts", "inputs", "charts", "by_rule", "by_month", "rules", "findings")},
        "h_waived": e(L["waived_list"]), "search": e(L["search"]), "all": e(L["all"]), "v": e(L["violation"]),
        "s": e(L["suspect"]), "dq": e(L["data_quality"]), "prev": e(L["prev"]), "next": e(L["next"]),
        **{f"l_{k}": e(L[f"l_{k}"]) for k in ("q", "rule", "sev", "inst", "month", "export", "export_note", "clear")},
    }
    template = resources.files("checks.report").joinpath("report.html").read_text(encoding="utf-8")
    # one pass: text inserted for one placeholder is never searched for another
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], template)


def _expired(report, L) -> str:
    items = "".join(f"<li><b>{e(w['id'])}</b> ({e(w['rule'])}, {e(w['owner'])}): "
                    f"{e(L['expired_on'].format(date=w.get('expires', ''), n=count(w.get('matched', 0))))}</li>"
                    for w in report.waivers if w["status"] == "expired")
    return f"<section class='warn'><h2>{e(L['expired'])}</h2><ul>{items}</ul></section>" if items else ""


def write_html(report, path, lang: str = "zh") -> None:
    with text_target(path) as fh:
        fh.write(render_html(report, lang))
