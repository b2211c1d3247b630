"""YAML loading that remembers where every value came from.

`load_yaml` returns plain Python data (dicts, lists, str, int, float, bool, None; dates become
ISO strings) and a `Locator` that maps a path such as ("rules", 3, "kind") to its line and column,
so that every contract error can point at the exact place in the file.

It is safe on hostile input: only regular files of at most MAX_BYTES are read (a pipe or
/dev/zero is refused, never waited on); anchors and aliases may not expand the document beyond
MAX_NODES values nor nest deeper than MAX_DEPTH (a kilobyte of "billion laughs" is refused
quickly); a date that does not exist (2025-02-30) and NaN or infinity are errors at their line.
"""
from __future__ import annotations

import datetime as dt
import math
import os
import stat
from pathlib import Path

import yaml

from .errors import ContractError

Path_ = tuple
MAX_BYTES = 8 << 20
MAX_NODES = 200_000
MAX_DEPTH = 64


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


def read_regular(file: Path, display: str, limit: int = MAX_BYTES, error=ContractError) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; anything else is a located error."""
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise error(display, f"cannot read: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(display, "is not a regular file (a pipe, device or folder is never read)")
        if st.st_size > limit:
            raise error(display, f"is {st.st_size:,} bytes; at most {limit:,} are read")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise error(display, f"is larger than {limit:,} bytes")
        return data
    finally:
        os.close(fd)


def load_yaml(file: Path, display: str | None = None):
    display = display or str(file)
    loc = Locator(display)
    raw = read_regular(Path(file), display)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ContractError(display, f"is not UTF-8 text ({e.reason} at byte {e.start})") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml when present: 10x faster
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ContractError(display, f"not valid YAML: {getattr(e, 'problem', e)}",
                            mark.line + 1 if mark else None, mark.column + 1 if mark else None) from None
    except RecursionError:
        raise ContractError(display, f"nests too deeply (at most {MAX_DEPTH} levels)") from None
    finally:
        loader.dispose()
    if node is None:
        raise ContractError(display, "empty file")
    count = [0]

    def at(n):
        return n.start_mark.line + 1, n.start_mark.column + 1

    def conv(n, path):
        count[0] += 1
        if count[0] > MAX_NODES:
            raise ContractError(display, f"expands to more than {MAX_NODES:,} values (anchors and aliases "
                                "repeating content?)", *at(n))
        if len(path) > MAX_DEPTH:
            raise ContractError(display, f"nests deeper than {MAX_DEPTH} levels", *at(n))
        loc.marks[path] = at(n)
        if isinstance(n, yaml.MappingNode):
            out = {}
            for k, v in n.value:
                key = scalar(k, path)
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    raise ContractError(display, f"mapping key {key!r} must be text", *at(k))
                if key in out:
                    raise ContractError(display, f"{dotted(path + (key,))} is given twice", *at(k))
                out[key] = conv(v, path + (key,))
                loc.marks[path + (key,)] = at(k)
            return out
        if isinstance(n, yaml.SequenceNode):
            return [conv(v, path + (i,)) for i, v in enumerate(n.value)]
        return scalar(n, path)

    def scalar(n, path):
        if not isinstance(n, yaml.ScalarNode):
            raise ContractError(display, f"{dotted(path)}: a mapping key must be text, not a list or mapping", *at(n))
        try:
            value = loader.construct_object(n, deep=True)
        except ValueError as e:  # a timestamp that is no date (2025-02-30), an int too odd to read
            raise ContractError(display, f"{dotted(path)}: {n.value!r} is not a valid value ({e})", *at(n)) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise ContractError(display, f"{dotted(path)}: {n.value!r} is not a finite number", *at(n))
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        return value

    return conv(node, ()), loc


def schema_validator(schema):
    """A JSON Schema (2020-12) validator whose `pattern`s end where the text ends.

    JSON Schema patterns are ECMA-262 regular expressions, where `$` matches only at the very end;
    Python's `$` also matches before a final newline, so `id: "JS-1\\n"` would pass `^[A-Z0-9-]+$`.
    Here a pattern's closing `$` is read as `\\Z`; the schema itself (published for editors) keeps `$`."""
    import re

    import jsonschema

    def pattern(validator, patrn, instance, schema):
        strict = patrn[:-1] + r"\Z" if patrn.endswith("$") and not patrn.endswith("\\$") else patrn
        if validator.is_type(instance, "string") and not re.search(strict, instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {patrn!r}")

    cls = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": pattern})
    return cls(schema)
