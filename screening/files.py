"""Files that hold health data (backups, PDFs written by the CLI) are private from their
first byte: created with mode 0600 whatever the umask, never made private afterwards
(a reader that opened the file before a chmod keeps reading it)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

PRIVATE = 0o600


def create_private(path: str | Path, exclusive: bool = False) -> int:
    """Open `path` for writing as a new or emptied file readable by its owner only; return
    the descriptor. An existing file is made private before it is emptied."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)  # an existing file keeps its old mode through O_CREAT
        os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_private(path: str | Path) -> BinaryIO:
    """`open(path, "wb")`, but private from the first byte."""
    return os.fdopen(create_private(path), "wb")
