"""Charts as plain HTML and CSS (no scripts, no external files), computed from every finding.

Bars are elements sized in per cent, so labels wrap like text (a rule's id with its title, an
institution's full name with its code) and the charts take the page's width. The sums come
from the whole findings table (pyarrow group_by), never from the rows a report embeds.
"""
from __future__ import annotations

from html import escape as _escape

import pyarrow as pa
import pyarrow.compute as pc

from .safe import xml
from .words import count, money


def escape(value) -> str:  # claim text: no control or bidi characters, then HTML-escaped
    return _escape(xml(value))


def tally(table: pa.Table, keys: dict[str, pa.Array | pa.ChunkedArray]) -> list[tuple[tuple, int, float]]:
    """((key values…), findings, money) per distinct value of the `keys` arrays (aligned with
    `table`), most money first."""
    if table.num_rows == 0:
        return []
    text = {k: pc.cast(v, pa.string()) if pa.types.is_dictionary(v.type) else v for k, v in keys.items()}
    t = pa.table({**text, "amount": table["amount"]})
    agg = t.group_by(list(keys)).aggregate([("amount", "count"), ("amount", "sum")])
    cols = [agg[k].to_pylist() for k in keys]
    rows = zip(zip(*cols), agg["amount_count"].to_pylist(), agg["amount_sum"].to_pylist())
    return sorted(((k, n, round(m or 0.0, 2)) for k, n, m in rows), key=lambda r: (-r[2], -r[1], str(r[0])))


def _pct(v: float, top: float, scale: float = 100.0) -> str:
    return f"{max(0.0, scale * v / top):.1f}" if top > 0 else "0"


def bars(rows: list[tuple[str, int, float]], label_count: str, label_money: str, label_what: str,
         css: str = "", keys: tuple[str, list[str]] | None = None) -> str:
    """Horizontal bars, one row per key: findings (count) and money at stake. Each row is
    (label HTML, findings, money); labels are already escaped by the caller."""
    if not rows:
        return "<p class='muted'>—</p>"
    mc = max(r[1] for r in rows) or 1
    mm = max(r[2] for r in rows) or 1
    out = [f"<div class='chart bars {css}' role='table'><div class='bar-row bar-head' role='row'>"
           f"<div role='columnheader'>{escape(label_what)}</div><div role='columnheader'>{escape(label_count)}</div>"
           f"<div role='columnheader'>{escape(label_money)}</div></div>"]
    for i, (label, n, m) in enumerate(rows):
        # keys: (filter, [value per row]): a click on the row filters the findings table by it
        drill = f" data-f='{keys[0]}' data-v='{escape(keys[1][i])}' tabindex='0'" if keys else ""
        out.append(f"<div class='bar-row' role='row' data-n='{n}' data-money='{m:.2f}'{drill}>"
                   f"<div class='bar-label' role='cell'>{label}</div>"
                   f"<div class='bar-cell' role='cell'><span class='track'><span class='bar b1' "
                   f"style='width:{_pct(n, mc)}%'></span></span><span class='bar-val'>{count(n)}</span></div>"
                   f"<div class='bar-cell money' role='cell'><span class='track'><span class='bar b2' "
                   f"style='width:{_pct(m, mm)}%'></span></span><span class='bar-val'>{money(m)}</span></div></div>")
    out.append("</div>")
    return "".join(out)


def month_range(first: str, last: str) -> list[str]:
    """Every month 'YYYY-MM' from `first` to `last` inclusive."""
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while (y, m) <= (int(last[:4]), int(last[5:7])) and len(out) < 1200:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def months(rows: list[tuple[str, int, float]], first: str | None, last: str | None, label: str,
           tip: str = "{month}: {n} / {money}", top: str = "max {money}") -> str:
    """Vertical columns of money at stake, one per month from `first` to `last` (the batch's fee
    months), months without findings included as empty columns."""
    got = {k: (n, m) for k, n, m in rows if k}
    keys = sorted(got)
    first = min([x for x in [first, keys[0] if keys else None] if x]) if (first or keys) else None
    last = max([x for x in [last, keys[-1] if keys else None] if x]) if (last or keys) else None
    if not first:
        return "<p class='muted'>—</p>"
    span = month_range(first, last)
    mm = max((m for _, m in got.values()), default=0) or 1
    step = next(s for s in (1, 2, 3, 6, 12, 24, 60, 120) if len(span) / s <= 16)  # labels on calendar months
    labelled = [k for k in span if (int(k[5:7]) - 1) % step == 0] or span[:1]
    out = [f"<div class='mtop'>{escape(top.format(money=money(mm)))}</div><div class='chart months' "
           f"role='img' aria-label='{escape(label)}' style='min-width:{len(labelled) * 60}px'>"]
    for k in span:
        n, m = got.get(k, (0, 0.0))
        shown = k in labelled
        out.append(f"<div class='mcol{' zero' if not n else ''}' data-month='{k}' data-n='{n}' data-money='{m:.2f}' "
                   f"title='{escape(tip.format(month=k, n=count(n), money=money(m)))}'>"
                   f"<div class='mplot'><div class='mbar' style='height:{_pct(m, mm)}%'></div></div>"
                   f"<div class='mval'>{count(n) if step == 1 else ''}</div>"
                   f"<div class='mlbl'>{(k if step < 12 else k[:4]) if shown else ''}</div></div>")
    out.append("</div>")
    return "".join(out)
