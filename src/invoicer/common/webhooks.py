"""Webhooks, the parts the invoices service (registration) and the webhook
sender (:mod:`invoicer.webhook`) share: the event types, secrets, Standard
Webhooks signatures and the address policy that keeps deliveries away from
internal networks.

Signatures follow the Standard Webhooks specification
(https://www.standardwebhooks.com, "Signature scheme"): headers
``webhook-id``, ``webhook-timestamp`` (Unix seconds) and
``webhook-signature``, ``v1,`` + base64 HMAC-SHA256 of
``<id>.<timestamp>.<body>`` keyed with the base64-decoded secret after its
``whsec_`` prefix; several signatures (a rotated secret and its
predecessor) are separated by spaces. The ``standardwebhooks`` package
computes them; :func:`sign` wraps it so that its two gotchas cannot bite
(its ``sign()`` reads a naive or non-UTC datetime wrongly, its ``verify()``
raises a bare ``ValueError`` on a malformed header).

Address policy (the issue's "safe by default"): a delivery may only reach a
*global* unicast address (:attr:`ipaddress.IPv4Address.is_global`), which
leaves out loopback, unspecified (``0.0.0.0``, ``::``), private (RFC 1918,
RFC 4193), shared (RFC 6598, where some clouds put their metadata service),
link-local (RFC 3927, ``169.254.169.254`` metadata), documentation and
reserved ranges, and multicast; an IPv4-mapped IPv6 address is judged as
its IPv4 address. ``WEBHOOK_ALLOWED_NETWORKS`` (CIDRs) lets chosen networks
through all the same.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from urllib.parse import SplitResult, urlsplit

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from .components import WEBHOOK_EVENTS

__all__ = [
    "EVENT_TYPES",
    "SECRET_PREFIX",
    "AddressRefused",
    "InvalidUrl",
    "Network",
    "check_address",
    "literal_address",
    "new_secret",
    "parse_networks",
    "parse_url",
    "sign",
    "verify",
]

#: The event types an endpoint may subscribe to (issue 20): the invoices
#: service's domain events and the render jobs' outcome; the webhook queue of
#: the component registry is bound to exactly these.
EVENT_TYPES = WEBHOOK_EVENTS

#: Secrets are ``whsec_`` + base64 of 32 random bytes (Standard Webhooks).
SECRET_PREFIX = "whsec_"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class InvalidUrl(ValueError):
    """The URL cannot be an endpoint (scheme, host, credentials); the message says why."""


class AddressRefused(ValueError):
    """The address is one deliveries must not reach; the message names it and why."""


def new_secret() -> str:
    """A new signing secret: ``whsec_`` + base64 of 32 random bytes (256 bits)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secrets_: Sequence[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header for ``body`` sent as ``message_id``
    at ``timestamp`` (Unix seconds): one ``v1,<base64>`` per secret of
    ``secrets_`` (``whsec_…``), separated by a space. Raises ValueError for
    an empty list or a secret that is not base64."""
    if not secrets_:
        raise ValueError("at least one secret is needed to sign")
    moment = datetime.fromtimestamp(timestamp, tz=UTC)  # aware UTC: the package reads nothing else right
    text = body.decode()
    return " ".join(Webhook(secret).sign(message_id, moment, text) for secret in secrets_)


def verify(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    """True if ``headers`` carry a valid Standard Webhooks signature of
    ``body`` by ``secret`` with a timestamp within 5 minutes of now; False
    for a missing, malformed, stale or wrong one (never raises)."""
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except (WebhookVerificationError, ValueError, IndexError, TypeError):
        return False
    return True


def parse_networks(text: str) -> tuple[Network, ...]:
    """``WEBHOOK_ALLOWED_NETWORKS``: CIDRs separated by commas or spaces
    (``127.0.0.0/8, fd00::/8``); empty for none. Raises ValueError naming a
    bad one."""
    found: list[Network] = []
    for item in text.replace(",", " ").split():
        try:
            found.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not a CIDR network such as 127.0.0.0/8") from None
    return tuple(found)


def _judged(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def check_address(address: str | Address, allowed: Iterable[Network] = ()) -> Address:
    """``address`` if deliveries may reach it (see the module's docstring),
    else :class:`AddressRefused` saying why. ValueError if it is not an IP
    address."""
    ip = _judged(ipaddress.ip_address(address) if isinstance(address, str) else address)
    if any(ip.version == network.version and ip in network for network in allowed):
        return ip
    if ip.is_unspecified:
        why = "unspecified"
    elif ip.is_loopback:
        why = "loopback"
    elif ip.is_link_local:
        why = "link-local (cloud metadata lives there)"
    elif ip.is_multicast:
        why = "multicast"
    elif ip.is_private:
        why = "private"
    elif not ip.is_global:
        why = "not a public address"
    else:
        return ip
    raise AddressRefused(f"{ip} is a {why} address; webhooks are only delivered to public addresses")


def parse_url(url: str) -> SplitResult:
    """``url`` split, if it can be an endpoint: ``http`` or ``https``, a
    host, no user name or password, no fragment, a valid port. Raises
    :class:`InvalidUrl` saying what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidUrl(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidUrl("the URL must start with https:// or http://")
    if not parts.hostname:
        raise InvalidUrl("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidUrl("the URL must not carry a user name or password; authenticate by the signature")
    if parts.fragment:
        raise InvalidUrl("the URL must not have a #fragment")
    if port == 0:
        raise InvalidUrl("port 0 cannot be reached")
    return parts


def literal_address(parts: SplitResult) -> Address | None:
    """The IP address the URL's host is written as, or None for a name."""
    try:
        return ipaddress.ip_address(parts.hostname or "")
    except ValueError:
        return None
