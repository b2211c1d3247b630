"""Every finding as a sheet a manager opens: CSV (UTF-8 with a byte-order mark, which Excel needs to
read Chinese) or XLSX (written by XlsxWriter), one row per finding, waived ones too.

The columns are for people: headers in the report's language, the rule's title, the finding in
words (said.py, never a condition as a contract writes it), money as money. Parquet
(parquet_out.py) stays the format for programs. An XLSX sheet holds at most 1,048,576 rows: a
larger report continues on further sheets, so no finding is ever left out.
"""
from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..claims.fields import FIELDS
from .html_labels import LABELS
from .said import finding_words, titles
from .stream import per_rule
from .target import target

BOM = "\ufeff".encode("utf-8")
XLSX_ROWS = 1_048_576 - 1  # a sheet's rows, less the header
COLUMNS = ["rule_id", "title", "contract", "severity", "waiver", "mdtrt_id", "feedetl_sn", "psn_no",
           "fixmedins_code", "fixmedins_name", "hilist_code", "hilist_name", "fee_ocur_time", "amount", "words",
           "citation", "file", "row"]
HEAD = {
    "zh": {"rule_id": "规则", "title": "规则名称", "contract": "合同版本", "severity": "性质", "waiver": "豁免",
           "amount": "涉及金额（元）", "words": "说明", "citation": "依据", "file": "文件", "row": "文件行"},
    "en": {"rule_id": "rule", "title": "rule title", "contract": "contract version", "severity": "severity",
           "waiver": "waiver", "amount": "money at stake (yuan)", "words": "what is wrong", "citation": "source",
           "file": "file", "row": "file row"},
}
EN_FIELDS = {"mdtrt_id": "visit (mdtrt_id)", "feedetl_sn": "line (feedetl_sn)", "psn_no": "person (psn_no)",
             "fixmedins_code": "institution code", "fixmedins_name": "institution", "hilist_code": "item code",
             "hilist_name": "item", "fee_ocur_time": "fee time"}


def header(col: str, lang: str) -> str:
    if col in HEAD[lang]:
        return HEAD[lang][col]
    return FIELDS[col].zh if lang == "zh" else EN_FIELDS[col]


def sheet(report, lang: str = "zh") -> pa.Table:
    """The findings as the table a person reads (COLUMNS, in this order; headers still national)."""
    t = report.table
    rules = {(r.contract_id, r.contract_version, r.rule_id): r for r in report.rules}
    text = lambda c: pc.cast(t[c], pa.string()) if pa.types.is_dictionary(t[c].type) else t[c]  # noqa: E731
    sev = LABELS[lang]
    waiver = [None if w is None else json.loads(w).get("id") for w in t["waiver"].to_pylist()] \
        if t["waiver"].null_count < t.num_rows else [None] * t.num_rows
    cols = {
        "rule_id": text("rule_id"),
        "title": pc.cast(per_rule(t, titles(report.rules, lang), pa.string()), pa.string()),
        "contract": pc.cast(per_rule(t, {k: f"{r.contract_id}@{r.contract_version}" for k, r in rules.items()},
                                     pa.string()), pa.string()),
        "severity": pc.cast(per_rule(t, {k: sev[r.severity] for k, r in rules.items()}, pa.string()), pa.string()),
        "waiver": pa.array(waiver, pa.string()),
        **{c: t[c] for c in ("mdtrt_id", "feedetl_sn", "psn_no", "fixmedins_code", "fixmedins_name", "hilist_code",
                             "hilist_name")},
        "fee_ocur_time": pc.utf8_slice_codeunits(pc.replace_substring(t["fee_ocur_time"], "T", " "), 0, 19),
        "amount": pc.cast(pc.round(t["amount"], 2), pa.decimal128(18, 2)),
        "words": pc.cast(finding_words(t, report.rules, lang), pa.string()),
        "citation": t["citation"],
        "file": text("file"),
        "row": t["row"],
    }
    return pa.table(cols)


def write_csv(report, path, lang: str = "zh") -> None:
    table = sheet(report, lang)
    table = table.rename_columns([header(c, lang) for c in table.column_names])
    with target(path, ".csv") as tmp, open(tmp, "wb") as fh:
        fh.write(BOM)
        pacsv.write_csv(table, fh)


def write_xlsx(report, path, lang: str = "zh") -> None:
    import xlsxwriter

    table = sheet(report, lang)
    heads = [header(c, lang) for c in table.column_names]
    money_at = table.column_names.index("amount")
    with target(path, ".xlsx") as tmp:
        book = xlsxwriter.Workbook(tmp, {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
        bold, money = book.add_format({"bold": True}), book.add_format({"num_format": "#,##0.00"})
        name = "发现" if lang == "zh" else "findings"
        n_sheets = max(1, -(-table.num_rows // XLSX_ROWS))
        for s in range(n_sheets):
            ws = book.add_worksheet(name if s == 0 else f"{name} {s + 1}")
            ws.write_row(0, 0, heads, bold)
            ws.freeze_panes(1, 0)
            ws.set_column(money_at, money_at, 14, money)  # the column's format: no per-cell format needed
            part = table.slice(s * XLSX_ROWS, XLSX_ROWS)
            row = 1
            for batch in part.to_batches(50_000):
                cols = [c.to_pylist() for c in batch.columns]
                cols[money_at] = [None if v is None else float(v) for v in cols[money_at]]
                for values in zip(*cols):
                    ws.write_row(row, 0, values)  # text stays text: formulas, numbers and urls are off
                    row += 1
            ws.autofilter(0, 0, max(part.num_rows, 1), len(heads) - 1)
        book.close()
