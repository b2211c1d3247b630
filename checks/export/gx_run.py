"""Run an exported suite with Great Expectations on a pandas DataFrame of claim lines.

    import json, pyarrow.parquet as pq
    from checks.export.gx_run import run_suite
    suite = json.load(open("gx/jiangsu-nipt-1.0.0.json", encoding="utf-8"))
    result = run_suite(suite, {"claims.parquet": pq.read_table("claims.parquet")})
    result.findings["JS-4"]   # {("claims.parquet", mdtrt_id, feedetl_sn): "violation", …}

The suite is loaded with GX as it is (`gx.ExpectationSuite(**json)`), the frame is computed by
frame.prepare (claimcheck's own SQL for the normalised, derived and helper columns), and one
whole-DataFrame batch of an ephemeral context's pandas data source is validated with
result_format COMPLETE and unexpected_index_column_names = claim_file and the line keys. A
finding's severity is the severity in the meta of the expectation it fails. Progress bars are off.
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import great_expectations as gx
from great_expectations.data_context.types.base import ProgressBarsConfig

from .frame import prepare


@dataclass
class SuiteRun:
    findings: dict[str, dict[tuple, str]]                   # rule id -> {(claim_file, *keys): severity}
    errors: dict[str, list[str]] = field(default_factory=dict)  # rule id -> expectations that raised
    expectations: int = 0
    lines: int = 0


class SuiteLoadError(ValueError):
    pass


def load_suite(suite: dict):
    """The suite as a GX object; GX logs and drops an expectation it cannot read, so count them."""
    obj = gx.ExpectationSuite(**suite)
    if len(obj.expectations) != len(suite["expectations"]):
        raise SuiteLoadError(f"suite {suite['name']}: GX loaded {len(obj.expectations)} of "
                             f"{len(suite['expectations'])} expectations")
    return obj


def context():
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return ctx


def validate(suite: dict, frame, ctx=None) -> SuiteRun:
    """Validate an already prepared frame (frame.prepare) with GX."""
    keys = ["claim_file", *suite["meta"]["claimcheck"]["keys"]]
    ctx = ctx or context()
    name = suite["name"]
    source = ctx.data_sources.add_or_update_pandas(f"claims {name}")
    asset = source.add_dataframe_asset(f"lines {name}")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        result = batch.validate(load_suite(suite), result_format={
            "result_format": "COMPLETE", "unexpected_index_column_names": keys})
    out = SuiteRun({r: {} for r in suite["meta"]["claimcheck"]["exported_rules"]},
                   expectations=len(result.results), lines=len(frame))
    for r in result.results:
        meta = r.expectation_config.meta
        info = r.exception_info or {}
        raised = [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
        if info.get("raised_exception"):
            raised.append(info)
        if raised:
            out.errors.setdefault(meta["rule_id"], []).append(
                f"{r.expectation_config.type}: {raised[0].get('exception_message')}")
            continue
        for row in r.result.get("unexpected_index_list") or []:
            out.findings[meta["rule_id"]][tuple(row[k] for k in keys)] = meta["severity"]
    return out


def run_suite(suite: dict, files, ctx=None, **options) -> SuiteRun:
    """prepare() the frame of `files` (options: contracts, tables, columns) and validate it."""
    return validate(suite, prepare(files, suite, **options), ctx)
