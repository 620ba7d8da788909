"""Sending due webhook deliveries, and what becomes of each attempt.

A round claims the oldest due delivery (``status = 'pending'``,
``next_attempt_at <= now()``, endpoint enabled) with ``FOR UPDATE SKIP
LOCKED``, so several senders share the work and none sends what another
holds; it sends it (:func:`invoicer.webhook.transport.post`) while holding
the row, writes the attempt to the log and the delivery's next state, and
commits. The state is in PostgreSQL, so a sender that crashes loses
nothing: its transaction rolls back and the delivery is due again. A
success is recorded once: the row leaves ``pending`` in the transaction
that records it. (A crash after the receiver answered 2xx and before that
commit sends it once more, with the same ``webhook-id``, which is what
Standard Webhooks asks receivers to deduplicate on.)

Policy (:func:`settle`): 2xx succeeds; 410 Gone turns the endpoint off
(``disabled_reason``) and the delivery is dead; anything else (another
status, a redirect, a timeout, a refused address) is retried after the
next delay of the schedule (``WEBHOOK_RETRY_SCHEDULE``, each delay ±20 %
jitter), and once the schedule is used up the delivery is dead (the
dead-letter state: kept in the log, sent again only when someone asks).

Every attempt is signed anew (``webhook-timestamp`` is the attempt's time)
with the endpoint's secret and, during the grace period after a rotation,
its previous secret too.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..common import logging as logs
from ..common import metrics
from ..common.config import Settings
from ..common.db import Database, DatabaseUnavailable
from ..common.webhooks import sign
from .transport import Answer, post

__all__ = ["USER_AGENT", "Outcome", "Sender", "settle"]

log = logs.get_logger(__name__)

USER_AGENT = "invoicer-webhooks/1"
#: The share of a delay the jitter moves it by, either way.
JITTER = 0.2


@dataclass(frozen=True)
class Outcome:
    """What follows an attempt: the delivery's ``status``, seconds until the
    next attempt (for ``pending``), and whether the endpoint is turned off."""

    status: Literal["pending", "succeeded", "dead"]
    delay: float | None = None
    disable: bool = False


def settle(
    answer: Answer, step: int, schedule: Sequence[float], jitter: Callable[[], float] = random.random
) -> Outcome:
    """The outcome of attempt number ``step`` (1-based, counted since the
    delivery was last asked for) that got ``answer``, by the module's
    policy; ``jitter`` returns a number in [0, 1)."""
    if answer.ok:
        return Outcome("succeeded")
    if answer.status == 410:
        return Outcome("dead", disable=True)
    if step > len(schedule):
        return Outcome("dead")
    base = schedule[step - 1]
    return Outcome("pending", delay=base * (1 - JITTER + 2 * JITTER * jitter()))


#: An outcome's status as the delivery metric's ``result``.
_RESULTS = {"succeeded": "success", "pending": "failure", "dead": "dead"}


class Sender:
    """Sends the due deliveries of ``db`` with ``settings``' schedule,
    timeout and allowed networks. ``run`` loops until ``stop``, calling
    ``on_round`` at the start of every round (the health endpoint's beat)."""

    def __init__(self, db: Database, settings: Settings, on_round: Callable[[], None] | None = None) -> None:
        self.db = db
        self.on_round = on_round
        self.schedule = settings.retry_schedule
        self.allowed = settings.allowed_networks
        self.timeout = float(settings.webhook_timeout_seconds)
        self._stop = threading.Event()

    def send_one(self) -> bool:
        """Claim, send and settle one due delivery; False when none was due.
        Raises :class:`DatabaseUnavailable`."""
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT d.id, d.endpoint_id, d.event_type, d.body, d.step, e.url, e.secret,"
                " CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END AS previous_secret"
                " FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id"
                " WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND e.enabled"
                " ORDER BY d.next_attempt_at LIMIT 1 FOR UPDATE OF d SKIP LOCKED"
            )
            row = cur.fetchone()
            if row is None:
                return False
            try:
                answer = self.attempt(row)
            except Exception as exc:  # a bug here must fail this attempt, not hold up every delivery behind it
                log.exception("webhook attempt failed unexpectedly", extra={"delivery_id": str(row["id"])})
                answer = Answer(None, "", 0, f"internal error: {type(exc).__name__}")
            step = row["step"] + 1
            outcome = settle(answer, step, self.schedule)
            cur.execute(
                "INSERT INTO webhook_attempts (delivery_id, status_code, duration_ms, error, response_body)"
                " VALUES (%s, %s, %s, %s, %s)",
                (row["id"], answer.status, answer.duration_ms, answer.error, answer.body.replace("\x00", "")),
            )
            cur.execute(
                "UPDATE webhook_deliveries SET status = %s, attempts = attempts + 1, step = %s,"
                " next_attempt_at = CASE WHEN %s::float8 IS NULL THEN NULL"
                "   ELSE now() + make_interval(secs => %s::float8) END, updated_at = now()"
                " WHERE id = %s",
                (outcome.status, step, outcome.delay, outcome.delay, row["id"]),
            )
            if outcome.disable:
                cur.execute(
                    "UPDATE webhook_endpoints SET enabled = false, updated_at = now(),"
                    " disabled_reason = 'the endpoint answered 410 Gone' WHERE id = %s",
                    (row["endpoint_id"],),
                )
        metrics.WEBHOOK_DELIVERIES.labels(str(row["endpoint_id"]), _RESULTS[outcome.status]).inc()
        log.info(
            "webhook attempt",
            extra={
                "delivery_id": str(row["id"]),
                "type": row["event_type"],
                "status_code": answer.status,
                "duration_ms": answer.duration_ms,
                "result": outcome.status,
                "error": answer.error,
            },
        )
        return True

    def attempt(self, row: dict[str, Any]) -> Answer:
        """Sign ``row``'s body now and POST it to the endpoint."""
        body: bytes = row["body"].encode()
        message_id = str(row["id"])
        timestamp = int(time.time())
        secrets_ = [row["secret"]] + ([row["previous_secret"]] if row["previous_secret"] else [])
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secrets_, message_id, timestamp, body),
        }
        return post(row["url"], body, headers, allowed=self.allowed, timeout=self.timeout)

    def run(self, idle_seconds: float = 0.5) -> None:
        """Send due deliveries until :meth:`stop`; pause ``idle_seconds``
        when none is due, and back off (up to 10 s) while PostgreSQL is down."""
        delay = 0.5
        while not self._stop.is_set():
            if self.on_round is not None:
                self.on_round()
            try:
                if not self.send_one():
                    self._stop.wait(idle_seconds)
                delay = 0.5
            except DatabaseUnavailable as exc:
                log.warning("webhook sender cannot reach the database", extra={"error": str(exc), "delay_s": delay})
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)
            except Exception:  # a bug on one delivery must not stop the others for good
                log.exception("webhook sender round failed")
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)

    def stop(self) -> None:
        self._stop.set()
