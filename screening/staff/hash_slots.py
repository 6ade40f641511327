"""Password hashes allowed at once on this machine, shared by every server process.

A hash is meant to be slow (argon2id, ~40 ms of one core). Bounded per worker only, a flood
of logins from many addresses (no per-address limit trips) kept one hash running in every
worker, so on a 2-core machine with two workers every core hashed and pages waited
(bench/bench_login.py: GET / at 3.5x its time under a plain-page flood). The slots are
advisory locks (flock) on small files beside the database, so every worker of one
installation shares them, and a process that dies releases its lock with it. By default
half the cores may hash (at least one), leaving the rest for pages.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

POLL_SECONDS = 0.005


class Busy(Exception):
    """Every hashing slot stayed taken for the whole wait: try again in a moment."""


def default_slots() -> int:
    return max(1, (os.cpu_count() or 1) // 2)


class HashSlots:
    """`count` machine-wide slots in `folder`, and one hash at a time in this process (a
    lock held by one thread is held by the process's open file, so threads take turns
    first, then the process tries the files).

    One thread of a process may wait its turn; any more are told Busy at once. A few staff
    logging in together each wait a moment and get in, while a flood holds no more than two
    of a worker's threads (one hashing, one waiting): waiting threads that all queued held
    every thread pages needed (GET / at 2.4x its time under a plain-page flood)."""

    WAITERS = 1

    def __init__(self, folder: Path | None, count: int):
        self.paths = (
            [Path(folder) / f".login-hash-{i}.lock" for i in range(count)] if folder else []
        )
        self.local = threading.BoundedSemaphore(1)
        self.guard = threading.Lock()
        self.waiting = 0
        self.files: dict[Path, int] = {}
        self.pid = os.getpid()

    def _descriptor(self, path: Path) -> int:
        if self.pid != os.getpid():  # forked (gunicorn --preload): open our own files
            self.files, self.pid = {}, os.getpid()
        if path not in self.files:
            self.files[path] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        return self.files[path]

    def _take_file(self) -> int | None:
        for path in self.paths:
            fd = self._descriptor(path)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            return fd
        return None

    @contextmanager
    def slot(self, wait: float):
        """Hold a slot for one hash, waiting up to `wait` seconds, else raise Busy."""
        deadline = time.monotonic() + wait
        if not self.local.acquire(blocking=False):
            with self.guard:
                if self.waiting >= self.WAITERS:
                    raise Busy()
                self.waiting += 1
            try:
                taken = self.local.acquire(timeout=wait)
            finally:
                with self.guard:
                    self.waiting -= 1
            if not taken:
                raise Busy()
        fd = None
        try:
            if self.paths:
                while (fd := self._take_file()) is None:
                    if time.monotonic() >= deadline:
                        raise Busy()
                    time.sleep(POLL_SECONDS)
            yield
        finally:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
            self.local.release()


_lock = threading.Lock()
_by_folder: dict[tuple[str, int], HashSlots] = {}


def for_folder(folder: Path | None, count: int) -> HashSlots:
    """The process's slots for one installation (tests run several apps in one process)."""
    key = (str(folder), count)
    with _lock:
        if key not in _by_folder:
            _by_folder[key] = HashSlots(folder, count)
        return _by_folder[key]
