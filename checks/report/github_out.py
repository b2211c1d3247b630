"""GitHub Actions workflow commands: an annotation per finding (capped, with the count stated).

Claim text is made terminal-safe first (no control or bidi characters), then escaped as the
workflow-command syntax requires, so a value can neither start a command nor break a line.
"""
from __future__ import annotations

from .model import _rows
from .safe import terminal
from .said import with_words

SHOW = 100
COMMAND = {"violation": "error", "suspect": "warning", "data_quality": "notice"}


def _data(s: str) -> str:
    return terminal(s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _prop(s: str) -> str:
    return _data(s).replace(":", "%3A").replace(",", "%2C")


def github_annotations(report, show: int = SHOW, lang: str = "zh") -> str:
    out = []
    total = report.active.num_rows
    for f in _rows(with_words(report.active.slice(0, show), report.rules, lang)):
        out.append(f"::{COMMAND[f.severity]} file={_prop(f.file)},title={_prop(f'{f.rule_id}@{f.contract_version} {f.severity}')}::"
                   f"{_data(f'row {f.row} mdtrt_id={f.mdtrt_id} feedetl_sn={f.feedetl_sn}: {f.message}')}")
    if total > show:
        out.append(f"::notice title=claimcheck::{total - show} more findings are not annotated "
                   f"(the first {show} are); see the JSON, SARIF or HTML report")
    for r in report.rules:
        if r.status == "error":
            out.append(f"::warning title={_prop(r.rule_id + '@' + r.contract_version + ' could not run')}::"
                       f"{_data(r.reason or '')}")
    return "\n".join(out)
