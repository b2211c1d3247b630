"""Which column of each claim file supplies which national field.

National names (FIELDS) match case-insensitively: Oracle-based systems export `MDTRT_ID`,
`HILIST_CODE`. Anything else is mapped with `--columns MAP.yaml`, one line per field, the national
name on the left and the file's column name (or a list of alternatives) on the right:

    mdtrt_id: 就诊ID
    fixmedins_name: [医疗机构名称, HOSP_NAME]

A column headed with the field's Chinese name as the national interface documents write it
(就诊ID, 费用明细流水号, 医保目录编码 …; FIELDS[...].zh, without its bracketed gloss), as many HIS
exports head their columns, supplies that field without a map; compared without spaces and with
half-width brackets. A map line for the field wins over it. A hive partition folder `key=value`
supplies a field too. A field supplied twice in one file (two
columns, or a column and a partition folder) is an error naming both, never a silent choice.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ContractError, InputError
from ..suggest import did_you_mean
from .fields import DERIVED, FIELDS


@dataclass(frozen=True)
class Source:
    field: str
    column: str            # the file's column name, or the partition key
    partition: bool = False
    mapped: bool = False   # named by the user's map, or by the field's Chinese name, not by the national name
    chinese: bool = False  # headed with the field's Chinese name

    def shown(self) -> str:
        if self.partition:
            return f"partition folder {self.column}=…"
        if self.chinese:
            return f"column {self.column} (the Chinese name of {self.field})"
        return f"column {self.column}" + (f" (mapped to {self.field})" if self.mapped else "")


def _plain(name: str) -> str:
    return "".join(str(name).split()).replace("（", "(").replace("）", ")").lower()


def chinese_name(field: str) -> str:
    """The national field's Chinese name as interface documents head a column: 就诊ID, 单价."""
    return FIELDS[field].zh.split("（")[0]


CHINESE = {_plain(chinese_name(f)): f for f in FIELDS}


def load_column_map(path: str | Path) -> dict[str, list[str]]:
    """Read MAP.yaml: {national field: [file column, ...]}; errors are located (file:line:col)."""
    from ..yamlsrc import load_yaml

    data, loc = load_yaml(Path(path), str(path))
    if not isinstance(data, dict):
        raise loc.error((), "a column map is a mapping: national field name: the file's column name")
    out: dict[str, list[str]] = {}
    taken: dict[str, str] = {}
    for field, value in data.items():
        if field in DERIVED:
            raise loc.error((field,), f"{field} is derived by claimcheck and cannot be mapped")
        if field not in FIELDS:
            raise loc.error((field,), f"{field!r} is not a national field name{did_you_mean(str(field), FIELDS)}",
                            sorted(FIELDS))
        names = value if isinstance(value, list) else [value]
        if not names or not all(isinstance(n, (str, int)) and str(n).strip() for n in names):
            raise loc.error((field,), f"{field}: give the file's column name (text) or a list of names")
        for n in map(str, names):
            if n.lower() in taken and taken[n.lower()] != field:
                raise loc.error((field,), f"column {n!r} is mapped to both {taken[n.lower()]} and {field}")
            taken[n.lower()] = field
        out[field] = [str(n) for n in names]
    return out


def resolve(display: str, columns: list[str], partitions: dict[str, str], column_map: dict[str, list[str]],
            partition_dirs: dict[str, str] | None = None) -> tuple[dict[str, Source], list[InputError]]:
    """{field: Source} for one file, and every ambiguity found (each naming the file and both names)."""
    errors: list[InputError] = []
    lower: dict[str, list[str]] = {}
    for c in columns:
        lower.setdefault(c.lower(), []).append(c)
    for names in lower.values():
        if len(names) > 1:
            errors.append(InputError(display, f"columns {' and '.join(repr(n) for n in names)} differ only in "
                                     "case (or are the same name twice): name each column once", names[0]))
    mapped_cols = {n.lower(): f for f, ns in column_map.items() for n in ns}
    parts = {k.lower(): (k, v) for k, v in partitions.items()}
    out: dict[str, Source] = {}
    for field in FIELDS:
        found: list[Source] = []
        for n in column_map.get(field, []):
            if n.lower() in lower:
                found.append(Source(field, lower[n.lower()][0], mapped=True))
            if n.lower() in parts:
                found.append(Source(field, parts[n.lower()][0], partition=True, mapped=True))
        if field in lower and mapped_cols.get(field) in (None, field):
            found.append(Source(field, lower[field][0]))
        if field in parts and mapped_cols.get(field) in (None, field):
            found.append(Source(field, parts[field][0], partition=True))
        if field not in column_map:
            found += [Source(field, c, mapped=True, chinese=True) for c in columns
                      if CHINESE.get(_plain(c)) == field and c.lower() not in mapped_cols and c.lower() != field]
        if len(found) > 1:
            where = " and ".join(s.shown() for s in found)
            if any(s.partition for s in found) and partition_dirs:
                key = next(s.column for s in found if s.partition)
                where += f" (folder {partition_dirs.get(key, key)})"
            errors.append(InputError(display, f"{where} both supply {field} ({FIELDS[field].zh}): keep one, "
                                     "or map the one to use with --columns", field))
        elif found:
            out[field] = found[0]
    return out, errors


def check_map_is_used(column_map: dict[str, list[str]], used: set[str], map_display: str) -> list[ContractError]:
    """A mapped name that no claim file has is almost always a typo: say so."""
    return [ContractError(map_display, f"{field}: no claim file has a column named "
                                       f"{' or '.join(repr(n) for n in names)}")
            for field, names in column_map.items() if field not in used]
