"""Where outputs go: checked before any work (a writable place, not a folder, not the input, not inside a run
folder, a name the file system accepts), then written atomically (a temporary file beside the target, renamed onto
it only once complete)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from forecast.errors import ForecastError, printable
from forecast.interrupts import check_stop

TMP_PREFIX = ".tmp-"
NAME_MAX = 255  # bytes in one file or folder name (ext4, XFS, APFS, NTFS)
TMP_EXTRA = len(TMP_PREFIX) + 9  # the temporary file beside an output is .tmp-NAME-XXXXXXXX
RUN_MARKERS = ("config.json", "model.keras")  # a folder holding both is a run folder


def check_output(path: Path, option: str, not_to: tuple[tuple[Path, str], ...] = (), suffix: str = ".csv") -> None:
    """Before any work: a file can be written at `path`, and it is none of `not_to` ((path, what it is) pairs,
    such as the input data) and not inside a run folder."""
    shown = printable(path)
    if path.name in ("", ".", ".."):
        raise ForecastError(f"{option} {shown!r} is not a file name; give a file path, e.g. {option} out{suffix}")
    if path.is_dir():
        raise ForecastError(f"{option} {shown} is a folder; give a file path inside it, e.g. {option} "
                            f"{printable(path / 'out')}{suffix}")
    if path.exists() and not path.is_file():
        raise ForecastError(f"{option} {shown} is not a regular file; give the path of a file to write")
    for other, what in not_to:
        if same_file(path, other):
            raise ForecastError(f"{option} {shown} is {what}; write to another file")
    run = next((p for p in path.absolute().parents if all((p / m).is_file() for m in RUN_MARKERS)), None)
    if run is not None:
        raise ForecastError(f"{option} {shown} lies inside the run folder {printable(run)}, which holds only what "
                            "`forecast train` wrote; write it outside the run folder")
    size = len(os.fsencode(path.name))
    if size + TMP_EXTRA > NAME_MAX:
        raise ForecastError(f"{option} has a file name of {size} bytes; the file system allows "
                            f"{NAME_MAX - TMP_EXTRA} here; choose a shorter name")
    check_folder(path.parent, option)


def check_folder(folder: Path, option: str) -> None:
    """`folder` is a folder, or can be made one, that this process can write into: its nearest existing folder
    takes a file (a probe, as permissions do not tell for root, /proc or a read-only mount)."""
    existing = folder.absolute()
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():
            raise ForecastError(f"{option}: {printable(existing)} is a link to {printable(os.readlink(existing))}, "
                                "which does not exist; create that folder or choose another location")
        existing = existing.parent
    if not existing.is_dir():
        raise ForecastError(f"{option}: {printable(existing)} is a file, not a folder; choose another location")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ForecastError(f"{option}: cannot write into {printable(existing)} (permission denied); choose a "
                            "writable folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise ForecastError(f"{option}: cannot write into {printable(existing)} ({reason}); choose a writable "
                            "folder") from None


def same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return a.absolute().resolve() == b.absolute().resolve()


def umask_mode(mode: int) -> int:
    """`mode` less the process umask: what a plain open() or mkdir() would have given."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, umask_mode(0o666))  # mkstemp makes 0600; the final file should look like any other
    try:
        yield Path(tmp)
        check_stop()  # a stop signal that a library swallowed on the way: no output after it
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_json(path: Path, payload: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n")


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def non_finite(payload, where: str = "") -> str | None:
    """The key path of the first NaN or infinite number in a JSON-ready payload, else None."""
    if isinstance(payload, float) and not math.isfinite(payload):
        return where or "a value"
    items = payload.items() if isinstance(payload, dict) else enumerate(payload) if isinstance(payload, list) else ()
    for key, value in items:
        found = non_finite(value, f"{where}.{key}" if where else str(key))
        if found is not None:
            return found
    return None
