"""The survey: what must hold of every line before any rule runs, at the cost of a few scans.

- Row checks of the claim-line contract (not null, not blank, finite, readable partition values)
  run in one aggregate per file, with the first failing row. A check the file's own Parquet
  statistics prove cannot fail (no nulls; every text value starting past whitespace) is not run.
- Pattern checks (regions of six digits, risks 1:N) are judged on each file's distinct values,
  one GROUPING SETS scan for all of them.
- The same per-file aggregate counts the lines each contract version is in force for.
- One aggregate proves (mdtrt_id, feedetl_sn) unique, on keys normalised exactly as the engine
  and the ledger normalise them.
Value problems raise InputErrors naming file, column, rows and values; nothing is judged on a
batch that breaks the contract.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from ..claims import money, normal
from ..claims.fields import FIELDS, KEYS
from ..claims.values import compile_checks
from ..errors import InputError, InputErrors
from .cache import SurveyCache, scope_key
from .context import version_scope

SHOW = 3


@dataclass
class Survey:
    in_force: dict[str, int]                                  # contract key -> lines
    conventions: dict[int, dict[str, int]] = field(default_factory=dict)  # fid -> convention -> lines
    cached: bool = False                                      # everything proven before (engine/cache.py)
    fee_dates: dict[int, list] = field(default_factory=dict)  # fid -> [first, last] fee date (China time, ISO)

    def convention_of(self, fid: int) -> str:
        return money.file_convention(self.conventions.get(fid, {}))


def batch_fields(batch) -> set[str]:
    """Fields some file supplies (a column, even if empty, or a partition folder)."""
    return {f for cf in batch.files for f in cf.sources}


def _check_value(batch, name: str) -> str:
    """The value a check tests: text for codes and names, DOUBLE for numbers, as read otherwise."""
    raw = batch.raw(name)
    fam = FIELDS[name].family
    if fam in ("code", "text"):
        return f"CAST({raw} AS VARCHAR)"
    if fam == "number":
        return f"TRY_CAST({raw} AS DOUBLE)" if name in batch.partition_typed() else f"CAST({raw} AS DOUBLE)"
    return raw


def _may_fail(batch, check) -> bool:
    """False when every file's statistics prove `check` cannot fail there."""
    for cf in batch.files:
        src = cf.sources.get(check.field)
        if src is None:
            if check.name == "not_nullable":
                return True
            continue
        if src.partition:
            return True
        typ = cf.arrow_types.get(src.column)
        lo, hi, nulls = cf.stats.get(src.column, (None, None, None))
        if check.name == "not_nullable" and nulls != 0:
            return True
        if check.name == "finite" and (typ is None or pa.types.is_floating(typ)):
            return True
        if check.name == "not blank":
            text = typ is not None and (pa.types.is_string(typ) or pa.types.is_large_string(typ)
                                        or pa.types.is_dictionary(typ) or pa.types.is_string_view(typ))
            # a blank value starts with whitespace: below '!', or U+00A0 / U+3000, both >= U+00A0
            if text and not (isinstance(lo, str) and isinstance(hi, str) and lo >= "!" and hi < "\u00a0"):
                return True
        if check.name == "readable":
            return True
    return False


def _source(batch, present) -> str:
    inner = ["r.file_index AS _fid", "r.file_row_number + 1 AS _row"]
    inner += [f"{_check_value(batch, n)} AS v_{n}" for n in sorted(present)]
    inner += [f"CAST({batch.raw(n)} AS VARCHAR) AS p_{n}" for n in sorted(batch.partition_typed())]
    inner.append(f"{batch.value('mdtrtarea_admvs')} AS mdtrtarea_admvs")
    inner.append(f"CAST({batch.value('fee_ocur_time')} AS DATE) AS fee_date")
    return f"(SELECT {', '.join(inner)} FROM {batch.source_sql()} r) l"


def _col(check) -> str:
    return f"l.p_{check.field}" if check.name == "readable" else f"l.v_{check.field}"


def run_survey(con, batch, contracts, cache=None) -> Survey:
    """Check the batch's values and identities and count the lines in force, or take from
    `cache` (engine/cache.py) what was proven of these very files before."""
    cache = cache or SurveyCache(None)
    keys = {cf.fid: cache.file_key(cf) for cf in batch.hashed().files} if cache.on else {}
    known = {fid: cache.get(k) for fid, k in keys.items()}
    scopes = {c.key: scope_key(c) for c in contracts}
    checked = cache.on and all(known[cf.fid].get("checked") for cf in batch.files)
    counted = cache.on and all(s in known[cf.fid].get("in_force", {}) for cf in batch.files for s in scopes.values()) \
        and all("fee_dates" in known[cf.fid] for cf in batch.files)
    batch_key = cache.batch_key(batch) if cache.on else None
    unique = cache.on and (known[batch.files[0].fid].get("unique") if len(batch.files) == 1
                           else cache.get(batch_key).get("unique"))
    survey = Survey({c.key: 0 for c in contracts})
    survey.cached = checked and counted and bool(unique)
    if checked and counted:
        for cf in batch.files:
            for c in contracts:
                survey.in_force[c.key] += known[cf.fid]["in_force"][scopes[c.key]]
            survey.fee_dates[cf.fid] = known[cf.fid]["fee_dates"]
    else:
        per_file = _scan(con, batch, contracts, survey, check_values=not checked)
        for fid, counts in per_file.items():
            entry = known.setdefault(fid, {})
            entry["checked"] = True
            entry.setdefault("in_force", {}).update({scopes[k]: n for k, n in counts.items()})
            entry["fee_dates"] = survey.fee_dates.get(fid)
    if not unique:
        errors = duplicate_errors(con, batch)
        if errors:
            raise InputErrors(errors)
    if cache.on and not survey.cached:
        for cf in batch.files:  # the batch's identities are unique, so each file's are
            known[cf.fid]["unique"] = True
            cache.put(keys[cf.fid], known[cf.fid])
        if len(batch.files) > 1:
            cache.put(batch_key, {"unique": True})
    return survey


def _scan(con, batch, contracts, survey, check_values: bool = True) -> dict[int, dict[str, int]]:
    """The one scan: failing values per check and file (raised), lines in force per version."""
    present = batch_fields(batch)
    checks = compile_checks(present, batch.partition_typed()) if check_values else []
    rows_checks = [c for c in checks if c.name != "pattern" and _may_fail(batch, c)]
    patterns = [c for c in checks if c.name == "pattern"]
    src = _source(batch, present)
    aggs = ["count(*) AS n"]
    for c in rows_checks:
        aggs.append(f"count(*) FILTER (WHERE {c.sql(_col(c))})")
    aggs += [f"count(*) FILTER (WHERE {version_scope('l', c)})" for c in contracts]
    aggs += ["min(l.fee_date)", "max(l.fee_date)"]
    rows = con.execute(f"SELECT l._fid, {', '.join(aggs)} FROM {src} GROUP BY l._fid").fetchall()
    by_fid = {cf.fid: cf for cf in batch.files}
    errors, per_file = [], {cf.fid: {c.key: 0 for c in contracts} for cf in batch.files}
    for row in rows:
        cf = by_fid[row[0]]
        vals = row[2:]
        for k, c in enumerate(rows_checks):
            if vals[k]:
                errors.append(_row_error(con, batch, src, cf, c, vals[k]))
        base = len(rows_checks)
        for j, c in enumerate(contracts):
            n = int(vals[base + j] or 0)
            survey.in_force[c.key] += n
            per_file[cf.fid][c.key] = n
        first, last = row[-2], row[-1]
        survey.fee_dates[cf.fid] = [first.isoformat(), last.isoformat()] if first and last else None
    errors += _pattern_errors(con, batch, src, patterns)
    if errors:
        raise InputErrors(errors)
    return per_file


def _name(cf, field_: str) -> str:
    src = cf.sources.get(field_)
    return field_ if src is None or src.column == field_ else f"{field_} ({src.shown()})"


def _row_error(con, batch, src, cf, check, count: int) -> InputError:
    # an aggregate, not a WHERE: a pushed-down filter would let Parquet statistics (which leave
    # NaN out) skip the very row group that holds the NaN
    found = con.execute(f"SELECT list(struct_pack(r := l._row, v := {_col(check)}) ORDER BY l._row) "
                    f"FILTER (WHERE {check.sql(_col(check))}) FROM {src} WHERE l._fid = {cf.fid}").fetchall()[0][0]
    rows = [(x["r"], x["v"]) for x in (found or [])[:SHOW]]
    eg = "; ".join(f"row {r}: {_show(v)}" for r, v in rows)
    words = "must not be empty (null)" if check.name == "not_nullable" else check.words
    return InputError(cf.display, f"{count:,} value(s) fail '{words}'" + (f" (e.g. {eg})" if eg else ""),
                      _name(cf, check.field), rows[0][0] if rows else None)


def _pattern_errors(con, batch, src, patterns) -> list[InputError]:
    """Pattern checks on each file's distinct values (one scan for every patterned field)."""
    if not patterns:
        return []
    sets = ", ".join(f"(l._fid, {_col(c)})" for c in patterns)
    cols = ", ".join(_col(c) for c in patterns)
    fails = ", ".join(f"({c.sql(_col(c))})" for c in patterns)  # judged once per distinct value, in the scan
    found = con.execute(f"""SELECT l._fid, {cols}, {fails}, count(*), min(l._row) FROM {src}
                        GROUP BY GROUPING SETS ({sets})""").fetchall()
    by_path = {cf.fid: cf for cf in batch.files}
    bad: dict[tuple, list] = {}
    k = len(patterns)
    for row in found:
        path, values, failing, n, first = row[0], row[1:1 + k], row[1 + k:1 + 2 * k], row[-2], row[-1]
        for c, v, fails_ in zip(patterns, values, failing):
            if v is None:
                continue  # this grouping set is another field's, or the value is empty
            if fails_ is not False:  # a value the check cannot decide fails it
                bad.setdefault((path, c.field, c.words), []).append((first, v, n))
    out = []
    for (path, fld, words), hits in bad.items():
        cf = by_path[path]
        hits.sort()
        eg = "; ".join(f"row {r}: {_show(v)}" for r, v, _ in hits[:SHOW])
        total = sum(n for _, _, n in hits)
        out.append(InputError(cf.display, f"{total:,} value(s) fail '{words}' (e.g. {eg})", _name(cf, fld),
                              hits[0][0]))
    return out


def _show(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, float) and v != v:
        return "NaN"
    return repr(v)


def duplicate_errors(con, batch) -> list[InputError]:
    m, s = (normal.value(k, batch.raw(k)) for k in KEYS)
    n, distinct = con.execute(f"SELECT count(*), count(DISTINCT hash({m}, {s})) FROM {batch.source_sql()} r").fetchall()[0]
    if n == distinct:
        return []
    found = con.execute(f"""
        SELECT m, s, count(*) OVER () FROM (
            SELECT {m} AS m, {s} AS s FROM {batch.source_sql()} r GROUP BY 1, 2 HAVING count(*) > 1)
        ORDER BY m, s LIMIT 1""").fetchall()
    if not found:  # distinct hashes fewer than lines only through a hash collision: no duplicate
        return []
    mv, sv, pairs = found[0]
    where = con.execute(f"""SELECT r.filename, r.file_row_number + 1 FROM {batch.source_sql()} r
                            WHERE {m} = ? AND {s} = ? ORDER BY 1, 2 LIMIT 3""", [mv, sv]).fetchall()
    names = {cf.name: cf.display for cf in batch.files}
    at = ", ".join(f"{names.get(f, f)} row {r}" for f, r in where)
    return [InputError(names.get(where[0][0], where[0][0]),
                       f"(mdtrt_id, feedetl_sn) must be unique (compared without surrounding spaces): "
                       f"{pairs:,} pair(s) occur more than once, e.g. ({mv!r}, {sv!r}) at {at}",
                       "mdtrt_id, feedetl_sn")]
