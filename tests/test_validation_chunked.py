"""Chunked request bodies over a real HTTP server: no Content-Length, and still the 4 KiB limit.

Flask's test client always sends a length, so these need werkzeug's server, which decodes
chunked transfer encoding.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from collections.abc import Iterator

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import PASSWORD
from tests.problems import TOO_LARGE

pytestmark = pytest.mark.minimal_app

AUTH_MAX_BODY = 4 * 1024


@pytest.fixture
def http_server(app: Flask) -> Iterator[tuple[str, int]]:
    """The test app behind werkzeug's real HTTP server, which decodes chunked bodies."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_port
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def chunked_post(
    address: tuple[str, int], path: str, chunks: list[bytes], headers: dict[str, str]
) -> tuple[int, str, bytes]:
    """POST a chunked body (no Content-Length) over a real connection: (status, type, body)."""
    conn = http.client.HTTPConnection(*address, timeout=10)
    try:
        # The server may answer 413 and close before reading everything.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.request(
                "POST",
                path,
                body=iter(chunks),
                headers={"Content-Type": "application/json", **headers},
                encode_chunked=True,
            )
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


def test_a_chunked_body_without_length_is_refused_over_the_limit(
    app: Flask, http_server: tuple[str, int]
) -> None:
    base = f"http://{http_server[0]}:{http_server[1]}"
    browser = requests.Session()
    token = browser.get(base + "/api/auth/session", timeout=10).json()["csrf_token"]
    jar = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    headers = {"Cookie": jar, "X-XSRF-TOKEN": token}  # the token is bound to the pre-session

    big = [b'{"identity": "' + b"x" * 1000] + [b"x" * 1000] * 8 + [b'", "password": "p"}']
    status, content_type, body = chunked_post(http_server, "/api/auth/login", big, headers)
    assert (status, content_type) == (413, "application/problem+json"), body
    assert json.loads(body) == TOO_LARGE

    # A valid object in the first 4 KiB must not be accepted as if the rest were not there.
    prefix = json.dumps({"identity": "nobody", "password": PASSWORD, "x": "y" * 5000})
    prefix = prefix[: AUTH_MAX_BODY - 2] + '"}'
    assert len(prefix) == AUTH_MAX_BODY and json.loads(prefix)
    chunks = [prefix.encode(), b" " * 2000]
    status, _, body = chunked_post(http_server, "/api/auth/login", chunks, headers)
    assert status == 413, body

    # Control: the same request, small enough, is read and judged on its content.
    small = [b'{"identity": "nobody", ', b'"password": "' + PASSWORD.encode() + b'"}']
    status, _, body = chunked_post(http_server, "/api/auth/login", small, headers)
    assert status == 401, body
    exact = [prefix.encode()]  # exactly at the limit is still allowed
    status, _, body = chunked_post(http_server, "/api/auth/login", exact, headers)
    assert status == 422, body
