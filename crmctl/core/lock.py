"""The book-wide write lock: one writer at a time, others wait a little.

An advisory ``flock`` on ``.crmctl/lock``: the kernel drops it when the
process dies (even by SIGKILL), so a crash never leaves the book locked.
"""
from __future__ import annotations

import fcntl
import os
import time
from types import TracebackType

from crmctl.core.errors import LockTimeout


class BookLock:
    """Re-entrant within one process; waits up to ``timeout`` seconds for others."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._fd: int | None = None
        self._depth = 0

    def __enter__(self) -> BookLock:
        if self._depth == 0:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            deadline = time.monotonic() + self.timeout
            delay = 0.01
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        os.close(fd)
                        raise LockTimeout(
                            f"the book is locked by another crmctl process (waited {self.timeout:g}s); "
                            "try again when it has finished"
                        ) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.2)
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            self._fd = fd
        self._depth += 1
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
