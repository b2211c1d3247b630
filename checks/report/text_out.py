"""The short text summary `claimcheck check` prints."""
from __future__ import annotations

SHOW = 10


def render_text(report, show: int = SHOW) -> str:
    s = report.summary()
    lines = [f"claimcheck: {s['lines']:,} lines in {s['files']} file(s)"]
    for c in report.contracts:
        end = c["effective_to"] or "open"
        lines.append(f"  contract {c['contract_id']} {c['version']} ({c['effective_from']} … {end}): "
                     f"{c['lines_in_force']:,} lines in force")
    h = report.history
    if h:
        where = f"history: {h['ledger']} (schema {h['schema_version']}"
        where += f", migrated from {h['migrated_from']})" if h.get("migrated_from") else ")"
        lines.append(f"{where}: {h['earlier_lines']:,} earlier lines counted")
        if h.get("dry_run"):
            lines.append("  dry run: nothing recorded")
        else:
            lines.append(f"  recorded {h['recorded']:,} lines as batch #{h['batch_seq']} "
                         f"(replaced {h['replaced']:,} with the same identity, {h['changed']:,} of them changed)")
            for c in h["changed_lines"][:5]:
                lines.append(f"  changed: mdtrt_id={c['mdtrt_id']} feedetl_sn={c['feedetl_sn']} replaces the recorded line")
    lines.append("")
    w = max([len(r.rule_id) for r in report.rules] + [4])
    lines.append(f"{'RULE':<{w}}  {'SEVERITY':<9}  {'STATUS':<14}  {'CHECKED':>8}  {'FINDINGS':>8}  {'AMOUNT':>12}")
    for r in report.rules:
        lines.append(f"{r.rule_id:<{w}}  {r.severity:<9}  {r.status:<14}  {r.lines_checked:>8,}  "
                     f"{r.findings:>8,}  {r.amount:>12,.2f}")
    for r in report.errors():
        lines.append(f"error: {r.rule_id} could not run: {r.reason}")
    lines.append("")
    sev = s["findings_by_severity"]
    lines.append(f"findings: {s['findings']:,} (violation {sev['violation']:,}, suspect {sev['suspect']:,}); "
                 f"money at stake {s['amount']:,.2f}")
    if report.waivers:
        lines.append(f"waived: {s['waived']:,} findings ({s['waived_amount']:,.2f}) by "
                     f"{sum(1 for w in report.waivers if w['status'] == 'active')} active waiver(s)")
        for w in report.waivers:
            if w["status"] == "expired":
                lines.append(f"  waiver {w['id']} ({w['rule']}, {w['owner']}) {w['message']}")
    if report.findings and show > 0:
        shown = report.findings[:show]
        lines.append(f"first {len(shown)} of {len(report.findings):,}:")
        for f in shown:
            lines.append(f"  {f.rule_id}  {f.file} row {f.row}  mdtrt_id={f.mdtrt_id} feedetl_sn={f.feedetl_sn} "
                         f"{f.hilist_code}  {f.message}")
    return "\n".join(lines)
