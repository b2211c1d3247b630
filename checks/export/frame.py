"""The claim-line frame an exported suite runs on, computed with claimcheck's own SQL.

    frame = prepare({"claims.parquet": pyarrow.parquet.read_table("claims.parquet")}, suite)

Every value GX compares is the value claimcheck compares, because the engine's own builders
compute it here, in DuckDB, before validation:
- claim columns found as claimcheck finds them (national names in any case, or a column map) and
  normalised as its `lines` are (checks/claims/batch.py Batch.value, engine lines_select): codes
  trimmed text, numbers DOUBLE, times China local time, absent or all-empty columns NULL;
- `fee_date`; `inpolicy_amt` by checks/claims/money.py, each file's convention decided over the
  lines the contract's rules read (engine candidates() and companions, as a check of this
  contract does); `institution` and `institution_via` by checks/engine/identity.py;
- the suite's helper columns: SQL the export wrote from the kinds' and the condition language's
  own SQL (limits, amounts, tolerances, condition values, the kind's narrowing), evaluated over
  the engine's `lines` with the rules' reference-table lookups joined (checks/engine/lookups.py).
The contract version (and the user tables it was exported with) must be at hand: the suite is
planned again from it and must name the same helper columns, so a suite and its frame cannot
drift apart. Give one table per claim file: a file's money convention is the file's. Arrow tables
keep the file's types exactly; a pandas DataFrame read with numpy types turns an integer code
column with empty cells into floats ('1.0'), which is not what claimcheck reads from the file.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from ..claims import money, normal
from ..claims.batch import Batch, ClaimFile
from ..claims.columns import load_column_map, resolve
from ..claims.fields import FIELDS
from ..claims.structure import structure_errors
from ..contract.loader import default_contracts_dir, load_contracts, supply_tables
from ..engine import identity
from ..engine.duckdb.run import connect
from ..engine.plan import candidates, lines_select, plan as plan_rules
from ..engine.context import RuleContext, code_set_columns
from ..engine.lookups import Lookups, normalised_column
from ..kinds._common import q
from .gx_context import slug, table_names
from .plan import KEYS, plan_contracts

DERIVED_OUT = ["fee_date", "inpolicy_amt", "institution", "institution_via"]
ROW = "__claimcheck_row"  # the line's position in its table, added before DuckDB reads it


class FrameError(ValueError):
    """The frame cannot be made for this suite (another contract, a table missing, bad input)."""


@dataclass
class _FrameBatch(Batch):
    view: str = ""

    def source_sql(self) -> str:
        return f"(SELECT *, {self.files[0].fid} AS file_index, {ROW} AS file_row_number FROM {self.view})"


def prepare(files, suite: dict, *, contracts=None, tables: dict | None = None, columns=None,
            memory_limit: str | None = None):
    """A pandas DataFrame of every claim line (normalised columns, derived and helper columns, and
    `claim_file`, the name of its file) for validating `suite`. `files`: an Arrow table or pandas
    DataFrame, or {file name: table}; `contracts`: the contracts folder (default: the bundled
    ones); `tables`: user tables by name, as `--table`; `columns`: a column map, as `--columns`
    (MAP.yaml, or its dict)."""
    meta = suite["meta"]["claimcheck"]
    versions, plan = _plan(meta, contracts, tables or {})
    spec = plan.frame_spec()
    if spec != meta["frame"]:
        raise FrameError(f"suite {suite.get('name')}: {_difference(meta['frame'], spec)}; export the suite again "
                         f"from this contract version")
    if not isinstance(files, dict):
        files = {"frame": files}
    if not files:
        raise FrameError("no claim lines given: pass a table, or {file name: table}")
    if isinstance(columns, (str, Path)):
        columns = load_column_map(columns)
    tmp = tempfile.mkdtemp(prefix="claimcheck-gx-")
    con = connect(None, memory_limit, tmp)
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")
    try:
        return _frame(con, files, versions, plan, columns or {})
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _plan(meta: dict, contracts, tables: dict):
    cid, version = meta["contract_id"], meta["version"]
    root = Path(contracts) if contracts else default_contracts_dir()
    folder = root / cid if (root / cid).is_dir() else root
    versions = [v for v in load_contracts(folder) if v.id == cid]
    declared = {t.name for v in versions for t in v.tables.values() if t.supplied_by_user}
    mine = {k: p for k, p in tables.items() if k.rpartition(".")[2] in declared and k.rpartition(".")[0] in ("", cid)}
    supply_tables(versions, mine)
    missing = sorted(set(meta["frame"].get("tables_supplied", [])) - {k.rpartition(".")[2] for k in mine})
    if missing:
        raise FrameError(f"the suite {cid}@{version} was exported with the user table(s) {', '.join(missing)}: "
                         f"give them as tables={{{', '.join(repr(m) + ': PATH' for m in missing)}}}")
    plans = [p for p in plan_contracts(versions) if p.contract.version == version]
    if not plans:
        raise FrameError(f"contract {cid} has no version {version} in {folder}")
    return versions, plans[0]


def _difference(want: dict, got: dict) -> str:
    for key in ("contract_id", "version", "tables_supplied", "columns"):
        if want.get(key) != got.get(key):
            return f"the suite's frame {key} is {want.get(key)!r}, the contract's {got.get(key)!r}"
    names = {h["name"]: h for h in got["helpers"]}
    for h in want.get("helpers", []):
        if names.get(h["name"]) != h:
            return f"helper column {h['name']} differs from the contract's ({names.get(h['name'], 'none')})"
    return "the contract's plan names helper columns the suite lacks"


def _claim_file(i: int, name: str, data, column_map: dict) -> tuple[ClaimFile, set[str]]:
    cols = [str(c) for c in data.columns] if not isinstance(data, pa.Table) else data.column_names
    sources, errors = resolve(name, cols, {}, column_map)
    if not errors:  # the structure claimcheck demands of a claim file: the fields, of the right types
        schema = data.schema if isinstance(data, pa.Table) else pa.Schema.from_pandas(data, preserve_index=False)
        errors = structure_errors(name, schema, sources)
    if errors:
        raise FrameError("\n".join(str(e) for e in errors))
    rows = data.num_rows if isinstance(data, pa.Table) else len(data)
    empty = set()
    for f, s in sources.items():
        if isinstance(data, pa.Table):
            col = data.column(s.column)
            blank = pa.types.is_null(col.type) or col.null_count == rows
        else:
            blank = bool(data[s.column].isna().all())
        if blank:
            empty.add(f)
    return ClaimFile(Path(name), name, rows, cols, sources, empty=empty, fid=i), {f for f in sources if f not in empty}


def _frame(con, files: dict, versions, plan, column_map: dict):
    c = plan.contract
    names = {}
    for j, v in enumerate(versions):
        own = table_names(v) if v is c else {t: f"ref{j}_{slug(t)}" for t in v.tables}
        for t in v.tables.values():
            if t.data is not None:
                con.register(own[t.name], t.data)
            names[(v.key, t.name)] = own[t.name]
    selects, fields = [], set()
    for i, (name, data) in enumerate(files.items()):
        cf, supplied = _claim_file(i, name, data, column_map)
        fields |= supplied
        rows = pa.array(range(cf.rows), pa.int64())
        con.register(f"claims_{i}", data.append_column(ROW, rows) if isinstance(data, pa.Table)
                     else data.assign(**{ROW: rows.to_numpy()}))
        batch = _FrameBatch([cf], False, column_map, view=f"claims_{i}")
        selects.append(lines_select(batch, read_columns(versions, plan), True))
    union = " UNION ALL BY NAME ".join(f"({s})" for s in selects)

    # the lines a check of this contract reads: what a file's money convention is decided over
    lookups = Lookups()
    ctxs = {p.index: (p, RuleContext(p.rule, p.contract, {}, lookups, fields, blocked=p.blocked))
            for p in plan_rules(versions) if p.index is not None}
    item, others, regions = candidates(ctxs, versions)
    cand = f"({item} OR {others}) AND {regions}"
    text = "".join(f", {normal.name(f'l.{q(col)}')} AS {q(normalised_column(col))}"
                   for col in sorted(plan.ctx.lookups.text_columns()))
    con.execute(f"CREATE TEMP TABLE lines_t AS SELECT l.*, coalesce({cand}, FALSE) AS _cand{text} FROM ({union}) l")
    for p, ctx in ctxs.values():  # lines read only beside others of their visit (engine/plan.py, companions_in_scan)
        for own, trigger in (p.rule.impl.companions(ctx) or []) if not p.blocked else []:
            con.execute(f"""UPDATE lines_t AS u SET _cand = TRUE WHERE NOT u._cand AND {ctx.codes('u', own)}
                AND {ctx.jurisdiction('u')} AND u.mdtrt_id IN (SELECT DISTINCT t.mdtrt_id FROM lines_t t
                WHERE t._cand AND {ctx.jurisdiction('t')} AND {ctx.codes('t', trigger)})""")
    counts: dict[int, dict] = {}
    for fid, conv, n in con.sql("SELECT _fid, _conv, count(*) FROM lines_t WHERE _cand GROUP BY ALL").fetchall():
        counts.setdefault(fid, {})[conv] = n
    con.register("files_src", pa.table({"fid": list(range(len(files))), "name": list(files),
                                        "convention": [money.file_convention(counts.get(i, {}))
                                                       for i in range(len(files))]}))
    con.execute("CREATE TEMP TABLE files AS SELECT * FROM files_src")
    identity.attach(con, versions, names)
    v = lambda n: f"l.{n}"  # noqa: E731
    con.execute(f"CREATE TEMP VIEW lines AS SELECT l.*, {money.inpolicy(v, 'l._conv', 'f.convention')} "
                f"AS inpolicy_amt FROM lines_t l LEFT JOIN files f ON f.fid = l._fid")
    for lk in plan.ctx.lookups.all:
        con.execute(lk.create_sql())

    spec = plan.frame_spec()
    out = ["fl.name AS claim_file"]
    out += [f"l.{q(col)}" for col in sorted(set(spec["columns"]) | set(KEYS) | set(DERIVED_OUT))]
    for h in spec["helpers"]:
        sql = ("TRUE" if h["sql"] in fields else "FALSE") if h["op"] == "supplied" else h["sql"]
        out.append(f"({sql}) AS {q(h['name'])}")
    joins = "".join(lk.join("l") for lk in plan.ctx.lookups.all)
    table = con.sql(f"SELECT {', '.join(out)} FROM lines l{joins} JOIN files fl ON fl.fid = l._fid "
                    f"ORDER BY l._fid, l._row").to_arrow_table()
    return plain(table.to_pandas(date_as_object=False))


def read_columns(versions, plan) -> set[str]:
    """The claim fields the frame needs: what any rule of the contract reads (its `when`, and
    every column its SQL reads, lookup keys included), the money parts, what identity and the
    candidates read, and what the suite names."""
    cols = set(plan.frame_spec()["columns"]) | set(money.PARTS) | set(identity.KEYS)
    cols |= {"mdtrt_id", "feedetl_sn", "psn_no", "fee_ocur_time", "hilist_code", "hilist_name", "mdtrtarea_admvs"}
    for v in versions:
        for r in v.rules:
            cols |= set(r.impl.reads()) | set(r.when.columns if r.when is not None else ())
            cols |= code_set_columns(v, r.codes)
    return cols & set(FIELDS)


def plain(df):
    """NULL as None (booleans) or NaN (integers), so that no pandas comparison meets <NA>: a
    comparison with a missing value is then False, as the row conditions are written."""
    for col in df.columns:
        dtype = str(df[col].dtype)
        if dtype == "boolean":
            df[col] = df[col].astype(object).where(df[col].notna(), None)
        elif dtype.startswith(("Int", "UInt")):
            df[col] = df[col].astype("float64")
    return df
