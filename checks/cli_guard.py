"""Every command's guard: errors become one escaped `error:` line each and an exit code, never a
traceback.

Exit 2 for bad input, contracts and usage, and for OS errors (disk full, read-only folder,
standard output closed, a name too long), naming the path; 130 after Ctrl-C and 143 after SIGTERM,
raised where the process is so that every `finally` removes its temporary files first.
"""
from __future__ import annotations

import functools
import os
import sys

import click

from .errors import ClaimcheckError, InputErrors


def terminal(text) -> str:
    from .report.safe import terminal as safe

    return safe(text)


class Terminated(BaseException):
    """SIGTERM, raised where the process is so that every `finally` removes its temporary files."""


_stopped: list[int] = []  # the exit code of a signal received (DuckDB may report it as its own interruption)


def _terminated(signum, frame):
    _stopped.append(143)
    raise Terminated()


def _error(text) -> None:
    """One `error:` line per line of `text`, control and bidi characters shown escaped: names come
    from file systems and claim files and may hold anything."""
    for line in str(text).splitlines() or [""]:
        click.echo(f"error: {terminal(line)}", err=True)


def _stop(code: int) -> None:
    _error(f"{'terminated (SIGTERM)' if code == 143 else 'interrupted (Ctrl-C)'}: stopped; its temporary files are "
           "removed, a report not yet complete is not written and the ledger is left as it was")
    sys.exit(code)


def _os_error(e: OSError) -> str:
    from .paths import shown

    where = shown(e.filename) if e.filename not in (None, "") else "standard output"
    return f"{where}: {e.strerror or e}"


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except OSError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more can go there
        raise


def guarded(fn):
    """Turn every error into a message and exit code 2; never a traceback. Ctrl-C exits 130 and
    SIGTERM 143, each after temporary files are removed; an OS error (disk full, read-only
    folder, standard output closed) names the path."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import signal

        try:
            previous = signal.signal(signal.SIGTERM, _terminated)
        except ValueError:  # not the main thread (a test runner's worker): leave signals alone
            previous = None
        try:
            try:
                fn(*args, **kwargs)
            except SystemExit:
                _flush_stdout()
                raise
            _flush_stdout()
        except InputErrors as e:
            for err in e.errors:  # one line each: a line break in a name is shown escaped too
                click.echo(f"error: {terminal(err)}", err=True)
            sys.exit(2)
        except ClaimcheckError as e:
            _error(e)
            sys.exit(2)
        except OSError as e:
            _error(_os_error(e))
            sys.exit(2)
        except (KeyboardInterrupt, Terminated):
            _stop(143 if _stopped else 130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as e:  # a bug of ours, or input that got past every check
            if type(e).__name__ == "InterruptException":  # DuckDB's word for a signal received mid-query
                _stop(143 if _stopped else 130)
            if os.environ.get("CLAIMCHECK_DEBUG"):
                raise
            _error(f"internal error ({type(e).__name__}: {e}); set CLAIMCHECK_DEBUG=1 for details")
            sys.exit(2)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
    return wrapper
