"""YAML loading that remembers where every value came from.

`load_yaml` returns plain Python data (dicts, lists, str, int, float, bool, None; dates become
ISO strings) and a `Locator` that maps a path such as ("rules", 3, "kind") to its line and column,
so that every contract error can point at the exact place in the file.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from .errors import ContractError

Path_ = tuple


class Locator:
    def __init__(self, file: str):
        self.file = file
        self.marks: dict[Path_, tuple[int, int]] = {}

    def where(self, path: Path_) -> tuple[int | None, int | None]:
        path = tuple(path)
        while path not in self.marks and path:
            path = path[:-1]
        return self.marks.get(path, (None, None))

    def error(self, path: Path_, message: str, choices=None) -> ContractError:
        line, col = self.where(path)
        return ContractError(self.file, message, line, col, choices)


def dotted(path: Path_) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top)"


def load_yaml(file: Path, display: str | None = None):
    display = display or str(file)
    loc = Locator(display)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ContractError(display, f"cannot read: {e}") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml when present: 10x faster
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ContractError(display, f"not valid YAML: {getattr(e, 'problem', e)}",
                            mark.line + 1 if mark else None, mark.column + 1 if mark else None) from None
    finally:
        loader.dispose()
    if node is None:
        raise ContractError(display, "empty file")

    def conv(n, path):
        loc.marks[path] = (n.start_mark.line + 1, n.start_mark.column + 1)
        if isinstance(n, yaml.MappingNode):
            out = {}
            for k, v in n.value:
                key = loader.construct_object(k, deep=True)
                if not isinstance(key, (str, int)):
                    raise ContractError(display, f"mapping key {key!r} must be text",
                                        k.start_mark.line + 1, k.start_mark.column + 1)
                if key in out:
                    raise ContractError(display, f"{dotted(path + (key,))} is given twice",
                                        k.start_mark.line + 1, k.start_mark.column + 1)
                out[key] = conv(v, path + (key,))
                loc.marks[path + (key,)] = (k.start_mark.line + 1, k.start_mark.column + 1)
            return out
        if isinstance(n, yaml.SequenceNode):
            return [conv(v, path + (i,)) for i, v in enumerate(n.value)]
        value = loader.construct_object(n, deep=True)
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        return value

    return conv(node, ()), loc
