"""Serving the app with waitress, in one process or several.

Waitress answers requests in threads of one interpreter, and those threads share one core for Python work. With
`workers` > 1 the listening socket is opened once and handed to forked worker processes, each with its own app,
engine and caches; the kernel gives each connection to one of them (gunicorn's pre-fork model, without the extra
dependency). The parent only supervises: a worker that dies is replaced, and SIGTERM/SIGINT stop them all.

A request line with raw UTF-8 in it (`GET /api/search?q=复工`, as curl and many scripts send it) is accepted as
browsers and proxies accept it: its non-ASCII bytes are percent-encoded before waitress parses the line, which would
otherwise answer a plain-text "400 Bad URI" before the app sees the request.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer, create_server

RESTART_PAUSE = 1.0  # seconds between replacing workers that keep dying, so a broken index cannot spin the CPU


_NON_ASCII = re.compile(rb"[\x80-\xff]")


def percent_encode_request_line(header: bytes) -> bytes:
    """`header` (request line and headers) with the request line's non-ASCII bytes percent-encoded: the URL a
    browser would have sent for the same characters. The headers are left as they are."""
    end = header.find(b"\r\n")
    line = header if end < 0 else header[:end]
    if line.isascii():
        return header
    return _NON_ASCII.sub(lambda byte: b"%%%02X" % byte[0][0], line) + header[len(line) :]


class RawUTF8Parser(HTTPRequestParser):
    """waitress's request parser, accepting raw UTF-8 (any non-ASCII byte) in the request line."""

    def parse_header(self, header_plus):
        return super().parse_header(percent_encode_request_line(header_plus))


class RawUTF8Channel(HTTPChannel):
    parser_class = RawUTF8Parser


def waitress_serve(app, **options) -> None:
    """waitress.serve(app, **options), its connections read by `RawUTF8Channel`."""
    logging.basicConfig()  # as waitress.serve does: its messages (and the listening address) go to stderr
    sockets: dict = {}  # waitress's socket map: every listening server registers itself in it
    server = create_server(app, map=sockets, **options)
    for listener in sockets.values():
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = RawUTF8Channel
    server.print_listen("Serving on http://{}:{}")
    server.run()


def serve(
    index_dir: str | Path,
    host: str,
    port: int,
    threads: int,
    workers: int,
    engine=None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve the index at `index_dir` (or `engine`, in one process: a sharded index's coordinator, whose shards
    are Ray actors, cannot be forked). The port is bound first, so a busy port fails before anything is
    announced; `on_ready` is called once it is bound and the app is built."""
    from search.errors import SearchError
    from search.processes import die_with_parent
    from web import create_app
    from web.engine import get_engine

    # "Task queue depth is N" on every request that waits for a thread: noise under load, not news
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    if engine is not None:
        workers = 1

    def app():
        application = create_app({"INDEX_DIR": index_dir, "ENGINE": engine})
        with application.app_context():
            try:
                get_engine().warm_up()  # the did-you-mean index: seconds on a large index, built before it is needed
            except SearchError:
                pass  # no usable index yet: each request answers 503 until there is one
        return application

    listener = socket.create_server((host, port), backlog=2048)  # OSError here: the port is taken
    if workers <= 1 or not hasattr(os, "fork"):
        application = app()
        if on_ready:
            on_ready()
        waitress_serve(application, sockets=[listener], threads=threads, ident="newsearch")
        return
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
    if on_ready:
        on_ready()
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
