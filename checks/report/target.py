"""Where a writer writes: a temporary file beside the target, renamed when complete; `-` is stdout."""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def target(path, suffix: str = ""):
    """Yield a temporary path to write to; on success it becomes `path` (or goes to stdout)."""
    to_stdout = str(path) == "-"
    folder = tempfile.gettempdir() if to_stdout else str(Path(path).resolve().parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".claimcheck-", suffix=suffix, dir=folder)
    except OSError as e:
        raise OSError(e.errno, e.strerror, folder) from None
    os.close(fd)
    try:
        try:
            yield tmp
        except OSError as e:  # a write has no file name: the report's is the one to show
            if e.filename is None and not to_stdout:
                raise OSError(e.errno, e.strerror, str(path)) from None
            raise
        if to_stdout:
            sys.stdout.flush()
            with open(tmp, "rb") as fh:
                shutil.copyfileobj(fh, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            os.chmod(tmp, 0o666 & ~_umask())  # as an ordinary new file would be, not mkstemp's 0600
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def text_target(path):
    """A text file handle (UTF-8) on a temporary file that becomes `path` when complete."""
    with target(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        yield fh


def preflight(targets: dict, claim_paths: list[str], protected: dict[str, str | None],
              protected_folders: dict[str, str | None] | None = None) -> None:
    """Refuse, before anything is read, outputs that would lose or corrupt data, or fail late.

    `targets`: {format: path or '-'}; `protected`: {what: path} files no output may replace (the
    ledger, the waivers, the column map, a --table file); `protected_folders`: {what: folder}
    whose every file is an input (the contracts). Paths are compared as they resolve, links
    followed. Raises UsageError naming the option and the path."""
    from ..errors import UsageError

    inputs, folders = set(), []
    for p in claim_paths:
        path = Path(p)
        if path.is_dir():
            folders.append(path.resolve())
        elif path.exists():
            inputs.add(path.resolve())
    guarded = {Path(v).resolve(): k for k, v in protected.items() if v}
    for what, folder in (protected_folders or {}).items():
        if folder and Path(folder).is_dir():
            guarded.update({f.resolve(): what for f in Path(folder).rglob("*") if f.is_file()})
    ledger = protected.get("ledger (--history)")
    if ledger and any(Path(ledger).resolve().is_relative_to(f) for f in folders):
        raise UsageError(f"--history {ledger}: lies in a claim folder being checked; the next check of that "
                         "folder would read the ledger's files among the claims: keep the ledger elsewhere")
    seen: dict[Path, str] = {}
    stdout = [f for f, p in targets.items() if p and str(p) == "-"]
    if len(stdout) > 1:
        raise UsageError(f"only one report can go to standard output ('-'): {', '.join('--' + f for f in stdout)}")
    for fmt, p in targets.items():
        if not p or str(p) == "-":
            continue
        opt = f"--{fmt.replace('nhsa', 'nhsa-json')} {p}"
        path = Path(p)
        if fmt == "findings" and path.suffix.lower() not in (".parquet", ".csv", ".xlsx"):
            raise UsageError(f"{opt}: the file's suffix names its format: .parquet (for programs), .csv (UTF-8, "
                             "opens in Excel) or .xlsx")
        res = path.resolve()
        if res in inputs:
            raise UsageError(f"{opt}: is one of the claim files being checked; claims are never overwritten")
        for folder in folders:
            if res.is_relative_to(folder) and res.name.lower().endswith(".parquet"):
                raise UsageError(f"{opt}: lies in the claim folder {folder} and would be read as claims by the "
                                 "next check of it; write it elsewhere")
        if res in guarded:
            raise UsageError(f"{opt}: is the {guarded[res]} file; it would be overwritten")
        if res in seen:
            raise UsageError(f"{opt}: is also the target of --{seen[res]}; give each report its own file")
        seen[res] = fmt
        if path.is_dir():
            raise UsageError(f"{opt}: is a folder; name a file")
        if path.exists() and not path.is_file():
            raise UsageError(f"{opt}: exists and is not a regular file")
        parent = res.parent
        if not parent.is_dir():
            raise UsageError(f"{opt}: folder {parent} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise UsageError(f"{opt}: folder {parent} is not writable")
