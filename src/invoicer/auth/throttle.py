"""Brute-force protection for ``POST /login`` that a stranger cannot turn
into a lock-out (OWASP Authentication Cheat Sheet, "Protect against automated
attacks"; issue 12).

Failed logins are counted within a sliding window of ``window_seconds``:

* per **(account, client address)**: after ``max_per_account_address``
  failures, that address is refused (429 with ``Retry-After``) for that
  account, even with the right password, until the oldest of them leaves the
  window. Another address, one that has not been failing against the
  account, still gets in with the right password: a stranger's guesses
  never lock the owner out.
* per **client address**: after ``max_per_address`` failures across all
  accounts, that address is refused for every account.

So an attacker gets ``max_per_account_address`` guesses per window against
one account from each address it controls, and ``max_per_address`` guesses
per window from each address in all; every guess costs one Argon2id
verification on our side. An IPv6 client counts by its /64 network (one
subscriber's usual allocation, RFC 6177), so a single host cannot buy fresh
counts by rotating addresses inside its own prefix.

Accounts are counted under a SHA-256 of the normalised address, so that
whatever was typed as an e-mail (sometimes a password) is not stored; the
log lines use the first 16 hex digits of the same hash (:func:`account_tag`).
Failures live in PostgreSQL (table ``login_failures``) so that every auth
process and replica sees the same counts.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass

from ..common.db import Database

__all__ = ["LoginThrottle", "RequestLimit", "account_tag", "client_network", "request_keys"]

#: IPv6 clients are counted per network of this prefix length.
IPV6_PREFIX = 64


def _account_hash(account: str) -> str:
    return hashlib.sha256(account.strip().lower().encode("utf-8")).hexdigest()


def account_tag(account: str) -> str:
    """What logs show of an account: the first 16 hex digits of the SHA-256
    of ``account`` (the normalised e-mail, stripped and lower-cased)."""
    return _account_hash(account)[:16]


def client_network(address: str | None) -> str:
    """The key a client address is counted under: an IPv4 address as it is,
    an IPv6 address as its /64 network, anything else (no address, not an
    IP) as itself, or ``"unknown"``."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)


@dataclass
class LoginThrottle:
    """``max_per_account_address`` failures of one account from one client
    address, and ``max_per_address`` failures from one client address, are
    allowed in ``window_seconds``; the next attempt is refused (see the
    module docstring). ``account`` arguments are normalised e-mail addresses
    (:func:`invoicer.auth.accounts.login_identity`)."""

    db: Database
    max_per_account_address: int
    max_per_address: int
    window_seconds: int

    @staticmethod
    def keys(account: str, address: str | None) -> dict[str, str]:
        """The ``login_failures`` keys one attempt counts under:
        ``{"pair": ..., "address": ...}``."""
        network = client_network(address)
        return {"pair": f"pair:{_account_hash(account)}:{network}", "address": f"address:{network}"}

    def retry_after(self, account: str, address: str | None) -> int:
        """0 if ``address`` may try to log in to ``account`` now, else the
        seconds until it may."""
        keys = self.keys(account, address)
        limits = {keys["pair"]: self.max_per_account_address, keys["address"]: self.max_per_address}
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT key, count(*) AS failures,"
                " extract(epoch FROM min(failed_at) + make_interval(secs => %s) - clock_timestamp()) AS wait"
                " FROM login_failures WHERE key = ANY(%s)"
                " AND failed_at > clock_timestamp() - make_interval(secs => %s) GROUP BY key",
                (self.window_seconds, list(limits), self.window_seconds),
            )
            rows = cur.fetchall()
        waits = [max(1, math.ceil(float(row["wait"]))) for row in rows if row["failures"] >= limits[row["key"]]]
        return max(waits, default=0)

    def record_failure(self, account: str, address: str | None) -> None:
        """Count one failed login of ``account`` from ``address``; forget
        every failure that has left the window (of any key, so that keys
        an attacker sprayed do not pile up)."""
        keys = self.keys(account, address)
        with self.db.transaction() as cur:
            cur.execute("INSERT INTO login_failures (key) VALUES (%s), (%s)", (keys["pair"], keys["address"]))
            # Only the login keys: other limits (RequestLimit) keep their own, longer windows.
            cur.execute(
                "DELETE FROM login_failures WHERE failed_at < clock_timestamp() - make_interval(secs => %s)"
                " AND (key LIKE 'pair:%%' OR key LIKE 'address:%%')",
                (self.window_seconds,),
            )

    def record_success(self, account: str, address: str | None) -> None:
        """Forget ``account``'s failures from ``address`` (the address's
        count across accounts stays)."""
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM login_failures WHERE key = %s", (self.keys(account, address)["pair"],))


@dataclass
class RequestLimit:
    """At most ``limit`` requests per key within ``window_seconds`` (the
    same table and sliding window as the login failures, under keys of
    their own, e.g. ``reset:address:<hash>``): what keeps password-reset
    mails from being sent to one address, or from one client, in bulk."""

    db: Database
    window_seconds: int

    def take(self, limits: dict[str, int]) -> int:
        """Count one request under every key of ``limits`` (key -> the most
        allowed in the window) and return 0, or, when a key has had its
        ``limit`` already, count nothing and return the seconds until the
        oldest of them leaves the window. Every caller gets the same answer
        for the same counts, whoever the key names."""
        with self.db.transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 22))", (min(limits),))
            cur.execute(
                "SELECT key, count(*) AS used,"
                " extract(epoch FROM min(failed_at) + make_interval(secs => %s) - clock_timestamp()) AS wait"
                " FROM login_failures WHERE key = ANY(%s)"
                " AND failed_at > clock_timestamp() - make_interval(secs => %s) GROUP BY key",
                (self.window_seconds, list(limits), self.window_seconds),
            )
            waits = [
                max(1, math.ceil(float(row["wait"]))) for row in cur.fetchall() if row["used"] >= limits[row["key"]]
            ]
            if waits:
                return max(waits)
            for key in limits:
                cur.execute("INSERT INTO login_failures (key) VALUES (%s)", (key,))
            prefixes = sorted({key.split(":", 1)[0] + ":%" for key in limits})
            cur.execute(
                "DELETE FROM login_failures WHERE failed_at < clock_timestamp() - make_interval(secs => %s)"
                " AND key LIKE ANY(%s)",
                (self.window_seconds, prefixes),
            )
        return 0


def request_keys(kind: str, account: str, address: str | None) -> tuple[str, str]:
    """The keys of one request of ``kind`` (e.g. ``reset``) for ``account``
    (a normalised address, stored hashed) from client ``address``:
    ``(per account, per client network)``."""
    return f"{kind}:account:{_account_hash(account)}", f"{kind}:client:{client_network(address)}"
