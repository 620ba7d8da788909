"""Who is asking, and for which organisation.

The web layer builds an :class:`Actor` from the verified JWT (``sub`` and
``email``) and calls :func:`resolve_membership` once per request; every other
function of this package takes the resulting :class:`Member` and scopes its
queries by ``member.organisation_id``, so that another organisation's record
is :class:`~invoicer.invoices.errors.NotFound`, indistinguishable from an
unknown one.

Roles: ``owner`` and ``accountant`` read and write, ``viewer`` only reads
(:meth:`Member.require_write` raises Forbidden). Only an owner invites or
changes the organisation's profile.
"""

from __future__ import annotations

from typing import Any

from invoicer.common.db import Cursor, one_row

from . import events
from .errors import Conflict, Unprocessable
from .principals import ROLES, Actor, Member

__all__ = ["ROLES", "Actor", "Member", "invite", "list_members", "resolve_membership"]


def _member(actor: Actor, row: dict[str, Any]) -> Member:
    return Member(actor=actor, organisation_id=row["organisation_id"], role=row["role"])


def resolve_membership(cur: Cursor, actor: Actor) -> Member:
    """The actor's membership, in the transaction of ``cur``.

    In order: the membership holding the actor's user id; else an invitation
    for the actor's e-mail (case-insensitive, user id still empty), which is
    claimed; else a new organisation with the actor as its ``owner`` (the
    first user of an organisation owns it). Race-safe: two first requests of
    one user end in one organisation (unique user id and e-mail, and an
    ``ON CONFLICT DO NOTHING`` insert whose loser drops its organisation).

    Raises :class:`Conflict` (``email_taken``) if the e-mail belongs to
    another user's membership.
    """
    cur.execute("SELECT organisation_id, role FROM memberships WHERE user_id = %s", (actor.user_id,))
    row = cur.fetchone()
    if row is not None:
        return _member(actor, row)
    cur.execute(
        "UPDATE memberships SET user_id = %s, joined_at = now()"
        " WHERE lower(email) = lower(%s) AND user_id IS NULL RETURNING organisation_id, role",
        (actor.user_id, actor.email),
    )
    row = cur.fetchone()
    if row is not None:
        member = _member(actor, row)
        events.record(
            cur,
            member,
            "organisation",
            member.organisation_id,
            "member.joined",
            {"user_id": actor.user_id, "email": actor.email, "role": member.role},
        )
        return member
    cur.execute("INSERT INTO organisations DEFAULT VALUES RETURNING id")
    organisation_id = one_row(cur)["id"]
    cur.execute(
        "INSERT INTO memberships (organisation_id, user_id, email, role, joined_at)"
        " VALUES (%s, %s, %s, 'owner', now()) ON CONFLICT DO NOTHING RETURNING organisation_id, role",
        (organisation_id, actor.user_id, actor.email),
    )
    row = cur.fetchone()
    if row is None:
        # A concurrent request of the same user won the race (or the e-mail is
        # someone else's): drop our organisation and take what is there.
        cur.execute("DELETE FROM organisations WHERE id = %s", (organisation_id,))
        cur.execute("SELECT organisation_id, role FROM memberships WHERE user_id = %s", (actor.user_id,))
        row = cur.fetchone()
        if row is None:
            raise Conflict(f"{actor.email} is already a member under another account", code="email_taken")
        return _member(actor, row)
    member = _member(actor, row)
    events.record(
        cur,
        member,
        "organisation",
        organisation_id,
        "organisation.created",
        {"owner_id": actor.user_id, "owner_email": actor.email},
    )
    return member


def invite(cur: Cursor, member: Member, email: str, role: str) -> dict[str, Any]:
    """Invite ``email`` into the member's organisation with ``role``.

    Owner only (:class:`Forbidden`). ``role`` must be one of :data:`ROLES`
    and ``email`` an address (:class:`Unprocessable`, pointers ``/role``,
    ``/email``). Raises :class:`Conflict` (``already_member``) if the e-mail
    belongs to a member or invitation of any organisation. Returns the
    membership row (``user_id`` None until the invited user shows up).
    """
    member.require_owner()
    if role not in ROLES:
        raise Unprocessable(f"role must be one of {', '.join(ROLES)}", code="invalid_role", pointer="/role")
    if not isinstance(email, str) or "@" not in email.strip() or len(email) > 254:
        raise Unprocessable("must be an e-mail address", code="invalid_email", pointer="/email")
    email = email.strip()
    cur.execute(
        "INSERT INTO memberships (organisation_id, email, role, invited_by) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING RETURNING id, organisation_id, user_id, email, role, invited_by, created_at",
        (member.organisation_id, email, role, member.actor.user_id),
    )
    row = cur.fetchone()
    if row is None:
        raise Conflict(f"{email} is already a member of an organisation", code="already_member", pointer="/email")
    events.record(
        cur,
        member,
        "organisation",
        member.organisation_id,
        "member.invited",
        {"membership_id": row["id"], "email": email, "role": role},
    )
    return dict(row)


def list_members(cur: Cursor, member: Member) -> list[dict[str, Any]]:
    """The organisation's memberships and invitations, oldest first."""
    cur.execute(
        "SELECT id, user_id, email, role, created_at, joined_at FROM memberships"
        " WHERE organisation_id = %s ORDER BY created_at, email",
        (member.organisation_id,),
    )
    return [dict(row) for row in cur.fetchall()]
