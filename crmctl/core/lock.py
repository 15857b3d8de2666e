"""The book-wide write lock: one writer at a time, others wait a little.

An advisory ``flock`` on ``.crmctl/lock``: the kernel drops it when the
process dies (even by SIGKILL), so a crash never leaves the book locked.
"""
from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
from types import FrameType, TracebackType

from crmctl.core.errors import LockTimeout
from crmctl.core.limits import NUMBERS, number

TIMEOUT_VARIABLE = "CRMCTL_LOCK_TIMEOUT"


def timeout_from_env() -> float | None:
    """``$CRMCTL_LOCK_TIMEOUT`` in seconds (0 to 3600, like ``limits.lock_timeout_seconds``); None if unset.

    Unset, empty or 0 leaves the book's setting in force. Anything else that
    is not a number of seconds in range is refused with one line naming the variable.
    """
    text = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    if not text:
        return None
    seconds = float(number(text, NUMBERS["limits.lock_timeout_seconds"], TIMEOUT_VARIABLE))
    return seconds or None


def _acquire(fd: int, timeout: float) -> bool:
    """Take the lock, waiting at most ``timeout`` seconds.

    In the main thread we block in flock() under an interval timer, so waiters
    queue in the kernel and are woken in turn instead of racing each other
    with polls (which starves some of them under load); elsewhere we poll.
    """
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        if timeout <= 0:
            return False
    if threading.current_thread() is threading.main_thread():
        def _timeout(signum: int, frame: FrameType | None) -> None:
            raise TimeoutError

        previous = signal.signal(signal.SIGALRM, _timeout)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return True
        except TimeoutError:
            return False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    deadline = time.monotonic() + timeout
    delay = 0.005
    while time.monotonic() < deadline:
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            continue
    return False


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
            if not _acquire(fd, self.timeout):
                os.close(fd)
                raise LockTimeout(
                    f"the book is locked by another crmctl process (waited {self.timeout:g}s); "
                    "try again when it has finished"
                )
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
