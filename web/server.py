"""Serving the app with waitress, in one process or several.

Waitress answers requests in threads of one interpreter, and those threads share one core for Python work. With
`workers` > 1 the listening socket is opened once and handed to forked worker processes, each with its own app,
engine and caches; the kernel gives each connection to one of them (gunicorn's pre-fork model, without the extra
dependency). The parent only supervises: a worker that dies is replaced, and SIGTERM/SIGINT stop them all.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path

RESTART_PAUSE = 1.0  # seconds between replacing workers that keep dying, so a broken index cannot spin the CPU


def serve(
    index_dir: str | Path, host: str, port: int, threads: int, workers: int, engine=None, settings: dict | None = None
) -> None:
    """Serve the index at `index_dir` (or `engine`, in one process: a sharded index's coordinator, whose shards
    are Ray actors, cannot be forked), with the app `settings` given (web.WEB_SETTINGS: SYNONYMS_FILE …)."""
    from waitress import serve as waitress_serve

    from search.errors import SearchError
    from search.processes import die_with_parent
    from web import create_app
    from web.engine import get_engine

    # "Task queue depth is N" on every request that waits for a thread: noise under load, not news
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    if engine is not None:
        workers = 1

    def app():
        application = create_app({**(settings or {}), "INDEX_DIR": index_dir, "ENGINE": engine})
        with application.app_context():
            try:
                get_engine().warm_up()  # the did-you-mean index: seconds on a large index, built before it is needed
            except SearchError:
                pass  # no usable index yet: each request answers 503 until there is one
        return application

    if workers <= 1 or not hasattr(os, "fork"):
        waitress_serve(app(), host=host, port=port, threads=threads, ident="newsearch")
        return
    listener = socket.create_server((host, port), backlog=2048)
    children: dict[int, int] = {}  # pid → worker number
    stopping = False

    def start(number: int) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker: its own app over its own index handles
            code = 0
            try:
                die_with_parent(parent)  # a killed server leaves no worker answering on its port
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                waitress_serve(app(), sockets=[listener], threads=threads, ident="newsearch")
            except BaseException as exc:  # noqa: BLE001 - a worker reports and exits, the parent replaces it
                print(f"newsearch worker {number}: {exc!r}", file=sys.stderr)
                code = 1
            finally:
                os._exit(code)
        children[pid] = number

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for number in range(workers):
        start(number)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        worker = children.pop(pid, None)
        if worker is not None and not stopping:
            print(
                f"newsearch worker {worker} (pid {pid}) exited with status {status}; starting another", file=sys.stderr
            )
            time.sleep(RESTART_PAUSE)
            start(worker)
    listener.close()
