"""Start a real crmctl process and SIGKILL it (and its git children) at a chosen moment."""
from __future__ import annotations

import os
import signal
import subprocess
import time


def kill_after(cmd: list[str], seconds: float) -> bool:
    """Run ``cmd`` in its own process group, kill the group after ``seconds``; True when it was still running."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(seconds)
    killed = proc.poll() is None
    if killed:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return killed
