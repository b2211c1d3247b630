"""GitHub Actions workflow commands: an annotation per finding (capped, with the count stated)."""
from __future__ import annotations

SHOW = 100


def _data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(s: str) -> str:
    return _data(s).replace(":", "%3A").replace(",", "%2C")


def github_annotations(report, show: int = SHOW) -> str:
    out = []
    for f in report.findings[:show]:
        cmd = "error" if f.severity == "violation" else "warning"
        out.append(f"::{cmd} file={_prop(f.file)},title={_prop(f.rule_id + ' ' + f.severity)}::"
                   f"{_data(f'row {f.row} mdtrt_id={f.mdtrt_id} feedetl_sn={f.feedetl_sn}: {f.message}')}")
    if len(report.findings) > show:
        out.append(f"::notice title=claimcheck::{len(report.findings) - show} more findings are not annotated "
                   f"(the first {show} are); see the JSON, SARIF or HTML report")
    for r in report.rules:
        if r.status == "error":
            out.append(f"::warning title={_prop(r.rule_id + ' could not run')}::{_data(r.reason or '')}")
    return "\n".join(out)
