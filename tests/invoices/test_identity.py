"""Organisations, memberships and roles: who sees and changes what."""

from __future__ import annotations

import threading

import pytest

from invoicer.invoices import clients, invoices
from invoicer.invoices.errors import Conflict, Forbidden, NotFound
from invoicer.invoices.identity import invite, list_members, resolve_membership

from .conftest import LINES, new_actor


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


def test_an_invited_user_joins_the_inviting_organisation_with_its_role(db, owner):
    invited = new_actor("viewer")
    with db.transaction() as cur:
        invite(cur, owner, invited.email.upper(), "viewer")
    with db.transaction() as cur:
        member = resolve_membership(cur, invited)
        assert (member.organisation_id, member.role) == (owner.organisation_id, "viewer")
        emails = [row["email"].lower() for row in list_members(cur, owner)]
    assert invited.email in emails and owner.actor.email in emails


def test_inviting_a_member_of_any_organisation_is_a_conflict(db, owner):
    other = new_actor()
    with db.transaction() as cur:
        resolve_membership(cur, other)
    with pytest.raises(Conflict) as caught, db.transaction() as cur:
        invite(cur, owner, other.email, "accountant")
    assert caught.value.code == "already_member"


def test_only_an_owner_invites(db, owner):
    accountant = new_actor("accountant")
    with db.transaction() as cur:
        invite(cur, owner, accountant.email, "accountant")
    with db.transaction() as cur:
        member = resolve_membership(cur, accountant)
    with pytest.raises(Forbidden), db.transaction() as cur:
        invite(cur, member, new_actor().email, "viewer")


def test_a_viewer_reads_but_every_write_is_forbidden(db, owner, client):
    viewer_actor = new_actor("viewer")
    with db.transaction() as cur:
        invite(cur, owner, viewer_actor.email, "viewer")
        draft = invoices.create_draft(cur, owner, {"client_id": client["id"], "lines": LINES})
    with db.transaction() as cur:
        viewer = resolve_membership(cur, viewer_actor)
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
    from invoicer.invoices.errors import Unprocessable

    with pytest.raises(Unprocessable) as caught, db.transaction() as cur:
        invoices.create_draft(cur, stranger, {"client_id": client["id"]})
    assert caught.value.pointer == "/client_id"
