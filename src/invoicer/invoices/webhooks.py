"""Webhook endpoints of an organisation (issue 20): registered, changed,
rotated and removed here; their deliveries are made by the webhook sender
(:mod:`invoicer.webhook`), which this module only reads and re-queues.

Owners only: every function raises :class:`Forbidden` (``owner_only``) for
another role, and :class:`NotFound` for an endpoint or delivery of another
organisation, exactly as for an unknown one.

The secret (``whsec_…``, :func:`invoicer.common.webhooks.new_secret`) is
answered by :func:`create_endpoint` and :func:`rotate_secret` only; no read
returns it. After a rotation the previous secret keeps signing (beside the
new one) for the grace period (``WEBHOOK_SECRET_GRACE_SECONDS``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from invoicer.common.db import Cursor, one_row
from invoicer.common.webhooks import (
    AddressRefused,
    InvalidUrl,
    Network,
    check_address,
    literal_address,
    new_secret,
    parse_url,
)

from ._sql import as_uuid
from .errors import Conflict, NotFound, Unprocessable
from .identity import Member

__all__ = [
    "check_url",
    "create_endpoint",
    "delete_endpoint",
    "list_deliveries",
    "list_endpoints",
    "retry_delivery",
    "rotate_secret",
    "update_endpoint",
]

_COLUMNS = "id, url, events, description, enabled, disabled_reason, previous_secret_expires_at, created_at, updated_at"


def check_url(url: str, allowed: Iterable[Network]) -> str:
    """``url`` stripped, if it can be an endpoint: ``http(s)``, a host, no
    credentials (:func:`~invoicer.common.webhooks.parse_url`), and a host
    written as an IP address must be one deliveries may reach
    (:func:`~invoicer.common.webhooks.check_address`; a name is checked
    after DNS resolution, at every delivery). Raises :class:`Unprocessable`
    at ``/url``: ``invalid_url`` or ``webhook_address_refused``."""
    url = url.strip()
    try:
        parts = parse_url(url)
    except InvalidUrl as exc:
        raise Unprocessable(str(exc), code="invalid_url", pointer="/url") from None
    address = literal_address(parts)
    if address is not None:
        try:
            check_address(address, allowed)
        except AddressRefused as exc:
            raise Unprocessable(str(exc), code="webhook_address_refused", pointer="/url") from None
    return url


def _events(events: list[str]) -> list[str]:
    return sorted(set(events))


def _endpoint(cur: Cursor, member: Member, endpoint_id: Any, *, lock: bool = False) -> dict[str, Any]:
    key = as_uuid(endpoint_id)
    cur.execute(
        f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE id = %s AND organisation_id = %s"
        + (" FOR UPDATE" if lock else ""),
        (key, member.organisation_id),
    )
    row = cur.fetchone() if key is not None else None
    if row is None:
        raise NotFound("no such webhook endpoint", code="webhook_not_found")
    return dict(row)


def list_endpoints(cur: Cursor, member: Member) -> list[dict[str, Any]]:
    """The organisation's endpoints, oldest first (owner only)."""
    member.require_owner()
    cur.execute(
        f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE organisation_id = %s ORDER BY created_at, id",
        (member.organisation_id,),
    )
    return [dict(row) for row in cur.fetchall()]


def create_endpoint(cur: Cursor, member: Member, fields: dict[str, Any], allowed: Iterable[Network]) -> dict[str, Any]:
    """A new endpoint from ``fields`` (``url``, ``events``, ``description``:
    :class:`~.models.WebhookCreate`); returns its row with ``secret``, the
    only time it is answered. Owner only; :func:`check_url`'s errors."""
    member.require_owner()
    url = check_url(fields["url"], allowed)
    cur.execute(
        "INSERT INTO webhook_endpoints (organisation_id, url, events, description, secret)"
        f" VALUES (%s, %s, %s, %s, %s) RETURNING {_COLUMNS}, secret",
        (member.organisation_id, url, _events(fields["events"]), fields.get("description", "").strip(), new_secret()),
    )
    return dict(one_row(cur))


def update_endpoint(
    cur: Cursor, member: Member, endpoint_id: Any, fields: dict[str, Any], allowed: Iterable[Network]
) -> dict[str, Any]:
    """Change ``url``, ``events``, ``description`` or ``enabled`` (a field
    sent as null is left as it is); turning an endpoint on clears why it was
    turned off. Owner only; 404 for an unknown endpoint."""
    member.require_owner()
    row = _endpoint(cur, member, endpoint_id, lock=True)
    values = {
        "url": check_url(fields["url"], allowed) if fields.get("url") is not None else row["url"],
        "events": _events(fields["events"]) if fields.get("events") is not None else row["events"],
        "description": fields["description"].strip() if fields.get("description") is not None else row["description"],
        "enabled": fields["enabled"] if fields.get("enabled") is not None else row["enabled"],
    }
    cur.execute(
        "UPDATE webhook_endpoints SET url = %(url)s, events = %(events)s, description = %(description)s,"
        " enabled = %(enabled)s,"
        " disabled_reason = CASE WHEN %(enabled)s THEN NULL ELSE disabled_reason END, updated_at = now()"
        f" WHERE id = %(id)s RETURNING {_COLUMNS}",
        {**values, "id": row["id"]},
    )
    return dict(one_row(cur))


def delete_endpoint(cur: Cursor, member: Member, endpoint_id: Any) -> None:
    """Remove the endpoint with its deliveries and their log. Owner only; 404 if unknown."""
    member.require_owner()
    row = _endpoint(cur, member, endpoint_id)
    cur.execute("DELETE FROM webhook_endpoints WHERE id = %s", (row["id"],))


def rotate_secret(cur: Cursor, member: Member, endpoint_id: Any, grace_seconds: int) -> dict[str, Any]:
    """A new secret for the endpoint; the current one keeps signing beside
    it for ``grace_seconds`` (a rotation within that time replaces the
    previous one). Returns the row with the new ``secret``. Owner only."""
    member.require_owner()
    row = _endpoint(cur, member, endpoint_id, lock=True)
    cur.execute(
        "UPDATE webhook_endpoints SET previous_secret = secret, secret = %s,"
        " previous_secret_expires_at = now() + make_interval(secs => %s), updated_at = now()"
        f" WHERE id = %s RETURNING {_COLUMNS}, secret",
        (new_secret(), grace_seconds, row["id"]),
    )
    return dict(one_row(cur))


def _attempts(cur: Cursor, delivery_ids: list[Any]) -> dict[Any, list[dict[str, Any]]]:
    found: dict[Any, list[dict[str, Any]]] = {key: [] for key in delivery_ids}
    if delivery_ids:
        cur.execute(
            "SELECT delivery_id, attempted_at, status_code, duration_ms, error FROM webhook_attempts"
            " WHERE delivery_id = ANY(%s) ORDER BY id",
            (delivery_ids,),
        )
        for row in cur.fetchall():
            found[row["delivery_id"]].append(dict(row))
    return found


_DELIVERY_COLUMNS = "id, event_id, event_type, status, next_attempt_at, created_at"


def list_deliveries(
    cur: Cursor, member: Member, endpoint_id: Any, *, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    """The endpoint's deliveries, newest first, each with ``attempts`` (the
    log: ``attempted_at``, ``status_code``, ``duration_ms``, ``error``), and
    how many there are. Owner only; 404 if the endpoint is unknown."""
    member.require_owner()
    row = _endpoint(cur, member, endpoint_id)
    cur.execute(
        f"SELECT {_DELIVERY_COLUMNS}, count(*) OVER () AS total FROM webhook_deliveries WHERE endpoint_id = %s"
        " ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s",
        (row["id"], per_page, (page - 1) * per_page),
    )
    deliveries = [dict(item) for item in cur.fetchall()]
    total = int(deliveries[0]["total"]) if deliveries else 0
    if not deliveries and page > 1:
        cur.execute("SELECT count(*) AS total FROM webhook_deliveries WHERE endpoint_id = %s", (row["id"],))
        total = int(one_row(cur)["total"])
    attempts = _attempts(cur, [item["id"] for item in deliveries])
    for item in deliveries:
        item["attempts"] = attempts[item["id"]]
    return deliveries, total


def retry_delivery(cur: Cursor, member: Member, endpoint_id: Any, delivery_id: Any) -> dict[str, Any]:
    """Send the delivery again, now, with the same ``webhook-id`` and the
    whole retry schedule ahead of it: its status becomes ``pending``.
    Owner only; 404 if unknown; 409 ``webhook_disabled`` while the endpoint
    is turned off (turn it on first) and ``delivery_pending`` while it is
    still being tried."""
    member.require_owner()
    endpoint = _endpoint(cur, member, endpoint_id)
    key = as_uuid(delivery_id)
    cur.execute(
        "SELECT id, status FROM webhook_deliveries WHERE id = %s AND endpoint_id = %s FOR UPDATE",
        (key, endpoint["id"]),
    )
    row = cur.fetchone() if key is not None else None
    if row is None:
        raise NotFound("no such delivery of this endpoint", code="delivery_not_found")
    if not endpoint["enabled"]:
        raise Conflict("the endpoint is turned off; turn it on (enabled: true) first", code="webhook_disabled")
    if row["status"] == "pending":
        raise Conflict("the delivery is still being tried", code="delivery_pending")
    cur.execute(
        "UPDATE webhook_deliveries SET status = 'pending', step = 0, next_attempt_at = now(), updated_at = now()"
        f" WHERE id = %s RETURNING {_DELIVERY_COLUMNS}",
        (row["id"],),
    )
    delivery = dict(one_row(cur))
    delivery["attempts"] = _attempts(cur, [delivery["id"]])[delivery["id"]]
    return delivery
