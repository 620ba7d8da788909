"""The value types of who is asking: an :class:`Actor` (the authenticated
user) and a :class:`Member` (an actor acting for one organisation, with a
role). :mod:`invoicer.invoices.identity` resolves them from the database;
this module holds only the types, so that :mod:`~invoicer.invoices.events`
and the rest of the package can use them without importing the queries.

Roles: ``owner`` and ``accountant`` read and write, ``viewer`` only reads.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from .errors import Forbidden

__all__ = ["ROLES", "WRITERS", "Actor", "Member"]

ROLES = ("owner", "accountant", "viewer")
WRITERS = frozenset({"owner", "accountant"})


@dataclass(frozen=True)
class Actor:
    """The authenticated user: ``user_id`` (the JWT ``sub``, a UUID; a string
    is converted, ValueError if it is not a UUID), ``email`` (normalised at
    registration) and ``email_verified`` (whether the address was confirmed
    by its mailed link: what answering an invitation needs)."""

    user_id: uuid.UUID
    email: str
    email_verified: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.user_id, uuid.UUID):
            object.__setattr__(self, "user_id", uuid.UUID(str(self.user_id)))


@dataclass(frozen=True)
class Member:
    """An actor acting for ``organisation_id`` with ``role`` (one of :data:`ROLES`)."""

    actor: Actor
    organisation_id: uuid.UUID
    role: str

    @property
    def can_write(self) -> bool:
        return self.role in WRITERS

    def require_write(self) -> None:
        """Raises :class:`Forbidden` (``read_only_role``) for a viewer."""
        if not self.can_write:
            raise Forbidden(f"the {self.role} role can read but not change records", code="read_only_role")

    def require_owner(self) -> None:
        """Raises :class:`Forbidden` (``owner_only``) unless the role is owner."""
        if self.role != "owner":
            raise Forbidden("only an owner of the organisation can do this", code="owner_only")
