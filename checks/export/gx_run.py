"""Run an exported suite with Great Expectations on a pandas DataFrame of claim lines.

    import json, pandas as pd
    from checks.export.gx_run import run_suite
    suite = json.load(open("gx/jiangsu-nipt-1.0.0.json", encoding="utf-8"))
    result = run_suite(suite, pd.read_parquet("claims.parquet"))
    result.findings["JS-4"]   # {(mdtrt_id, feedetl_sn), …}

The suite is loaded with GX as it is (`gx.ExpectationSuite(**json)`), the DataFrame gets the
suite's normalised columns and helper columns (frame.prepare), and one whole-DataFrame batch of
an ephemeral context's pandas data source is validated with result_format COMPLETE and
unexpected_index_column_names = the line keys. Progress bars are off.
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

from .frame import prepare


@dataclass
class SuiteRun:
    findings: dict[str, set[tuple]]                         # rule id -> failing line keys
    errors: dict[str, list[str]] = field(default_factory=dict)  # rule id -> expectations that raised
    expectations: int = 0


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


def run_suite(suite: dict, df: pd.DataFrame, keys: list[str] | None = None, ctx=None) -> SuiteRun:
    meta = suite["meta"]["claimcheck"]
    keys = keys or meta["keys"]
    frame = prepare(df, meta["frame"])
    ctx = ctx or context()
    name = suite["name"]
    source = ctx.data_sources.add_or_update_pandas(f"claims {name}")
    asset = source.add_dataframe_asset(f"lines {name}")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        result = batch.validate(load_suite(suite), result_format={
            "result_format": "COMPLETE", "unexpected_index_column_names": list(keys)})
    out = SuiteRun({r: set() for r in meta["exported_rules"]}, expectations=len(result.results))
    for r in result.results:
        rule = r.expectation_config.meta["rule_id"]
        info = r.exception_info or {}
        raised = [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
        if info.get("raised_exception"):
            raised.append(info)
        if raised:
            out.errors.setdefault(rule, []).append(
                f"{r.expectation_config.type}: {raised[0].get('exception_message')}")
            continue
        for row in r.result.get("unexpected_index_list") or []:
            out.findings[rule].add(tuple(row[k] for k in keys))
    return out
