"""Brute-force protection for ``POST /login``: after too many failed logins
for one account, or from one client address, within a sliding window, logins
are refused with 429 and ``Retry-After`` until the oldest failure leaves the
window (OWASP Authentication Cheat Sheet, "Protect against automated attacks").

Failures live in PostgreSQL (table ``login_failures``) so that every auth
process and replica sees the same counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..common.db import Database

__all__ = ["LoginThrottle"]


@dataclass
class LoginThrottle:
    """``max_per_account`` and ``max_per_address`` failures are allowed in
    ``window_seconds``; the next attempt is refused."""

    db: Database
    max_per_account: int
    max_per_address: int
    window_seconds: int

    @staticmethod
    def keys(email: str, address: str | None) -> dict[str, str]:
        return {"account": f"account:{email.strip().lower()}", "address": f"address:{address or 'unknown'}"}

    def retry_after(self, email: str, address: str | None) -> int:
        """0 if a login may be tried now, else the seconds until it may."""
        keys = self.keys(email, address)
        limits = {keys["account"]: self.max_per_account, keys["address"]: self.max_per_address}
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

    def record_failure(self, email: str, address: str | None) -> None:
        """Count one failed login against the account and the address."""
        keys = self.keys(email, address)
        with self.db.transaction() as cur:
            cur.execute("INSERT INTO login_failures (key) VALUES (%s), (%s)", (keys["account"], keys["address"]))
            cur.execute(
                "DELETE FROM login_failures WHERE key = ANY(%s)"
                " AND failed_at < clock_timestamp() - make_interval(secs => %s)",
                (list(keys.values()), self.window_seconds),
            )

    def record_success(self, email: str) -> None:
        """Forget the account's failures (the address's stay counted)."""
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM login_failures WHERE key = %s", (self.keys(email, None)["account"],))
