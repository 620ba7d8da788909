"""Requests that gunicorn refuses before any app sees them (a request line or
header over its limits, a request that is not HTTP) get the same JSON error
body as every other error, from the gateway and from the auth service alike,
over raw sockets because no HTTP client will send them."""

from __future__ import annotations

import json
import socket
import uuid
from urllib.parse import urlsplit

import pytest

# gunicorn's defaults: limit_request_line 4094, limit_request_field_size 8190.
LONG_LINE = b"GET /jobs?" + b"q" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
LONG_HEADER = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"p" * 9000 + b"\r\n\r\n"
GARBAGE = b"\x16\x03\x01 this is not HTTP\r\n\r\n"


def _exchange(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as is and read the answer until the server closes."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


@pytest.fixture(params=["gateway", "auth"])
def service_url(request, stack) -> str:
    return stack.base_url if request.param == "gateway" else stack.auth_url


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (LONG_LINE, 414, "uri_too_long"),
        (LONG_HEADER, 431, "request_header_fields_too_large"),
        (GARBAGE, 400, "bad_request"),
    ],
    ids=["request-line-too-long", "header-too-large", "not-http"],
)
def test_gunicorns_own_errors_are_json(service_url, request_bytes, status, code):
    got, headers, body = _exchange(service_url, request_bytes)
    assert got == status, body
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    assert headers["x-content-type-options"] == "nosniff"
    assert uuid.UUID(headers["x-request-id"]).version == 4
    error = json.loads(body)["error"]
    assert error["code"] == code
    assert error["message"] and error["details"] == []
    # Nothing of what the client sent is echoed back.
    assert b"qqqq" not in body and b"pppp" not in body and b"not HTTP" not in body


def test_the_service_still_answers_after_refusing(stack, service_url):
    _exchange(service_url, GARBAGE)
    status, _, body = _exchange(service_url, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200, body


@pytest.mark.parametrize("service", ["gateway", "auth"])
def test_a_413_closes_the_connection_instead_of_reading_the_rest(stack, client, service):
    """Issue 22: after a 413 the server must not keep the connection open and
    read (or parse as the next request) the rest of a body it refused."""
    parts = urlsplit(stack.base_url if service == "gateway" else stack.auth_url)
    path = b"/upload" if service == "gateway" else b"/login"
    head = b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    head += f"Authorization: Bearer {client.token}\r\n".encode() if service == "gateway" else b""
    head += b"Content-Length: 50000000\r\n\r\n"
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(head + b"[" * 65536)
        chunks = []
        while chunk := sock.recv(65536):  # a socket.timeout here: the server kept it open
            chunks.append(chunk)
    head_text, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    assert head_text.split()[1] == b"413", head_text
    assert b"connection: close" in head_text.lower()
    assert json.loads(body)["error"]["code"] == "payload_too_large"
