"""The real server (`newsearch serve`, waitress) on a free port: a request line with raw UTF-8 in it, as curl and
many scripts send it, is answered as its percent-encoded twin is, in one process and with forked workers."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest

from tests.live import served


def raw_get(base: str, target: bytes) -> tuple[int, dict[str, str], bytes]:
    """GET `target` exactly as given (no encoding by a client library): (status, headers, body)."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(1 << 16):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize("workers", ["1", "2"])
def test_raw_utf8_in_the_request_line_is_accepted(seed_index, tmp_path, workers):
    with served(seed_index, tmp_path, "--workers", workers) as base:
        status, headers, body = raw_get(base, "/api/search?q=复工".encode())
        assert status == 200 and headers["content-type"] == "application/json"
        raw = json.loads(body)
        encoded = json.loads(raw_get(base, b"/api/search?q=%E5%A4%8D%E5%B7%A5")[2])
        assert raw["query"]["q"] == "复工" and raw["total"] == encoded["total"] > 0
        assert [h["id"] for h in raw["hits"]] == [h["id"] for h in encoded["hits"]]

        status, headers, body = raw_get(base, "/search?q=复工&region=湖南省".encode())
        assert status == 200 and headers["content-type"].startswith("text/html")
        assert "<mark>复工</mark>" in body.decode("utf-8")

        # raw UTF-8 in the path: the app's own 404 (a JSON error under /api), not waitress's "Bad URI"
        status, headers, body = raw_get(base, "/api/articles/复工".encode())
        assert status == 404 and json.loads(body) == {
            "ok": False,
            "error": "no article with id '复工'",
            "status": 404,
        }
        # bytes that are not UTF-8 (复工 in GB18030) are read as the same bytes percent-encoded are
        status, headers, body = raw_get(base, "/api/search?q=复工".encode("gb18030"))
        assert status == 200 and headers["content-type"] == "application/json"
        encoded = json.loads(raw_get(base, b"/api/search?q=%B8%B4%B9%A4")[2])
        assert json.loads(body)["query"] == encoded["query"] and json.loads(body)["total"] == encoded["total"]


def test_percent_encoding_touches_only_the_request_line():
    from web.server import percent_encode_request_line

    header = "GET /search?q=复工 HTTP/1.1\r\nX-Note: 复工\r\n\r\n".encode()
    assert percent_encode_request_line(header) == (
        b"GET /search?q=%E5%A4%8D%E5%B7%A5 HTTP/1.1\r\nX-Note: " + "复工".encode() + b"\r\n\r\n"
    )
    plain = b"GET /search?q=%E5%A4%8D HTTP/1.1\r\nHost: x\r\n\r\n"
    assert percent_encode_request_line(plain) is plain
