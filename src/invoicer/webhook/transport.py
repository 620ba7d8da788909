"""One webhook HTTP attempt, to an address the policy allows and no other.

The URL's host is resolved (``getaddrinfo``), *every* address it resolves
to is checked (:func:`invoicer.common.webhooks.check_address`: a name with
one private address among public ones is refused, so DNS answers cannot be
played against the check), and the connection is made to the first checked
address itself: urllib3 connects to that IP, sends the URL's host in
``Host`` and, for https, as SNI and the name the certificate must match. A
second lookup (DNS rebinding) therefore cannot move the connection.
Redirects are not followed (a 3xx is a failed attempt saying where it
pointed); nothing is retried here; connect and read time out after
``timeout`` seconds; at most ``limit`` bytes of the answer are read.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult

import urllib3
from urllib3.exceptions import HTTPError

from ..common.webhooks import AddressRefused, InvalidUrl, Network, check_address, parse_url

__all__ = ["RESPONSE_LIMIT", "Answer", "post"]

#: How much of an answer's body is read and kept in the delivery log, in bytes.
RESPONSE_LIMIT = 4096


@dataclass(frozen=True)
class Answer:
    """What one attempt got: ``status`` (None when no answer came; ``error``
    then says why), the start of the body, and how long it took in ms."""

    status: int | None
    body: str
    duration_ms: int
    error: str | None = None
    refused: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _resolve(parts: SplitResult, port: int, allowed: Iterable[Network]) -> str:
    """The checked IP address to connect to; raises AddressRefused or OSError."""
    host = parts.hostname or ""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise OSError(f"{host} resolves to no address")
    networks = tuple(allowed)
    for address in addresses:
        try:
            check_address(address.split("%", 1)[0], networks)
        except AddressRefused as exc:
            raise AddressRefused(f"{host} resolves to {address}: {exc}") from None
    return addresses[0].split("%", 1)[0]


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    allowed: Iterable[Network] = (),
    timeout: float = 5.0,
    limit: int = RESPONSE_LIMIT,
) -> Answer:
    """POST ``body`` with ``headers`` to ``url`` as the module's docstring
    says. Never raises: a refused address, a timeout or a broken connection
    is an :class:`Answer` without status (``refused`` for the address policy)."""
    started = time.monotonic()

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        parts = parse_url(url)
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        address = _resolve(parts, port, allowed)
    except (InvalidUrl, AddressRefused) as exc:
        return Answer(None, "", elapsed(), f"refused: {exc}", refused=True)
    except (OSError, UnicodeError, ValueError) as exc:  # UnicodeError: a name IDNA cannot encode
        return Answer(None, "", elapsed(), f"cannot resolve {parts.hostname}: {exc}")
    host = parts.hostname or ""
    host_header = host if ":" not in host else f"[{host}]"
    if parts.port is not None:
        host_header += f":{parts.port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    limits = urllib3.Timeout(connect=timeout, read=timeout)
    pool: urllib3.HTTPConnectionPool
    if https:
        pool = urllib3.HTTPSConnectionPool(
            address, port, timeout=limits, retries=False, server_hostname=host, assert_hostname=host
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=limits, retries=False)
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            head = response.read(limit, decode_content=False)
        finally:
            response.release_conn()
        text = head.decode("utf-8", errors="replace")
        error = None
        if 300 <= response.status < 400:
            error = f"redirect to {response.headers.get('Location', '?')} not followed"
        return Answer(response.status, text, elapsed(), error)
    except (HTTPError, OSError, ValueError) as exc:
        return Answer(None, "", elapsed(), f"{type(exc).__name__}: {exc}")
    finally:
        pool.close()
