"""Worker processes that do not outlive newsearch.

Segment builders and server workers are forked children. Killed with SIGKILL, a parent cannot stop them, and an
orphaned worker would go on holding the index's write lock (its inherited lock file descriptor) or the server's port.
Linux can kill a child when its parent dies (prctl PR_SET_PDEATHSIG): every worker asks for that first thing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel SIGKILL this process when its parent dies; exit now if `parent_pid` is already gone (it died
    between the fork and this call). A no-op where prctl is not available."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:
        os._exit(1)
