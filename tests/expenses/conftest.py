"""Helpers for the expenses tests: people joined to an organisation the way a person
joins one (invited by its owner, address verified, invitation accepted)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import pytest
import requests

from tests.conftest import accept_invitation
from tests.invoices_api.conftest import User, sign_up


@dataclass
class Member(User):
    """A :class:`User` acting for one organisation: every request carries ``X-Organisation``."""

    organisation_id: str = ""

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"X-Organisation": self.organisation_id, **kwargs.pop("headers", {})}
        return super().__call__(method, path, headers=headers, **kwargs)


def as_member(user: User, organisation_id: str) -> Member:
    return Member(user.base_url, user.email, user.token, organisation_id)


def organisation_of(user: User) -> str:
    """The id of ``user``'s own organisation (made on first use)."""
    return str(user.ok("GET", "/organisation")["id"])


def join(stack, owner: User, role: str) -> Member:
    """A new person invited by ``owner`` with ``role``, who registers, verifies the address and
    accepts: a :class:`Member` acting for the owner's organisation."""
    email = f"member-{uuid.uuid4().hex[:12]}@example.com"
    owner.ok("POST", "/organisation/members", 201, json={"email": email, "role": role})
    person = sign_up(stack.base_url, email)
    accept_invitation(stack, email, person.token)
    return as_member(person, organisation_of(owner))


def read(user: User, expense_id: str, timeout: float = 90.0) -> dict:
    """The expense once the intake worker has read it (no longer ``processing``)."""
    deadline = time.monotonic() + timeout
    while True:
        expense = user.ok("GET", f"/expenses/{expense_id}")
        if expense["status"] != "processing":
            return expense
        if time.monotonic() > deadline:
            pytest.fail(f"expense {expense_id} still processing after {timeout}s")
        time.sleep(0.3)
