"""Organisations, memberships and roles: who sees and changes what."""

from __future__ import annotations

import threading
import unicodedata
import uuid
from dataclasses import replace

import pytest

from invoicer.invoices import clients, invoices
from invoicer.invoices.errors import Conflict, Forbidden, NotFound, Unprocessable
from invoicer.invoices.identity import (
    answer_invitation,
    change_role,
    invite,
    list_members,
    list_organisations,
    my_invitations,
    preview_invitation,
    remove_member,
    resolve_membership,
    revoke_invitation,
)

from .conftest import LINES, join, new_actor

PUBLIC = "https://invoicer.example"


def _invite(cur, owner, email, role):
    return invite(cur, owner, email, role, public_url=PUBLIC)


def test_the_first_user_owns_a_new_organisation_and_keeps_it(db):
    actor = new_actor()
    with db.transaction() as cur:
        first = resolve_membership(cur, actor)
    with db.transaction() as cur:
        again = resolve_membership(cur, actor)
    assert first.role == "owner" and again.organisation_id == first.organisation_id


def test_concurrent_first_requests_end_in_one_organisation(db):
    actor = new_actor()
    results, barrier = [], threading.Barrier(4)

    def first_request():
        barrier.wait()
        with db.transaction() as cur:
            results.append(resolve_membership(cur, actor).organisation_id)

    threads = [threading.Thread(target=first_request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and len(set(results)) == 1
    with db.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM memberships WHERE user_id = %s", (actor.user_id,))
        assert cur.fetchone()["n"] == 1


def test_an_invitation_waits_for_consent_and_joins_only_when_accepted(db, owner):
    """Issue 22: registering an invited address no longer joins anyone silently."""
    invited = new_actor("viewer")
    with db.transaction() as cur:
        invitation = _invite(cur, owner, invited.email.upper(), "viewer")
    assert (
        invitation["status"] == "pending"
        and invitation["email"] == invited.email.split("@")[0].upper() + "@" + invited.email.split("@")[1]
    )
    with db.transaction() as cur:
        own = resolve_membership(cur, invited)  # the invitee's first request: their own organisation
    assert own.organisation_id != owner.organisation_id and own.role == "owner"
    with pytest.raises(NotFound), db.transaction() as cur:
        resolve_membership(cur, invited, owner.organisation_id)
    verified = replace(invited, email_verified=True)
    with db.transaction() as cur:
        pending = my_invitations(cur, verified)
    assert [row["id"] for row in pending] == [invitation["id"]]
    with db.transaction() as cur:
        answer = answer_invitation(cur, verified, accept=True, invitation_id=invitation["id"])
    assert answer["status"] == "accepted"
    with db.transaction() as cur:
        member = resolve_membership(cur, verified, owner.organisation_id)
        assert (member.organisation_id, member.role) == (owner.organisation_id, "viewer")
        assert {row["organisation_id"] for row in list_organisations(cur, verified)} == {
            own.organisation_id,
            owner.organisation_id,
        }
        emails = [row["email"].lower() for row in list_members(cur, owner) if row["status"] == "active"]
    assert invited.email in emails and owner.actor.email in emails
    with pytest.raises(Conflict) as closed, db.transaction() as cur:
        answer_invitation(cur, verified, accept=True, invitation_id=invitation["id"])
    assert closed.value.code == "invitation_closed"


def test_an_unverified_address_can_neither_see_nor_accept_its_invitations(db, owner):
    invited = new_actor("unverified")
    with db.transaction() as cur:
        invitation = _invite(cur, owner, invited.email, "owner")
    for attempt in (
        lambda cur: my_invitations(cur, invited),
        lambda cur: answer_invitation(cur, invited, accept=True, invitation_id=invitation["id"]),
    ):
        with pytest.raises(Forbidden) as caught, db.transaction() as cur:
            attempt(cur)
        assert caught.value.code == "email_not_verified"
    with db.transaction() as cur:
        assert resolve_membership(cur, invited).organisation_id != owner.organisation_id


def test_only_the_invited_address_answers_and_a_declined_invitation_joins_nobody(db, owner):
    invited, stranger = new_actor("invited"), replace(new_actor("stranger"), email_verified=True)
    with db.transaction() as cur:
        invitation = _invite(cur, owner, invited.email, "accountant")
    with pytest.raises(NotFound), db.transaction() as cur:
        answer_invitation(cur, stranger, accept=True, invitation_id=invitation["id"])
    with db.transaction() as cur:
        assert my_invitations(cur, stranger) == []
    verified = replace(invited, email_verified=True)
    with db.transaction() as cur:
        assert answer_invitation(cur, verified, accept=False, invitation_id=invitation["id"])["status"] == "declined"
    with pytest.raises(NotFound), db.transaction() as cur:
        resolve_membership(cur, verified, owner.organisation_id)


def test_the_mailed_link_carries_a_single_use_token_stored_only_hashed(db, owner):
    invited = replace(new_actor("linked"), email_verified=True)
    with db.transaction() as cur:
        invitation = _invite(cur, owner, invited.email, "viewer")
        cur.execute("SELECT payload FROM outbox WHERE kind = 'command' AND aggregate_id = %s", (invitation["id"],))
        mail = cur.fetchone()["payload"]
        cur.execute("SELECT token_hash FROM invitations WHERE id = %s", (invitation["id"],))
        stored = bytes(cur.fetchone()["token_hash"])
    assert mail["kind"] == "invitation" and mail["recipient"] == invited.email and mail["role"] == "viewer"
    assert mail["link"].startswith(f"{PUBLIC}/app/invitations/answer?token=")
    token = mail["link"].split("token=", 1)[1]
    assert token.encode() not in stored and len(stored) == 32
    with pytest.raises(NotFound), db.transaction() as cur:
        answer_invitation(cur, invited, accept=True, token=token[:-1] + ("A" if token[-1] != "A" else "B"))
    with db.transaction() as cur:
        shown = preview_invitation(cur, invited, token)  # what the link's page shows; changes nothing
    assert (shown["organisation_name"], shown["role"], shown["status"]) == (
        "Northwind Traders Ltd",
        "viewer",
        "pending",
    )
    with db.transaction() as cur:
        assert answer_invitation(cur, invited, accept=True, token=token)["organisation_id"] == owner.organisation_id
    with db.transaction() as cur:
        assert preview_invitation(cur, invited, token)["status"] == "accepted"
    with pytest.raises(Conflict), db.transaction() as cur:
        answer_invitation(cur, invited, accept=True, token=token)


def test_an_expired_or_revoked_invitation_cannot_be_accepted(db, owner):
    late, revoked = replace(new_actor("late"), email_verified=True), replace(new_actor("rev"), email_verified=True)
    with db.transaction() as cur:
        first = invite(cur, owner, late.email, "viewer", public_url=PUBLIC, ttl_seconds=0)
        second = _invite(cur, owner, revoked.email, "viewer")
        revoke_invitation(cur, owner, second["id"])
    for actor, invitation in ((late, first), (revoked, second)):
        with pytest.raises(Conflict) as caught, db.transaction() as cur:
            answer_invitation(cur, actor, accept=True, invitation_id=invitation["id"])
        assert caught.value.code == "invitation_closed"


def test_invitation_addresses_are_validated_and_normalised_like_login_addresses(db, owner):
    for junk in ("junk@@@", "no-at-sign", "a@b", "", 42):
        with pytest.raises(Unprocessable) as caught, db.transaction() as cur:
            _invite(cur, owner, junk, "viewer")
        assert (caught.value.code, caught.value.pointer) == ("invalid_email", "/email")
    composed = f"jörg-{owner.organisation_id.hex[:6]}@Example.COM"
    with db.transaction() as cur:
        invitation = _invite(cur, owner, unicodedata.normalize("NFD", composed), "viewer")
    assert invitation["email"] == unicodedata.normalize("NFC", composed).replace("Example.COM", "example.com")
    nfc_user = replace(new_actor(), email=invitation["email"], email_verified=True)
    with db.transaction() as cur:
        assert [row["id"] for row in my_invitations(cur, nfc_user)] == [invitation["id"]]
    with pytest.raises(Conflict) as twice, db.transaction() as cur:
        _invite(cur, owner, composed, "accountant")
    assert twice.value.code == "already_invited"


def test_a_member_of_another_organisation_may_be_invited_and_belongs_to_both(db, owner):
    other = new_actor()
    with db.transaction() as cur:
        theirs = resolve_membership(cur, other)
    member = join(db, owner, other, "accountant")
    assert member.role == "accountant"
    with db.transaction() as cur:
        assert resolve_membership(cur, other, theirs.organisation_id).role == "owner"
    with pytest.raises(Conflict) as caught, db.transaction() as cur:
        _invite(cur, owner, other.email, "viewer")
    assert caught.value.code == "already_member"


def test_only_an_owner_invites(db, owner):
    member = join(db, owner, new_actor("accountant"), "accountant")
    with pytest.raises(Forbidden), db.transaction() as cur:
        _invite(cur, member, new_actor().email, "viewer")


def test_naming_an_organisation_one_is_not_a_member_of_is_not_found(db, owner, client):
    """Switching organisation: a member of A never reaches B by naming it."""
    stranger = new_actor("switcher")
    with db.transaction() as cur:
        resolve_membership(cur, stranger)
    for target in (owner.organisation_id, str(owner.organisation_id), "not-a-uuid", uuid.uuid4()):
        with pytest.raises(NotFound) as caught, db.transaction() as cur:
            resolve_membership(cur, stranger, target)
        assert caught.value.code == "organisation_not_found"


def test_owners_change_roles_and_remove_members_but_never_the_last_owner(db, owner):
    accountant = join(db, owner, new_actor("acc"), "accountant")
    memberships = {}
    with db.transaction() as cur:
        for row in list_members(cur, owner):
            memberships[row["email"]] = row["id"]
    own_id, their_id = memberships[owner.actor.email], memberships[accountant.actor.email]
    for attempt in (
        lambda cur: change_role(cur, owner, own_id, "viewer"),
        lambda cur: remove_member(cur, owner, own_id),
    ):
        with pytest.raises(Conflict) as caught, db.transaction() as cur:
            attempt(cur)
        assert caught.value.code == "last_owner"
    with pytest.raises(Forbidden), db.transaction() as cur:
        change_role(cur, accountant, own_id, "viewer")
    with db.transaction() as cur:
        assert change_role(cur, owner, their_id, "owner")["role"] == "owner"
    with db.transaction() as cur:  # now there are two owners: one may step down
        change_role(cur, owner, own_id, "viewer")
    with db.transaction() as cur:
        new_owner = resolve_membership(cur, accountant.actor, owner.organisation_id)
        remove_member(cur, new_owner, own_id)
    with pytest.raises(NotFound), db.transaction() as cur:
        resolve_membership(cur, owner.actor, owner.organisation_id)
    with pytest.raises(NotFound) as gone, db.transaction() as cur:
        remove_member(cur, new_owner, own_id)
    assert gone.value.code == "member_not_found"


def test_a_viewer_reads_but_every_write_is_forbidden(db, owner, client):
    viewer = join(db, owner, new_actor("viewer"), "viewer")
    with db.transaction() as cur:
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": LINES})
    with db.transaction() as cur:
        assert invoices.get_invoice(cur, viewer, draft["id"])["id"] == draft["id"]
    writes = [
        lambda cur: clients.create_client(cur, viewer, {"name": "X"}),
        lambda cur: clients.archive_client(cur, viewer, client["id"]),
        lambda cur: invoices.create_draft(cur, viewer, {"client_id": client["id"]}),
        lambda cur: invoices.update_draft(cur, viewer, draft["id"], {"notes": "x"}),
        lambda cur: invoices.issue(cur, viewer, draft["id"]),
        lambda cur: invoices.delete_draft(cur, viewer, draft["id"]),
    ]
    for write in writes:
        with pytest.raises(Forbidden), db.transaction() as cur:
            write(cur)
    with db.transaction() as cur:
        assert invoices.get_invoice(cur, owner, draft["id"])["status"] == "draft"


def test_another_organisations_records_are_not_found(db, owner, client):
    with db.transaction() as cur:
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": LINES})
        stranger = resolve_membership(cur, new_actor("stranger"))
    attempts = [
        lambda cur: invoices.get_invoice(cur, stranger, draft["id"]),
        lambda cur: invoices.update_draft(cur, stranger, draft["id"], {"notes": "x"}),
        lambda cur: invoices.delete_draft(cur, stranger, draft["id"]),
        lambda cur: invoices.issue(cur, stranger, draft["id"]),
        lambda cur: clients.get_client(cur, stranger, client["id"]),
        lambda cur: invoices.get_invoice(cur, stranger, "not-a-uuid"),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound), db.transaction() as cur:
            attempt(cur)
    with db.transaction() as cur:
        assert clients.list_clients(cur, stranger)["total"] == 0
    # Using another organisation's client in one's own draft is refused too.
    with pytest.raises(Unprocessable) as caught, db.transaction() as cur:
        invoices.create_draft(cur, stranger, {"client_id": client["id"]})
    assert caught.value.pointer == "/client_id"
