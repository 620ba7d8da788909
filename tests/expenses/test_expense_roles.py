"""Who may do what with expenses, over HTTP through the gateway, with people who joined an
organisation by the real invitation flow (invited, address verified, accepted): a viewer
reads and changes nothing, nobody decides on what they submitted while someone else can,
and nobody reaches another organisation's expenses by naming it."""

from __future__ import annotations

from pathlib import Path

from tests.invoices_api.conftest import User, assert_error, sign_up

from .conftest import Member, as_member, join, organisation_of, read

MIETE = Path(__file__).resolve().parents[1] / "data" / "einvoice" / "EN16931_Miete.pdf"
TYPED = {
    "supplier_name": "Büro Bedarf GmbH",
    "invoice_number": "BB-77",
    "issue_date": "2026-11-20",
    "currency": "EUR",
    "total_gross": "59.50",
}


def typed(user: User, **fields: str) -> dict:
    """An expense typed in and submitted by ``user``."""
    made = user.ok("POST", "/expenses", 201, json={**TYPED, **fields})
    return user.ok("POST", f"/expenses/{made['id']}/submit", json={})


def test_a_viewer_reads_expenses_but_every_write_is_refused(stack) -> None:
    owner = sign_up(stack.base_url)
    organisation_of(owner)
    viewer = join(stack, owner, "viewer")
    expense = typed(owner)
    draft = owner.ok("POST", "/expenses", 201, json={**TYPED, "invoice_number": "BB-78"})
    # a viewer cannot decide, so the owner is still the only one who can: they may decide on their own
    owner.ok("POST", f"/expenses/{expense['id']}/approve")

    listed = viewer.ok("GET", "/expenses")
    assert {item["id"] for item in listed["items"]} == {expense["id"], draft["id"]}
    assert [item["actions"] for item in listed["items"]] == [[], []]  # the API offers the viewer nothing
    assert owner.ok("GET", f"/expenses/{draft['id']}")["actions"] == ["correct", "submit"]
    assert owner.ok("GET", f"/expenses/{expense['id']}")["actions"] == ["pay"]
    assert viewer.ok("GET", f"/expenses/{expense['id']}")["status"] == "approved"
    assert "BB-77" in viewer("GET", "/expenses.csv").text
    assert viewer.ok("GET", "/expenses/categories")["categories"]

    refused = {
        "create": viewer("POST", "/expenses", json=TYPED),
        "upload": viewer("POST", "/expenses", files={"file": ("m.pdf", MIETE.read_bytes(), "application/pdf")}),
        "correct": viewer("PATCH", f"/expenses/{draft['id']}", json={"notes": "x"}, headers={"If-Match": '"v1"'}),
        "submit": viewer("POST", f"/expenses/{draft['id']}/submit", json={}),
        "pay": viewer("POST", f"/expenses/{expense['id']}/payments", json={"amount": "1", "paid_on": "2026-12-01"}),
        "categories": viewer("PUT", "/expenses/categories", json={"categories": ["Only mine"]}),
    }
    submitted = typed(owner, invoice_number="BB-79")
    refused["approve"] = viewer("POST", f"/expenses/{submitted['id']}/approve")
    refused["reject"] = viewer("POST", f"/expenses/{submitted['id']}/reject", json={"reason": "no"})
    for what, reply in refused.items():
        assert reply.status_code == 403, (what, reply.text)
        assert_error(reply, 403, "read_only_role")

    # and nothing changed: no new expense, the same statuses, no payment, the same categories
    after = {item["id"]: item for item in owner.ok("GET", "/expenses")["items"]}
    assert set(after) == {expense["id"], draft["id"], submitted["id"]}
    assert (after[draft["id"]]["status"], after[draft["id"]]["notes"]) == ("needs_review", None)
    assert after[submitted["id"]]["status"] == "submitted"
    assert after[expense["id"]]["payments"] == []
    assert "Only mine" not in owner.ok("GET", "/expenses/categories")["categories"]


def test_nobody_decides_on_their_own_submission_while_another_member_can(stack) -> None:
    owner = sign_up(stack.base_url)
    organisation_of(owner)
    accountant = join(stack, owner, "accountant")

    theirs = typed(accountant)
    assert theirs["submitted_by"] != theirs["decided_by"]
    assert theirs["actions"] == ["correct"]  # what the API offers is what it allows
    assert owner.ok("GET", f"/expenses/{theirs['id']}")["actions"] == ["correct", "approve", "reject"]
    assert_error(accountant("POST", f"/expenses/{theirs['id']}/approve"), 403, "own_submission")
    assert_error(accountant("POST", f"/expenses/{theirs['id']}/reject", json={"reason": "mine"}), 403, "own_submission")
    assert accountant.ok("GET", f"/expenses/{theirs['id']}")["status"] == "submitted"
    rejected = owner.ok("POST", f"/expenses/{theirs['id']}/reject", json={"reason": "not ours"})
    assert (rejected["status"], rejected["rejection_reason"]) == ("rejected", "not ours")

    # the intake worker submits a fully read e-invoice in the uploader's name
    uploaded = owner("POST", "/expenses", files={"file": ("miete.pdf", MIETE.read_bytes(), "application/pdf")})
    assert uploaded.status_code == 202, uploaded.text
    expense = read(owner, uploaded.json()["id"])
    assert expense["status"] == "submitted", expense["checks"]
    assert_error(owner("POST", f"/expenses/{expense['id']}/approve"), 403, "own_submission")
    assert_error(owner("POST", f"/expenses/{expense['id']}/reject", json={"reason": "mine"}), 403, "own_submission")
    approved = accountant.ok("POST", f"/expenses/{expense['id']}/approve")
    assert approved["status"] == "approved"
    assert approved["decided_by"] == accountant.ok("GET", f"/expenses/{theirs['id']}")["created_by"]


def test_an_invitation_not_yet_accepted_leaves_the_owner_the_only_decider(stack) -> None:
    owner = sign_up(stack.base_url)
    organisation_of(owner)
    owner.ok("POST", "/organisation/members", 201, json={"email": "later-" + owner.email, "role": "accountant"})
    own = typed(owner)
    assert own["actions"] == ["correct", "approve", "reject"]
    assert owner.ok("POST", f"/expenses/{own['id']}/approve")["status"] == "approved"


def test_a_member_of_one_organisation_reaches_nothing_of_another_by_naming_it(stack) -> None:
    a, b = sign_up(stack.base_url), sign_up(stack.base_url)
    organisation_of(a)
    b_org = organisation_of(b)
    secret = typed(b, supplier_name="Geheim AG", invoice_number="G-1")
    b_accountant = join(stack, b, "accountant")  # B has two members: a decision is possible there
    intruder: Member = as_member(a, b_org)

    reads = {
        "list": intruder("GET", "/expenses"),
        "csv": intruder("GET", "/expenses.csv"),
        "one": intruder("GET", f"/expenses/{secret['id']}"),
        "categories": intruder("GET", "/expenses/categories"),
    }
    writes = {
        "create": intruder("POST", "/expenses", json={**TYPED, "supplier_name": "Planted"}),
        "upload": intruder("POST", "/expenses", files={"file": ("m.pdf", MIETE.read_bytes(), "application/pdf")}),
        "approve": intruder("POST", f"/expenses/{secret['id']}/approve"),
        "reject": intruder("POST", f"/expenses/{secret['id']}/reject", json={"reason": "x"}),
    }
    for what, reply in {**reads, **writes}.items():
        assert reply.status_code == 404, (what, reply.text)
        assert_error(reply, 404, "organisation_not_found")
        assert "Geheim" not in reply.text
    # acting for their own organisation, A does not find B's expense either
    assert_error(a("GET", f"/expenses/{secret['id']}"), 404)
    assert_error(a("POST", f"/expenses/{secret['id']}/approve"), 404)
    assert a.ok("GET", "/expenses")["total"] == 0

    mine = b_accountant.ok("GET", "/expenses")["items"]
    assert [(item["id"], item["status"]) for item in mine] == [(secret["id"], "submitted")]
