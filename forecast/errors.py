"""The tool's own exceptions: a user mistake raises ForecastError, which the CLI prints as one line; and the helpers
that keep such a line printable and short whatever the input (undecodable names, megabyte fields, huge lists)."""

from __future__ import annotations

import errno
import logging
import warnings


class ForecastError(Exception):
    """Bad input or options: the message says what is wrong, where, and how to fix it."""


class ForecastWarning(UserWarning):
    """A note for the user from the Python API (the CLI prints it as a `Warning:` line)."""


class DataError(ForecastError):
    """The CSV cannot be used as a time series as given."""


class RunError(ForecastError):
    """A run folder is missing, incomplete, or cannot be loaded."""


def printable(text: object) -> str:
    """`text` with bytes that are not valid UTF-8 (file names decoded with surrogate escapes) shown as \\xNN."""
    return str(text).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def shorten(text: object, limit: int = 60) -> str:
    """At most `limit` characters of a value quoted in a message, then how many were left out."""
    text = printable(text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit:,} more characters)"


def listing(names, limit: int = 12) -> str:
    """Comma-separated names, the first `limit` of them, then how many were left out."""
    names = [shorten(n, 40) for n in names]
    more = f", ... ({len(names) - limit:,} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def check_distinct(values, flag: str, key=str) -> None:
    """Refuse a list that names one thing twice (`key` says when two are the same: a level's percentage, a run's
    resolved folder): the same series, run or level given twice is never silently merged or counted twice."""
    seen: dict = {}
    for value in values:
        k = key(value)
        if k in seen:
            both = "" if str(seen[k]) == str(value) else f" (as {shorten(seen[k], 200)} and {shorten(value, 200)})"
            raise ForecastError(f"{flag} names {shorten(k, 200)} twice{both}; give each once")
        seen[k] = value


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


def os_error_message(exc: OSError) -> str | None:
    """The one-line message for a fault of the machine met while writing (a full disk, a read-only file system);
    None for any other OSError, which is a bug."""
    where = f" ({printable(exc.filename)})" if exc.filename else ""
    if exc.errno in DISK_FULL or "No space left on device" in str(exc):
        return f"no space left on the device{where}; free some space and run the command again"
    if exc.errno in NOT_WRITABLE:
        return f"cannot write{where}: {exc.strerror}; choose a writable location"
    return None


def quiet_warnings() -> None:
    """Library warnings and logs that would stand before a command's one line and say nothing the tool does not:
    numpy's overflow in data it then refuses, matplotlib's missing glyphs for characters its font lacks."""
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="numpy")
    warnings.filterwarnings("ignore", message="Glyph .* missing from font")
    warnings.filterwarnings("ignore", message="Unable to import Axes3D")  # no 3D here; a stop signal can cause it
    # matplotlib's log of its own font fallback ("findfont: Font family [...] not found"), on the stderr of an
    # interrupted `compare` in CI: this tool chooses no fonts
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
