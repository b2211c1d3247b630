"""Inline SVG bar charts (no scripts, no external files), computed from every finding."""
from __future__ import annotations

from html import escape as _escape

import pyarrow as pa

from .safe import xml


def escape(value) -> str:  # claim text in SVG: no control or bidi characters
    return _escape(xml(value))


def tally(table: pa.Table, key: pa.Array) -> list[tuple[str, int, float]]:
    """(key, findings, money) per value of `key` (an array aligned with `table`), most money first."""
    if table.num_rows == 0:
        return []
    t = pa.table({"k": key, "amount": table["amount"]})
    agg = t.group_by("k").aggregate([("amount", "count"), ("amount", "sum")])
    rows = zip(agg["k"].to_pylist(), agg["amount_count"].to_pylist(), agg["amount_sum"].to_pylist())
    return sorted(((k or "", n, round(m or 0.0, 2)) for k, n, m in rows), key=lambda t: (-t[2], -t[1], t[0]))


def bars(rows: list[tuple[str, int, float]], label_count: str, label_money: str, top: int = 15) -> str:
    """Horizontal bars: findings (count) and money at stake, one row per key."""
    rows = rows[:top]
    if not rows:
        return "<p class='muted'>—</p>"
    h, lw, bw = 22, 230, 260
    mc = max(r[1] for r in rows) or 1
    mm = max(r[2] for r in rows) or 1
    out = [f"<svg class='chart' role='img' width='{lw + 2 * bw + 110}' height='{h * len(rows) + 26}' "
           f"xmlns='http://www.w3.org/2000/svg'>",
           f"<text x='{lw}' y='14' class='axis'>{escape(label_count)}</text>",
           f"<text x='{lw + bw + 20}' y='14' class='axis'>{escape(label_money)}</text>"]
    for i, (k, n, m) in enumerate(rows):
        y = 22 + i * h
        name = k if len(k) <= 28 else k[:27] + "…"
        out.append(f"<text x='{lw - 6}' y='{y + 14}' text-anchor='end' class='lbl'><title>{escape(k)}</title>"
                   f"{escape(name)}</text>")
        out.append(f"<rect x='{lw}' y='{y + 3}' width='{max(1, bw * n / mc):.1f}' height='{h - 8}' class='b1'/>"
                   f"<text x='{lw + 4 + bw * n / mc:.1f}' y='{y + 14}' class='val'>{n:,}</text>")
        out.append(f"<rect x='{lw + bw + 20}' y='{y + 3}' width='{max(1, bw * m / mm):.1f}' height='{h - 8}' "
                   f"class='b2'/><text x='{lw + bw + 24 + bw * m / mm:.1f}' y='{y + 14}' class='val'>{m:,.2f}</text>")
    out.append("</svg>")
    return "".join(out)


def columns(rows: list[tuple[str, int, float]], label: str) -> str:
    """Vertical columns by month (money at stake), in month order."""
    rows = sorted(rows)
    if not rows:
        return "<p class='muted'>—</p>"
    w, ch = 46, 160
    mm = max(r[2] for r in rows) or 1
    out = [f"<svg class='chart' role='img' width='{w * len(rows) + 60}' height='{ch + 60}' "
           f"xmlns='http://www.w3.org/2000/svg'><text x='4' y='14' class='axis'>{escape(label)}</text>"]
    for i, (k, n, m) in enumerate(rows):
        x = 40 + i * w
        hgt = max(1.0, ch * m / mm)
        out.append(f"<rect x='{x}' y='{20 + ch - hgt:.1f}' width='{w - 10}' height='{hgt:.1f}' class='b2'>"
                   f"<title>{escape(k)}: {n:,} / {m:,.2f}</title></rect>"
                   f"<text x='{x + (w - 10) / 2}' y='{ch + 36}' text-anchor='middle' class='lbl'>{escape(k[2:])}</text>"
                   f"<text x='{x + (w - 10) / 2}' y='{ch + 50}' text-anchor='middle' class='val'>{n:,}</text>")
    out.append("</svg>")
    return "".join(out)
