"""Owner-only files written atomically: the token store and the configs `liveswitch-auth` writes.

Both hold secrets, so both are created 0600 in a 0700 folder (when the folder is new). A write goes
to a temporary file in the same folder, is fsynced and renamed over the old file, so a crash
leaves either the old or the new content, never half of it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def ensure_private_folder(folder: Path) -> None:
    """Create `folder` (and parents) owner-only if it does not exist; leave an existing one be."""
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700)


def write_private_file(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically; the result is 0600 whatever the old file was."""
    ensure_private_folder(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:  # mkstemp creates it 0600
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # fsync the folder too, so the rename itself survives a crash
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
