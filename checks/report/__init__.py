"""Our report model and the outputs built from it. Reporters never see engine objects."""
from .model import Finding, Report, RuleResult, SEVERITY_RANK

__all__ = ["Report", "RuleResult", "Finding", "SEVERITY_RANK"]


def write_outputs(report, *, json=None, html=None, lang="zh", junit=None, sarif=None, nhsa=None, findings=None):
    """Write every requested output of one report (each argument a file path, or None)."""
    if json:
        from .json_out import write_json
        write_json(report, json)
    if html:
        from .html_out import write_html
        write_html(report, html, lang)
    if junit:
        from .junit_out import write_junit
        write_junit(report, junit)
    if sarif:
        from .sarif_out import write_sarif
        write_sarif(report, sarif)
    if nhsa:
        from .nhsa_out import write_nhsa
        write_nhsa(report, nhsa)
    if findings:
        from .parquet_out import write_findings
        write_findings(report, findings)
