"""The one boundary between the tool and its user: a user mistake (ForecastError) or a fault of the machine (a full
or read-only disk) becomes one `Error: ...` line on stderr and exit code 1; Ctrl-C and SIGTERM one line and exit
code 130 or 143. Anything else is a bug and keeps its traceback. No Typer here: the CLI wraps each command in it."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import warnings
from collections.abc import Iterator

from forecast.errors import ForecastError, os_error_message, printable, quiet_warnings
from forecast.interrupts import answer_interrupts, check_stop, forget_stop, pending_stop, stop_signal


class Terminated(BaseException):
    """SIGTERM, turned into an exception so that clean-up code runs as for Ctrl-C."""


def _on_sigterm(signum, frame) -> None:
    stop_signal(Terminated())


def _exit(line: str, code: int):
    sys.stderr.write(printable(line) + "\n")
    sys.stderr.flush()
    raise SystemExit(code)


STUDY = "study"  # user_errors(resumable=STUDY): a command whose work lives on in a study (tune)


def _forget_unhandled_interrupt() -> None:
    """CPython remembers a KeyboardInterrupt that escaped code run from a string (a dataclass or namedtuple that an
    import was defining when Ctrl-C came) and, under `python -m`, ends the process by SIGINT (returncode -2) even
    after we handled it and asked for exit code 130. Running any string clears that memory."""
    exec("pass")


def stopped(exc: BaseException, resumable: bool | str = False):
    _forget_unhandled_interrupt()
    forget_stop()
    what = "Terminated" if isinstance(exc, Terminated) else "Interrupted"
    _exit(f"{what}: the study keeps its finished trials (a trial under way is lost); run the same command to "
          "continue it" if resumable == STUDY else
          f"{what}: no run was published (cells already trained wait with their checkpoints); continue the "
          "training with the same command and --resume" if resumable else
          f"{what}: stopped before finishing; no output was left half-written",
          143 if isinstance(exc, Terminated) else 130)


@contextlib.contextmanager
def user_errors(resumable: bool | str = False) -> Iterator[None]:
    """Around a command: its user mistakes, machine faults and interruptions as one line and an exit code."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
        answer_interrupts()
    try:
        with warnings.catch_warnings():
            quiet_warnings()
            yield
        check_stop()  # a stop signal that a library swallowed, after the command's last file
    except ForecastError as exc:
        _exit(f"Error: {exc}", 1)
    except OSError as exc:
        if (message := os_error_message(exc)) is None:
            raise
        _exit(f"Error: {message}" + ("; an interrupted training continues with the same command and --resume"
                                     if resumable is True else ""), 1)
    except (KeyboardInterrupt, Terminated) as exc:
        stopped(exc, resumable)
    except Exception:
        if (stop := pending_stop()) is not None:  # a library turned the stop signal into its own exception
            stopped(stop, resumable)
        raise


@contextlib.contextmanager
def process() -> Iterator[None]:
    """Around the whole program, entered before the CLI's imports: printable output whatever the names, and Ctrl-C
    and SIGTERM answered from the start. Outside a command's own boundary (while Typer, the options or a command's
    imports load) a stop gets the same one line: Typer would turn Ctrl-C into a silent exit 130."""
    for stream in (sys.stdout, sys.stderr):  # names that are not valid UTF-8 print escaped, never crash a command
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")
    signal.signal(signal.SIGTERM, _on_sigterm)
    answer_interrupts()
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _quiet_stop(previous_hook)
    try:
        yield
    except (KeyboardInterrupt, Terminated) as exc:
        stopped(exc)
    except BaseException:  # Typer's exit 130, or an import's own error, for a stop no boundary has answered
        if (stop := pending_stop()) is not None:
            stopped(stop)
        raise
    finally:
        sys.unraisablehook = previous_hook


def _quiet_stop(previous_hook):
    """An unraisable-exception hook that keeps quiet about the pending stop signal: raised inside a finalizer or a
    weakref callback (an import's module lock, seen once in CI), Python prints it as `Exception ignored in: ...` with
    a traceback and goes on; check_stop raises it again at the next commit point, and the user gets the one line."""
    def hook(info) -> None:
        if (stop := pending_stop()) is None or info.exc_value is not stop:
            previous_hook(info)
    return hook


def run_command(as_json: bool, work, resumable: bool | str = False) -> None:
    """Run a command's work with user mistakes as one `Error:` line; with --json, print the document it returns
    on stdout (without its `table`, which the command wrote to a file) and send everything else to stderr."""
    with user_errors(resumable=resumable):
        from forecast import report

        with report.json_mode(as_json):
            doc = work()
        if as_json:
            report.emit_json({key: value for key, value in doc.items() if not key.endswith("table")})
