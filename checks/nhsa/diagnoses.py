"""Every diagnosis of the encounter, for rules scoped by diagnosis.

A claim line carries one diagnosis (main_diag_code); a 3101/3102 request lists every diagnosis of
the encounter (fsi_diagnose_dtos). Where a policy says "diagnosed with", the indication may be a
secondary diagnosis: a rule that reads main_diag_code must not call a line at fault because its
indication was not the main one. So a finding of such a rule, on an encounter with several
diagnoses, stands only if the line is at fault whichever of its diagnoses is taken: the rule is
judged again with each further diagnosis in place of the main one, and a finding that any of
those judgements clears is dropped. (This reads every bundled diagnosis-scoped rule the way its
policy is written: the rule lists the indications that allow a payment. A rule that forbids a
payment for a diagnosis would want the opposite — the union — and none is bundled; a finding is
then at worst missed, never made up.)
"""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

DIAG = "main_diag_code"


def diagnosis_rules(contracts) -> set[tuple]:
    out = set()
    for c in contracts:
        for r in c.rules:
            cols = set(r.impl.reads()) | set(r.when.columns if r.when is not None else ())
            if DIAG in cols:
                out.add((c.id, c.version, r.id))
    return out


def _keys(t: pa.Table, rules: set) -> set[tuple]:
    cols = [t[c].to_pylist() for c in ("contract_id", "contract_version", "rule_id", "mdtrt_id", "feedetl_sn")]
    return {k for k in zip(*cols) if k[:3] in rules}


def every_diagnosis(findings: pa.Table, batch, contracts, judge) -> pa.Table:
    """`findings` without those of diagnosis-scoped rules that another diagnosis of the encounter
    clears; `judge(batch)` runs the engine on a batch and returns its findings."""
    from ..claims.source import ROW, open_table

    several = {m: codes for m, codes in (batch.diagnoses or {}).items() if len(codes) > 1}
    rules = diagnosis_rules(contracts)
    if not several or not rules or not findings.num_rows:
        return findings
    standing = {k for k in _keys(findings, rules) if k[3] in several}
    if not standing:
        return findings
    data = batch.data.drop_columns([ROW])
    mdtrt = data["mdtrt_id"].to_pylist()
    main = data[DIAG].to_pylist()
    for k in range(1, max(len(c) for c in several.values())):
        alt = [several[m][k] if m in several and k < len(several[m]) else d for m, d in zip(mdtrt, main)]
        variant = data.set_column(data.schema.get_field_index(DIAG), DIAG, pa.array(alt, data.schema.field(DIAG).type))
        again = open_table(variant, batch.files[0].display, batch.column_map)
        again.context_rows = batch.context_rows
        standing &= _keys(judge(again), rules)
    cleared = _keys(findings, rules) - standing
    cleared = {k for k in cleared if k[3] in several}
    if not cleared:
        return findings
    text = lambda c: pc.cast(findings[c], pa.string())  # noqa: E731
    key = pc.binary_join_element_wise(*(text(c) for c in ("contract_id", "contract_version", "rule_id", "mdtrt_id",
                                                         "feedetl_sn")), "\x1f")
    drop = pa.array(["\x1f".join(k) for k in cleared], pa.string())
    return findings.filter(pc.invert(pc.is_in(key, value_set=drop)))
