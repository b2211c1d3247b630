"""Our report model and the outputs built from it. Reporters never see engine objects.

Every writer takes the report and a target path, where `-` means standard output. A file is
written beside its target under a temporary name and renamed when complete, so an interrupted
run never leaves half a report, and nothing is overwritten until the new one is whole.
"""
from __future__ import annotations

__all__ = ["Report", "RuleResult", "Finding", "SEVERITY_RANK", "FINDING_SCHEMA", "write_outputs", "FORMATS"]


def __getattr__(name):  # the model needs pyarrow: load it only when asked (explain, kinds do not)
    if name in ("Report", "RuleResult", "Finding", "SEVERITY_RANK", "FINDING_SCHEMA"):
        from . import model
        return getattr(model, name)
    raise AttributeError(name)

# option name -> (module, function); the order is the order they are written in
FORMATS = {
    "json": ("json_out", "write_json"),
    "html": ("html_out", "write_html"),
    "junit": ("junit_out", "write_junit"),
    "sarif": ("sarif_out", "write_sarif"),
    "nhsa": ("nhsa_out", "write_nhsa"),
    "findings": ("parquet_out", "write_findings"),
}


def write_outputs(report, targets: dict, lang: str = "zh", nhsa_codes=None) -> list[tuple[str, str]]:
    """Write every requested output ({format: path or '-'}); return [(format, where)] written.
    `nhsa_codes`: the national answer's code map (checks/report/nhsa_out.py load_codes)."""
    import importlib

    from .spool import release

    written = []
    for fmt, (mod, fn) in FORMATS.items():
        path = targets.get(fmt)
        if not path:
            continue
        writer = getattr(importlib.import_module(f"{__name__}.{mod}"), fn)
        if fmt == "nhsa":
            writer(report, path, nhsa_codes, lang)
        else:
            writer(report, path, lang)  # every text a person reads is in words, in the report's language
        release()  # what a writer read of a findings file leaves the process with it (spool.py)
        written.append((fmt, "standard output" if str(path) == "-" else str(path)))
    return written
