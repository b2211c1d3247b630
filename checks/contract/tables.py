"""Reference tables: CSV (or Parquet) files beside a contract's YAML, each row citing its source."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ContractError

if TYPE_CHECKING:
    import pyarrow as pa


MAX_TABLE_BYTES = 512 << 20
# columns a user-supplied table may leave out: its citations (filled as '<file> row N') and the
# dates its rows are valid on (empty: valid at any date)
OPTIONAL_USER_COLUMNS = ("source_row", "valid_from", "valid_to")


def load_table(path: Path, display: str, columns: dict[str, str], cite: bool = False,
               tolerate=frozenset()) -> pa.Table:
    """Read a reference table with the declared column types; `source_row` is always required.

    With `cite` (user-supplied tables) a missing source_row is filled with '<file> row N'. Columns in
    `tolerate` (those another version of the contract declares for the same table: the file beside the
    contract is shared by its versions) may be in the file undeclared; they are not read."""
    import pyarrow as pa  # here, not at the top: loading a contract need not read its tables
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from ..yamlsrc import read_regular

    declared = dict(columns)
    types = {"string": pa.string(), "number": pa.float64(), "integer": pa.int64(), "date": pa.date32()}
    if not path.exists():
        raise ContractError(display, "reference table file not found")
    raw = read_regular(path, display, limit=MAX_TABLE_BYTES)  # never a pipe, never unbounded
    try:
        if path.suffix.lower() == ".parquet":
            data = pq.read_table(pa.BufferReader(raw))
            data = data.drop_columns([c for c in data.column_names if c in tolerate and c not in columns])
        else:
            text = raw.decode("utf-8-sig")
            if not text.strip():
                raise ContractError(display, "reference table is empty (a header row is required)")
            header = text.splitlines()[0].split(",")
            if cite:  # a user's table may leave out its citations and the validity dates
                columns = {k: v for k, v in columns.items() if k in header or k not in OPTIONAL_USER_COLUMNS}
            unknown = [c for c in header if c not in columns and c not in tolerate]
            if unknown:
                raise ContractError(display, f"column {unknown[0]!r} is not declared in the contract",
                                    1, None, sorted(columns))
            absent = [c for c in columns if c not in header]
            if absent:
                raise ContractError(display, f"declared column {absent[0]!r} is missing (the contract declares "
                                             f"{', '.join(columns)})", 1)
            data = pacsv.read_csv(
                pa.BufferReader(raw),
                read_options=pacsv.ReadOptions(encoding="utf8"),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: types[t] for c, t in columns.items()},
                    strings_can_be_null=False, include_columns=list(columns),
                    null_values=[""],  # only an empty cell is empty: "nan", "NULL", "N/A" are values
                    include_missing_columns=False))
    except ContractError:
        raise
    except (pa.ArrowInvalid, pa.ArrowKeyError, OSError, UnicodeDecodeError, IndexError) as e:
        raise ContractError(display, f"cannot read reference table: {e}") from None
    for name, typ in columns.items():
        if name not in data.column_names and not (cite and name in OPTIONAL_USER_COLUMNS):
            raise ContractError(display, f"declared column {name!r} is missing", 1, None, data.column_names)
    import pyarrow.compute as pc

    for name, typ in columns.items():
        if typ in ("number", "integer", "date") and name in data.column_names:
            col = data.column(name)
            # NaN or infinity would make every comparison with it false; an empty cell is allowed (a
            # rule reading it cannot judge the line, and says so)
            if typ != "number":
                continue
            bad = pc.invert(pc.is_finite(col))  # null where the cell is empty (and any() skips those)
            if pc.any(bad).as_py():
                i = pc.index(bad, True).as_py()
                raise ContractError(display, f"column {name!r}, row {i + 1}: {col[i].as_py()!r} is not a finite "
                                    "number (leave the cell empty where the document gives none)", i + 2)
    if cite and "source_row" not in data.column_names:
        data = data.append_column("source_row", pa.array([f"{path.name} row {i + 1}" for i in range(data.num_rows)]))
    for name in ("valid_from", "valid_to"):  # left out of a user's table: every row valid at any date
        if cite and name in declared and name not in data.column_names:
            data = data.append_column(name, pa.nulls(data.num_rows, pa.date32()))
    if "source_row" not in data.column_names:
        raise ContractError(display, "every reference table needs a source_row column citing its attachment row")
    blanks = [i for i, v in enumerate(data.column("source_row").to_pylist()) if not v]
    if blanks:
        raise ContractError(display, f"row {blanks[0] + 1} has no source_row: every row must cite its source",
                            blanks[0] + 2)
    return data
