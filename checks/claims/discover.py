"""Find the claim files a user named: files, folders, hive-partitioned folders.

A folder is walked whole: every file whose name ends in `.parquet` (any case) is a claim file,
except names starting with `.` or `_` (`_SUCCESS`, `.crc` files, hidden folders). A file or
folder that cannot be read is an error, never a skip. Path segments `key=value` between the folder
named and the file are partition values; they are validated later like data (folders above the one
named never are). A link to a folder inside a batch folder is followed, as the folder it points to
would be; a link that leads back to a folder already read (a loop) is an error naming it.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, UsageError
from ..paths import library_path


@dataclass
class Found:
    path: Path
    display: str
    partitions: dict[str, str] = field(default_factory=dict)  # key -> value, as written in the path
    partition_dirs: dict[str, str] = field(default_factory=dict)  # key -> the folder that set it


def _is_claim_name(name: str) -> bool:
    return name.lower().endswith(".parquet") and not name.startswith((".", "_"))


def _regular(path: Path, display: str) -> InputError | None:
    try:
        st = path.stat()
    except OSError as e:
        return InputError(display, f"cannot be read ({e.strerror or e})")
    if not stat.S_ISREG(st.st_mode):
        return InputError(display, "is not a regular file (a pipe, device or socket is never read as claims)")
    if not os.access(path, os.R_OK):
        return InputError(display, "cannot be read (permission denied)")
    return None


def _walk(root: Path, shown_root: str, errors: list[InputError]) -> list[Found]:
    out = []

    def failed(e: OSError):
        errors.append(InputError(e.filename or shown_root, f"folder cannot be read ({e.strerror or e})"))

    seen = {os.path.realpath(root)}
    for folder, dirs, files in os.walk(root, onerror=failed, followlinks=True):
        kept = []
        for d in sorted(d for d in dirs if not d.startswith((".", "_"))):
            real = os.path.realpath(os.path.join(folder, d))
            if real in seen:  # a link back up (a loop) or to a folder already walked
                errors.append(InputError(str(Path(shown_root) / Path(folder).relative_to(root) / d),
                                         f"is a link to a folder already read ({real}); a folder is read once"))
                continue
            seen.add(real)
            kept.append(d)
        dirs[:] = kept
        rel = Path(folder).relative_to(root)
        for name in sorted(files):
            if not _is_claim_name(name):
                continue
            path = Path(folder) / name
            display = str(Path(shown_root) / rel / name)
            err = _regular(path, display)
            if err:
                errors.append(err)
                continue
            parts, dirs_of = {}, {}
            for i, seg in enumerate(rel.parts):
                if "=" in seg:
                    k, v = seg.split("=", 1)
                    parts[k] = v
                    dirs_of[k] = str(Path(shown_root, *rel.parts[:i + 1]))
            out.append(Found(path, display, parts, dirs_of))
    return out


def discover(paths: list[str]) -> list[Found]:
    """Every claim file under `paths`; raise InputErrors-compatible errors for what cannot be read."""
    from ..errors import InputErrors

    if not paths:
        raise UsageError("no claim files given: name Parquet files or folders")
    found, errors = [], []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            if not os.access(path, os.R_OK | os.X_OK):
                errors.append(InputError(p, "folder cannot be read (permission denied)"))
                continue
            files = _walk(path, p, errors)
            if not files and not errors:
                errors.append(InputError(p, "folder holds no .parquet files"))
            found += files
        elif path.exists() or path.is_symlink():
            err = _regular(path, p)
            if err:
                errors.append(err)
            else:
                found.append(Found(path, p))
        else:
            errors.append(InputError(p, "no such file or folder"))
    if errors:
        raise InputErrors(errors)
    for f in found:
        try:
            library_path(f.path)
            f.display = library_path(f.display)  # the name's characters, as reports show them
        except UnicodeDecodeError:
            errors.append(InputError(f.display, "its name is not UTF-8 (bytes of another encoding, such as GB18030); "
                                     "DuckDB and Arrow open UTF-8 names only: rename the file or folder"))
            continue
        if "\\" in str(f.path) and any(c in str(f.path) for c in "*?["):
            errors.append(InputError(f.display, "its path holds both a backslash and one of * ? [, which DuckDB "
                                     "cannot open as a name (it reads such a path as a pattern): rename the file "
                                     "or folder"))
    if errors:
        raise InputErrors(errors)
    seen: dict[Path, str] = {}
    for f in found:
        key = f.path.resolve()
        if key in seen:
            raise InputErrors([InputError(f.display, f"is named twice (also as {seen[key]}): a file is checked once")])
        seen[key] = f.display
    return found
