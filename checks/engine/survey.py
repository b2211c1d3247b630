"""The survey: one scan over every line of the batch, before any rule runs.

It counts, per file, the values failing each check of the claim-line contract (with the first
failing row), the lines each money convention fits (checks/claims/money.py), and the lines each
contract version is in force for. A second aggregate proves (mdtrt_id, feedetl_sn) unique, on keys
normalised exactly as the engine and the ledger normalise them. Value problems raise InputErrors
naming file, column, rows and values; nothing is judged on a batch that breaks the contract.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from ..claims import money, normal
from ..claims.fields import FIELDS, KEYS
from ..claims.values import compile_checks
from ..errors import InputError, InputErrors
from .context import version_scope

SHOW = 3


@dataclass
class Survey:
    in_force: dict[str, int]                                  # contract key -> lines
    conventions: dict[int, dict[str, int]] = field(default_factory=dict)  # fid -> convention -> lines

    def convention_of(self, fid: int) -> str:
        return money.file_convention(self.conventions.get(fid, {}))


def _check_value(batch, name: str) -> str:
    """The value a check tests: text for codes and names, DOUBLE for numbers, as read otherwise."""
    raw = batch.raw(name)
    fam = FIELDS[name].family
    if fam in ("code", "text"):
        return f"CAST({raw} AS VARCHAR)"
    if fam == "number":
        return f"TRY_CAST({raw} AS DOUBLE)" if name in batch.partition_typed() else f"CAST({raw} AS DOUBLE)"
    return raw


def _floating(batch, name: str) -> bool:
    """Whether some file gives `name` a type that can hold NaN or infinity."""
    import pyarrow.parquet as pq  # noqa: F401  (schemas were read at open_batch)
    for cf in batch.files:
        src = cf.sources.get(name)
        if src is None:
            continue
        if src.partition:
            return True
        t = cf.arrow_types.get(src.column)
        if t is not None and (pa.types.is_floating(t) or pa.types.is_null(t)):
            return True
    return False


def run_survey(con, batch, contracts) -> Survey:
    checks = [c for c in compile_checks(batch_fields(batch), batch.partition_typed())
              if c.name != "finite" or _floating(batch, c.field)]
    v = {name: f"v_{name}" for name in FIELDS}
    inner = [f"r.filename AS _path", "r.file_row_number + 1 AS _row"]
    for name in batch_fields(batch):
        inner.append(f"{_check_value(batch, name)} AS v_{name}")
    for name in batch.partition_typed():
        inner.append(f"CAST({batch.raw(name)} AS VARCHAR) AS p_{name}")
    inner.append(f"{batch.value('mdtrtarea_admvs')} AS mdtrtarea_admvs")
    inner.append(f"CAST({batch.value('fee_ocur_time')} AS DATE) AS fee_date")
    present = batch_fields(batch)
    conv = money.convention(lambda n: f"l.v_{n}" if n in present else "CAST(NULL AS DOUBLE)")
    aggs = ["count(*) AS n"]
    for k, c in enumerate(checks):
        col = f"l.p_{c.field}" if c.name == "readable" else f"l.{v[c.field]}"
        aggs.append(f"count(*) FILTER (WHERE {c.sql(col)}) AS e{k}")
        aggs.append(f"min(l._row) FILTER (WHERE {c.sql(col)}) AS m{k}")
    conventions = [money.EXCL, money.INCL, money.EITHER, money.NEITHER]
    aggs += [f"count(*) FILTER (WHERE {conv} = '{x}') AS c_{x}" for x in conventions]
    aggs += [f"count(*) FILTER (WHERE {version_scope('l', c)}) AS v{j}" for j, c in enumerate(contracts)]
    sql = (f"SELECT l._path, {', '.join(aggs)} FROM (SELECT {', '.join(inner)} FROM {batch.source_sql()} r) l "
           f"GROUP BY l._path")
    rows = con.sql(sql).fetchall()
    by_path = {str(cf.path): cf for cf in batch.files}
    in_force = {c.key: 0 for c in contracts}
    survey = Survey(in_force)
    errors = []
    for row in rows:
        cf = by_path[row[0]]
        vals = row[2:]
        for k, c in enumerate(checks):
            count, first = vals[2 * k], vals[2 * k + 1]
            if count:
                errors.append(_value_error(con, batch, cf, c, count, inner))
        base = 2 * len(checks)
        survey.conventions[cf.fid] = {x: int(vals[base + i] or 0) for i, x in enumerate(conventions)}
        base += len(conventions)
        for j, c in enumerate(contracts):
            in_force[c.key] += int(vals[base + j] or 0)
    if errors:
        raise InputErrors(errors)
    errors = duplicate_errors(con, batch)
    if errors:
        raise InputErrors(errors)
    return survey


def batch_fields(batch) -> set[str]:
    """Fields some file supplies (a column, even if empty, or a partition folder)."""
    return {f for cf in batch.files for f in cf.sources}


def _value_error(con, batch, cf, check, count: int, inner: list[str]) -> InputError:
    col = f"l.p_{check.field}" if check.name == "readable" else f"l.v_{check.field}"
    path = str(cf.path).replace("'", "''")
    rows = con.sql(f"SELECT l._row, {col} FROM (SELECT {', '.join(inner)} FROM {batch.source_sql()} r) l "
                   f"WHERE l._path = '{path}' AND {check.sql(col)} ORDER BY l._row LIMIT {SHOW}").fetchall()
    eg = "; ".join(f"row {r}: {_show(v)}" for r, v in rows)
    src = cf.sources.get(check.field)
    name = check.field if src is None or src.column == check.field else f"{check.field} ({src.shown()})"
    words = "must not be empty (null)" if check.name == "not_nullable" else check.words
    return InputError(cf.display, f"{count:,} value(s) fail '{words}'" + (f" (e.g. {eg})" if eg else ""),
                      name, rows[0][0] if rows else None)


def _show(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, float) and v != v:
        return "NaN"
    return repr(v)


def duplicate_errors(con, batch) -> list[InputError]:
    m, s = (normal.value(k, batch.raw(k)) for k in KEYS)
    n, distinct = con.sql(f"SELECT count(*), count(DISTINCT hash({m}, {s})) FROM {batch.source_sql()} r").fetchall()[0]
    if n == distinct:
        return []
    found = con.sql(f"""
        SELECT m, s, count(*) OVER () FROM (
            SELECT {m} AS m, {s} AS s FROM {batch.source_sql()} r GROUP BY 1, 2 HAVING count(*) > 1)
        ORDER BY m, s LIMIT 1""").fetchall()
    if not found:  # distinct hashes fewer than lines only through a hash collision: no duplicate
        return []
    mv, sv, pairs = found[0]
    where = con.execute(f"""SELECT r.filename, r.file_row_number + 1 FROM {batch.source_sql()} r
                            WHERE {m} = ? AND {s} = ? ORDER BY 1, 2 LIMIT 3""", [mv, sv]).fetchall()
    names = {str(cf.path): cf.display for cf in batch.files}
    at = ", ".join(f"{names.get(f, f)} row {r}" for f, r in where)
    return [InputError(names.get(where[0][0], where[0][0]),
                       f"(mdtrt_id, feedetl_sn) must be unique (compared without surrounding spaces): "
                       f"{pairs:,} pair(s) occur more than once, e.g. ({mv!r}, {sv!r}) at {at}",
                       "mdtrt_id, feedetl_sn")]
