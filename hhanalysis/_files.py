"""Files written whole or not at all: every output goes to a temporary file in the target's
directory and is renamed onto the target only once it is complete (``os.replace`` is atomic
on POSIX and Windows), so a failure never leaves a partial or empty file behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_path", "writable_directory"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` (same suffix); on success rename it onto
    ``path``, on any exception remove it. Missing parent directories are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 -> the permissions of a plain open()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def writable_directory(directory) -> str | None:
    """Why files cannot be written in ``directory`` (created later if missing), or ``None`` if
    they can. Checked by creating and removing a temporary file in the nearest existing
    ancestor, so nothing is left behind."""
    d = Path(directory)
    while not d.exists():
        if d.parent == d:
            break
        d = d.parent
    if not d.is_dir():
        return f"{d} is a file, not a directory"
    try:
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".hhanalysis-check-")
    except OSError as e:
        return f"cannot write in {d} ({e.strerror or e})"
    os.close(fd)
    os.unlink(tmp)
    return None
