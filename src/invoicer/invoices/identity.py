"""Who is asking, and for which organisation.

The web layer builds an :class:`Actor` from the verified JWT (``sub`` and
``email``; ``email_verified`` from the accounts table) and calls
:func:`resolve_membership` once per request with the organisation the
request names (``X-Organisation``) or none; every other function of this
package takes the resulting :class:`Member` and scopes its queries by
``member.organisation_id``, so that another organisation's record is
:class:`~invoicer.invoices.errors.NotFound`, indistinguishable from an
unknown one.

A person may belong to several organisations (a bookkeeper serving several
clients), each membership with its own role. Roles: ``owner`` and
``accountant`` read and write, ``viewer`` only reads
(:meth:`Member.require_write` raises Forbidden). Only an owner invites,
changes roles, removes members or changes the organisation's profile; an
organisation always keeps at least one owner.

Invitations (issue 22) wait for consent: :func:`invite` stores a pending
invitation and mails its link (a single-use token, stored hashed, valid
``INVITATION_TTL_SECONDS``); only the person signed in with the invited
address, once that address is verified, accepts or declines it
(:func:`answer_invitation`), by the link or from their list of invitations
(:func:`my_invitations`). Nobody joins an organisation without accepting.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from invoicer.common.account_links import absolute_link, mail_link, new_token, token_hash
from invoicer.common.addresses import InvalidAddress, normalise_address
from invoicer.common.db import Cursor, one_row

from . import events
from .errors import Conflict, Forbidden, NotFound, Unprocessable
from .principals import ROLES, Actor, Member

__all__ = [
    "INVITATION_PATH",
    "ROLES",
    "Actor",
    "Member",
    "answer_invitation",
    "change_role",
    "invite",
    "list_members",
    "list_organisations",
    "my_invitations",
    "preview_invitation",
    "remove_member",
    "resolve_membership",
    "revoke_invitation",
]

#: Where an invitation's link leads (the web app's page to answer it), under ``PUBLIC_URL``.
INVITATION_PATH = "/app/invitations/answer"
#: Invitation links live this long unless the caller says otherwise (``INVITATION_TTL_SECONDS``).
DEFAULT_INVITATION_TTL = 14 * 24 * 3600


def _member(actor: Actor, row: dict[str, Any]) -> Member:
    return Member(actor=actor, organisation_id=row["organisation_id"], role=row["role"])


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def resolve_membership(cur: Cursor, actor: Actor, organisation_id: Any = None) -> Member:
    """The actor's membership, in the transaction of ``cur``.

    With ``organisation_id`` (the organisation the request names, a UUID or
    its text): the actor's membership of that organisation, else
    :class:`NotFound` (``organisation_not_found``: whether it exists is not
    told; a member of A never reaches B by naming it). Without: the actor's
    oldest membership; a person with none gets a new organisation of which
    they are the ``owner``. Race-safe: concurrent first requests of one
    user end in one organisation (a transaction lock per user)."""
    if organisation_id is not None:
        wanted = _uuid(organisation_id)
        row = None
        if wanted is not None:
            cur.execute(
                "SELECT organisation_id, role FROM memberships WHERE user_id = %s AND organisation_id = %s",
                (actor.user_id, wanted),
            )
            row = cur.fetchone()
        if row is None:
            raise NotFound("you are not a member of this organisation", code="organisation_not_found")
        return _member(actor, row)
    query = (
        "SELECT organisation_id, role FROM memberships WHERE user_id = %s"
        " ORDER BY joined_at NULLS LAST, created_at, organisation_id LIMIT 1"
    )
    cur.execute(query, (actor.user_id,))
    row = cur.fetchone()
    if row is not None:
        return _member(actor, row)
    # Serialise a user's first requests: one of them creates the organisation.
    cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 22))", (str(actor.user_id),))
    cur.execute(query, (actor.user_id,))
    row = cur.fetchone()
    if row is not None:
        return _member(actor, row)
    cur.execute("INSERT INTO organisations DEFAULT VALUES RETURNING id")
    created = one_row(cur)["id"]
    cur.execute(
        "INSERT INTO memberships (organisation_id, user_id, email, role, joined_at)"
        " VALUES (%s, %s, %s, 'owner', now()) RETURNING organisation_id, role",
        (created, actor.user_id, actor.email),
    )
    member = _member(actor, one_row(cur))
    events.record(
        cur,
        member,
        "organisation",
        created,
        "organisation.created",
        {"owner_id": actor.user_id, "owner_email": actor.email},
    )
    return member


def list_organisations(cur: Cursor, actor: Actor) -> list[dict[str, Any]]:
    """The organisations the actor belongs to, oldest membership first:
    ``{"organisation_id", "name", "role", "joined_at"}`` each."""
    cur.execute(
        "SELECT m.organisation_id, o.name, m.role, m.joined_at FROM memberships m"
        " JOIN organisations o ON o.id = m.organisation_id WHERE m.user_id = %s"
        " ORDER BY m.joined_at NULLS LAST, m.created_at, m.organisation_id",
        (actor.user_id,),
    )
    return [dict(row) for row in cur.fetchall()]


def _check_role(role: Any) -> str:
    if role not in ROLES:
        raise Unprocessable(f"role must be one of {', '.join(ROLES)}", code="invalid_role", pointer="/role")
    return str(role)


def invite(
    cur: Cursor,
    member: Member,
    email: Any,
    role: Any,
    *,
    public_url: str,
    ttl_seconds: int = DEFAULT_INVITATION_TTL,
) -> dict[str, Any]:
    """Invite ``email`` into the member's organisation with ``role``, pending
    until the invited person accepts it.

    Owner only (:class:`Forbidden`). ``role`` must be one of :data:`ROLES`
    (:class:`Unprocessable` ``invalid_role``, pointer ``/role``); ``email``
    is validated and normalised exactly as a login address
    (:func:`invoicer.common.addresses.normalise_address`; otherwise
    :class:`Unprocessable` ``invalid_email``, pointer ``/email``). Raises
    :class:`Conflict` ``already_member`` when the address is a member of
    this organisation, ``already_invited`` when an invitation to it is open.
    Mails the link (``PUBLIC_URL`` + :data:`INVITATION_PATH` + ``?token=``,
    valid ``ttl_seconds``) through the outbox, in this transaction.
    Returns the invitation row."""
    member.require_owner()
    role = _check_role(role)
    try:
        address = normalise_address(email)
    except InvalidAddress as exc:
        raise Unprocessable(f"must be an e-mail address: {exc}", code="invalid_email", pointer="/email") from None
    cur.execute(
        "SELECT 1 FROM memberships WHERE organisation_id = %s AND lower(email) = lower(%s)",
        (member.organisation_id, address),
    )
    if cur.fetchone() is not None:
        raise Conflict(f"{address} is already a member of this organisation", code="already_member", pointer="/email")
    token, hashed = new_token()
    expires_at = datetime.now(UTC) + timedelta(seconds=ttl_seconds)
    cur.execute(
        "INSERT INTO invitations (organisation_id, email, role, token_hash, invited_by, expires_at)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
        " RETURNING id, organisation_id, email, role, invited_by, created_at, expires_at, status",
        (member.organisation_id, address, role, hashed, member.actor.user_id, expires_at),
    )
    row = cur.fetchone()
    if row is None:
        raise Conflict(f"{address} has an open invitation already", code="already_invited", pointer="/email")
    cur.execute("SELECT name FROM organisations WHERE id = %s", (member.organisation_id,))
    name = one_row(cur)["name"] or None
    mail_link(
        cur,
        kind="invitation",
        recipient=address,
        link=absolute_link(public_url, INVITATION_PATH, token),
        expires_at=expires_at,
        aggregate_type="invitation",
        aggregate_id=row["id"],
        organisation_id=member.organisation_id,
        organisation=name,
        role=role,
        inviter=member.actor.email,
        actor_id=member.actor.user_id,
    )
    events.record(
        cur,
        member,
        "organisation",
        member.organisation_id,
        "member.invited",
        {"invitation_id": row["id"], "email": address, "role": role},
    )
    return dict(row)


def list_members(cur: Cursor, member: Member) -> list[dict[str, Any]]:
    """The organisation's members (``status`` ``active``) and open
    invitations (``status`` ``invited``, ``user_id`` None), oldest first."""
    cur.execute(
        "SELECT id, user_id, email, role, created_at, joined_at, NULL::timestamptz AS expires_at,"
        " 'active' AS status FROM memberships WHERE organisation_id = %s"
        " UNION ALL SELECT id, NULL, email, role, created_at, NULL, expires_at, 'invited' FROM invitations"
        " WHERE organisation_id = %s AND status = 'pending' AND expires_at > now()"
        " ORDER BY created_at, email",
        (member.organisation_id, member.organisation_id),
    )
    return [dict(row) for row in cur.fetchall()]


def _require_verified(actor: Actor) -> None:
    if not actor.email_verified:
        raise Forbidden(
            "confirm your e-mail address first (the link in the mail we sent you, or send a new one)",
            code="email_not_verified",
        )


def my_invitations(cur: Cursor, actor: Actor) -> list[dict[str, Any]]:
    """The open invitations to the actor's address, newest first, each with
    ``organisation_name``. Needs a verified address (:class:`Forbidden`
    ``email_not_verified``): whoever registered an address without owning
    it learns nothing of who invited it."""
    _require_verified(actor)
    cur.execute(
        "SELECT i.id, i.organisation_id, o.name AS organisation_name, i.email, i.role, i.created_at,"
        " i.expires_at, i.status FROM invitations i JOIN organisations o ON o.id = i.organisation_id"
        " WHERE lower(i.email) = lower(%s) AND i.status = 'pending' AND i.expires_at > now()"
        " ORDER BY i.created_at DESC",
        (actor.email,),
    )
    return [dict(row) for row in cur.fetchall()]


def preview_invitation(cur: Cursor, actor: Actor, token: Any) -> dict[str, Any]:
    """The invitation whose mailed link carried ``token``, to show before
    answering it (which organisation, which role, its state); read only.
    Raises as :func:`answer_invitation` does, except that one answered,
    revoked or expired is returned with its ``status`` (``expired`` for a
    pending one past its time)."""
    row = _invitation_for(cur, actor, token=token, invitation_id=None, lock=False)
    result = {key: value for key, value in row.items() if key != "expired"}
    if row["status"] == "pending" and row["expired"]:
        result["status"] = "expired"
    return result


def _invitation_for(cur: Cursor, actor: Actor, *, token: Any, invitation_id: Any, lock: bool) -> dict[str, Any]:
    """The invitation by ``token`` or id, checked to be the actor's (see :func:`answer_invitation`)."""
    _require_verified(actor)
    key: bytes | uuid.UUID
    if token is not None:
        if not isinstance(token, str) or not token:
            raise NotFound("no such invitation", code="invitation_not_found")
        where, key = "i.token_hash = %s", token_hash(token)
    else:
        found = _uuid(invitation_id)
        if found is None:
            raise NotFound("no such invitation", code="invitation_not_found")
        where, key = "i.id = %s", found
    cur.execute(
        "SELECT i.id, i.organisation_id, o.name AS organisation_name, i.email, i.role, i.created_at,"
        " i.expires_at, i.status, i.expires_at <= now() AS expired FROM invitations i"
        f" JOIN organisations o ON o.id = i.organisation_id WHERE {where}" + (" FOR UPDATE OF i" if lock else ""),
        (key,),
    )
    row = cur.fetchone()
    if row is None:
        raise NotFound("no such invitation", code="invitation_not_found")
    if row["email"].lower() != actor.email.lower():
        if token is None:
            raise NotFound("no such invitation", code="invitation_not_found")
        raise Forbidden(
            "this invitation is for another e-mail address; sign in with that one",
            code="invitation_for_another_address",
        )
    return dict(row)


def answer_invitation(
    cur: Cursor, actor: Actor, *, accept: bool, invitation_id: Any = None, token: Any = None
) -> dict[str, Any]:
    """Accept (``accept``) or decline the invitation ``invitation_id`` or
    the one whose mailed link carried ``token``; once only.

    The actor must be signed in with the invited address, verified
    (:class:`Forbidden` ``email_not_verified``); an invitation to another
    address is :class:`NotFound` by id and :class:`Forbidden`
    ``invitation_for_another_address`` by token. An unknown id or token is
    :class:`NotFound` ``invitation_not_found``; one answered, revoked or
    expired is :class:`Conflict` ``invitation_closed``. Accepting makes the
    actor a member with the invitation's role (a member already keeps
    theirs). Returns the invitation with its new ``status`` and
    ``organisation_name``."""
    row = _invitation_for(cur, actor, token=token, invitation_id=invitation_id, lock=True)
    if row["status"] != "pending" or row["expired"]:
        state = "expired" if row["status"] == "pending" else row["status"]
        raise Conflict(f"this invitation is {state}", code="invitation_closed")
    status = "accepted" if accept else "declined"
    cur.execute(
        "UPDATE invitations SET status = %s, answered_at = now(), answered_by = %s WHERE id = %s",
        (status, actor.user_id, row["id"]),
    )
    joined = Member(actor=actor, organisation_id=row["organisation_id"], role=row["role"])
    if accept:
        cur.execute(
            "INSERT INTO memberships (organisation_id, user_id, email, role, invited_by, joined_at)"
            " SELECT organisation_id, %s, %s, role, invited_by, now() FROM invitations WHERE id = %s"
            " ON CONFLICT (organisation_id, user_id) DO NOTHING",
            (actor.user_id, actor.email, row["id"]),
        )
    events.record(
        cur,
        joined,
        "organisation",
        row["organisation_id"],
        "member.joined" if accept else "invitation.declined",
        {"invitation_id": row["id"], "user_id": actor.user_id, "email": actor.email, "role": row["role"]},
    )
    result = {key: value for key, value in row.items() if key != "expired"}
    result["status"] = status
    return result


def _membership(cur: Cursor, member: Member, membership_id: Any) -> dict[str, Any]:
    found = _uuid(membership_id)
    row = None
    if found is not None:
        cur.execute(
            "SELECT id, user_id, email, role, created_at, joined_at FROM memberships"
            " WHERE id = %s AND organisation_id = %s FOR UPDATE",
            (found, member.organisation_id),
        )
        row = cur.fetchone()
    if row is None:
        raise NotFound("no such member", code="member_not_found")
    return dict(row)


def _owners_besides(cur: Cursor, member: Member, membership_id: uuid.UUID) -> int:
    # Lock every owner row, so two owners demoting each other at once cannot leave none.
    cur.execute(
        "SELECT id FROM memberships WHERE organisation_id = %s AND role = 'owner' FOR UPDATE",
        (member.organisation_id,),
    )
    return sum(1 for row in cur.fetchall() if row["id"] != membership_id)


def change_role(cur: Cursor, member: Member, membership_id: Any, role: Any) -> dict[str, Any]:
    """Give the member ``membership_id`` of the organisation ``role``
    (owner only: :class:`Forbidden`). :class:`NotFound` ``member_not_found``
    for anyone else's id; :class:`Unprocessable` ``invalid_role``;
    :class:`Conflict` ``last_owner`` when it would leave the organisation
    without an owner. Returns the membership."""
    member.require_owner()
    role = _check_role(role)
    row = _membership(cur, member, membership_id)
    if row["role"] == "owner" and role != "owner" and _owners_besides(cur, member, row["id"]) == 0:
        raise Conflict("the last owner cannot be demoted; make someone else an owner first", code="last_owner")
    if role != row["role"]:
        cur.execute("UPDATE memberships SET role = %s WHERE id = %s", (role, row["id"]))
        events.record(
            cur,
            member,
            "organisation",
            member.organisation_id,
            "member.role_changed",
            {"membership_id": row["id"], "email": row["email"], "from": row["role"], "to": role},
        )
    return {**row, "role": role, "status": "active"}


def remove_member(cur: Cursor, member: Member, membership_id: Any) -> None:
    """Remove the member ``membership_id`` from the organisation (owner
    only; :class:`NotFound` ``member_not_found``; :class:`Conflict`
    ``last_owner`` for the last owner). The person keeps their account and
    their other organisations."""
    member.require_owner()
    row = _membership(cur, member, membership_id)
    if row["role"] == "owner" and _owners_besides(cur, member, row["id"]) == 0:
        raise Conflict("the last owner cannot be removed; make someone else an owner first", code="last_owner")
    cur.execute("DELETE FROM memberships WHERE id = %s", (row["id"],))
    events.record(
        cur,
        member,
        "organisation",
        member.organisation_id,
        "member.removed",
        {"membership_id": row["id"], "email": row["email"], "role": row["role"]},
    )


def revoke_invitation(cur: Cursor, member: Member, invitation_id: Any) -> None:
    """Withdraw an open invitation of the organisation (owner only); its
    link stops working. :class:`NotFound` ``invitation_not_found`` for an
    unknown, answered or another organisation's invitation."""
    member.require_owner()
    found = _uuid(invitation_id)
    if found is not None:
        cur.execute(
            "UPDATE invitations SET status = 'revoked', answered_at = now(), answered_by = %s"
            " WHERE id = %s AND organisation_id = %s AND status = 'pending' RETURNING email",
            (member.actor.user_id, found, member.organisation_id),
        )
        row = cur.fetchone()
        if row is not None:
            events.record(
                cur,
                member,
                "organisation",
                member.organisation_id,
                "invitation.revoked",
                {"invitation_id": found, "email": row["email"]},
            )
            return
    raise NotFound("no such invitation", code="invitation_not_found")
