"""Running a command as a child process and measuring it: wall time, peak RSS of the child and all its descendants
(sampled from /proc every 100 ms, summed over the process tree; also PSS, which shares
forked workers' common pages out instead of counting them once per process), and the kernel's ru_maxrss of the child (os.wait4).

Standard library only (psutil is not installed in the project's environment).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _pss(pid: int) -> int:
    """Proportional set size: resident bytes with pages shared between processes (forked workers) divided among them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def tree_memory(pid: int) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) of `pid` and its descendants, now. The RSS sum counts a page shared by a forked
    worker and its parent twice; the PSS sum does not."""
    tree, rss, pss, todo = _children(), 0, 0, [pid]
    while todo:
        p = todo.pop()
        rss += _rss(p)
        pss += _pss(p)
        todo.extend(tree.get(p, []))
    return rss, pss


def run_measured(cmd: list[str], *, interval: float = 0.1, **popen) -> dict:
    """Run `cmd`; {"seconds", "returncode", "peak_tree_rss_bytes", "ru_maxrss_bytes", "cpu_seconds", "stdout",
    "stderr"}; cpu_seconds is user + system time of the child and the descendants it waited for."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)
    peak = [0, 0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            rss, pss = tree_memory(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=lambda n=n, s=s: out.__setitem__(n, s.read()), daemon=True)
        for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr))
    ]
    for t in readers:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    for t in readers:
        t.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": round(seconds, 3),
        "returncode": proc.returncode,
        "peak_tree_rss_bytes": peak[0],
        "peak_tree_pss_bytes": peak[1],
        "ru_maxrss_bytes": usage.ru_maxrss * 1024,
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "stdout": out.get("stdout", b"").decode("utf-8", "replace"),
        "stderr": out.get("stderr", b"").decode("utf-8", "replace"),
    }
