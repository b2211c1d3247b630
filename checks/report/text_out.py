"""The short text summary `claimcheck check` prints. Claim text is made terminal-safe."""
from __future__ import annotations

from .model import _rows
from .safe import terminal as t
from .said import with_words

SHOW = 10
CONVENTION = {"excl": "符合政策范围金额不含先行自付", "incl": "符合政策范围金额已含先行自付",
              "mixed": "两种口径混用（逐行判断）", "unknown": "口径无法判断"}


def _in_play(r) -> bool:
    """A rule worth a row on the terminal: it saw lines of its scope, found, or could not run."""
    return bool(r.lines_checked or r.findings or r.waived or r.lines_not_judged or r.status == "error")


def render_text(report, show: int = SHOW, lang: str = "zh") -> str:
    s = report.summary()
    lines = [f"claimcheck: {s['lines']:,} lines in {s['files']} file(s)"]
    for i in report.inputs:
        conv = i.get("money_convention")
        if conv and conv != "unknown":
            lines.append(f"  {t(i['file'])}: money {conv} ({CONVENTION[conv]})")
        if i.get("columns"):
            lines.append(f"  {t(i['file'])}: columns " + ", ".join(f"{k} ← {t(v)}" for k, v in i["columns"].items()))
    for c in report.contracts:
        if c["contract_id"] == "data-quality":
            continue
        end = c["effective_to"] or "open"
        lines.append(f"  contract {c['contract_id']} {c['version']} ({c['effective_from']} … {end}): "
                     f"{c['lines_in_force']:,} lines in force")
    h = report.history
    if h:
        where = f"history: {t(h['ledger'])} (schema {h['schema_version']}"
        where += f", migrated from {h['migrated_from']})" if h.get("migrated_from") else ")"
        lines.append(f"{where}: {h['earlier_lines']:,} earlier lines counted")
        if h.get("dry_run"):
            lines.append("  dry run: nothing recorded")
        else:
            lines.append(f"  recorded {h['recorded']:,} lines as batch #{h['batch_seq']} "
                         f"(replaced {h['replaced']:,} with the same identity, {h['changed']:,} of them changed)")
            for c in h["changed_lines"][:5]:
                lines.append(f"  changed: mdtrt_id={t(c['mdtrt_id'])} feedetl_sn={t(c['feedetl_sn'])} "
                             "replaces the recorded line")
    lines.append("")
    shown = [r for r in report.rules if _in_play(r)]
    w = max([len(r.rule_id) for r in shown] + [4])
    cw = max([len(f"{r.contract_id}@{r.contract_version}") for r in shown] + [8])
    lines.append(f"{'RULE':<{w}}  {'CONTRACT':<{cw}}  {'SEVERITY':<12}  {'STATUS':<14}  {'CHECKED':>8}  "
                 f"{'NOT JUDGED':>10}  {'FINDINGS':>8}  {'AMOUNT':>12}")
    for r in shown:
        lines.append(f"{r.rule_id:<{w}}  {r.contract_id + '@' + r.contract_version:<{cw}}  {r.severity:<12}  "
                     f"{r.status:<14}  {r.lines_checked:>8,}  {r.lines_not_judged or '':>10}  "
                     f"{r.findings:>8,}  {r.amount:>12,.2f}")
    if len(shown) < len(report.rules):
        lines.append(f"({len(report.rules) - len(shown)} more rules had no line in scope; the JSON and HTML "
                     "reports list every rule)")
    for r in report.rules:
        if r.status == "error":
            lines.append(f"error: {r.rule_id}@{r.contract_version} could not run: {t(r.reason)}")
        elif r.lines_not_judged:
            lines.append(f"warning: {r.rule_id}@{r.contract_version}: {t(r.reason)}")
    lines.append("")
    sev = s["findings_by_severity"]
    lines.append(f"findings: {s['findings']:,} (violation {sev['violation']:,}, suspect {sev['suspect']:,}, "
                 f"data quality {sev['data_quality']:,}); money at stake {s['amount']:,.2f}")
    if report.waivers:
        lines.append(f"waived: {s['waived']:,} findings ({s['waived_amount']:,.2f}) by "
                     f"{sum(1 for w in report.waivers if w['status'] == 'active')} active waiver(s)")
        for w in report.waivers:
            if w["status"] == "expired":
                lines.append(f"  waiver {t(w['id'])} ({t(w['rule'])}, {t(w['owner'])}) {w['message']}")
    total = report.active.num_rows
    if total and show > 0:
        first = _rows(with_words(report.active.slice(0, show), report.rules, lang))
        lines.append(f"first {len(first)} of {total:,}:")
        for f in first:
            lines.append(f"  {f.rule_id}  {t(f.file)} row {f.row}  mdtrt_id={t(f.mdtrt_id)} "
                         f"feedetl_sn={t(f.feedetl_sn)} {t(f.hilist_code)}  {t(f.message)}")
    return "\n".join(lines)
