"""Ctrl-C held back while third-party code runs (a Keras fit), and raised by this tool's own code at its next safe
point: a KeyboardInterrupt that lands inside TensorFlow or a finalizer can be lost, or come out as another exception
(a traceback and exit 1 instead of the one `Interrupted:` line and exit 130, seen once on a loaded machine). And a
SIGTERM that a library swallowed, raised again by this tool's own code at its next commit point."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

_held: threading.Event | None = None  # the event of the outermost block under way


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[threading.Event]:
    """Within the block, Ctrl-C sets the event it yields instead of raising; whoever checks the event raises
    KeyboardInterrupt (callbacks.StopOnInterrupt after each batch, `tune` between epochs and trials), and the block
    raises it on leaving if nobody did. A second Ctrl-C raises at once. A nested block shares the outer one's event.
    Where Ctrl-C is not this process's to handle (another thread; a parallel worker, which ignores it; a handler of
    someone else's) the event is never set and nothing changes."""
    global _held
    if _held is not None:
        yield _held
        return
    stop = threading.Event()
    previous = signal.getsignal(signal.SIGINT)
    if (threading.current_thread() is not threading.main_thread()
            or previous not in (signal.default_int_handler, on_interrupt)):
        yield stop
        return

    def on_sigint(signum, frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGINT, on_sigint)
    _held = stop
    try:
        yield stop
    finally:
        _held = None
        signal.signal(signal.SIGINT, previous)
    if stop.is_set():
        raise KeyboardInterrupt


_pending: list[BaseException] = []  # a stop signal's exception, until this tool's own code has seen it through


def stop_signal(exc: BaseException) -> None:
    """Raise a stop signal's exception (boundary's SIGTERM handler) and remember it: library code that catches
    every exception can swallow it (matplotlib's optional import of its 3D axes turned one into a warning, and the
    command went on to exit 0), so check_stop raises it again at the next commit point."""
    _pending.append(exc)
    raise exc


def on_interrupt(signum, frame) -> None:
    """Ctrl-C raised as Python's own handler raises it, and remembered like SIGTERM (stop_signal): a KeyboardInterrupt
    that landed in an import came out of Keras as `ImportError: ... you need to have optree installed` (a traceback
    and exit 1, seen once on a loaded machine)."""
    stop_signal(KeyboardInterrupt())


def answer_interrupts() -> None:
    """Ctrl-C through on_interrupt from now on, where Python's own handler has it (not where it is ignored, as a shell
    starts background jobs, or handled by someone else; only the main thread can set handlers)."""
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
        signal.signal(signal.SIGINT, on_interrupt)


def pending_stop() -> BaseException | None:
    """The stop signal that no one has answered yet, if any."""
    return _pending[0] if _pending else None


def check_stop() -> None:
    """At a commit point (a file about to replace its target) and at a command's end: raise again a stop signal
    that some library swallowed."""
    if _pending:
        raise _pending[0]


def forget_stop() -> None:
    """The boundary has answered the stop signal."""
    _pending.clear()
