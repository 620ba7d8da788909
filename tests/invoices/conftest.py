"""Fixtures for the invoices core: a throw-away PostgreSQL database per test
session (created and dropped here, migrated with every migration package of the registry),
and helpers that make actors, members and clients for one test."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import psycopg2
import pytest
from psycopg2 import sql

from invoicer.common.components import migration_packages
from invoicer.common.db import Database, migrate
from invoicer.invoices import clients
from invoicer.invoices.identity import Actor, Member, answer_invitation, invite, resolve_membership
from invoicer.invoices.organisations import update_organisation


@contextmanager
def _maintenance(server: str) -> Iterator[psycopg2.extensions.cursor]:
    conn = psycopg2.connect(f"{server}/postgres", connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def create_database(server: str, name: str) -> Database:
    """CREATE DATABASE ``name`` on ``server`` (the ``postgres_server``
    fixture), migrate it as ``invoicer migrate`` does, return a pool."""
    with _maintenance(server) as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db = Database(f"{server}/{name}", max_connections=12)
    for package in migration_packages():  # what `invoicer migrate` applies, in its order
        migrate(db, package)
    return db


def drop_database(server: str, db: Database, name: str) -> None:
    db.close()
    with _maintenance(server) as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def db(postgres_server) -> Iterator[Database]:
    name = f"invoicer_records_{secrets.token_hex(4)}"
    database = create_database(postgres_server, name)
    try:
        yield database
    finally:
        drop_database(postgres_server, database, name)


def new_actor(name: str = "user") -> Actor:
    return Actor(uuid.uuid4(), f"{name}-{secrets.token_hex(4)}@example.com")


def join(db: Database, owner: Member, actor: Actor, role: str) -> Member:
    """Invite ``actor`` into ``owner``'s organisation and let them accept
    (with their address verified); their membership there."""
    with db.transaction() as cur:
        invitation = invite(cur, owner, actor.email, role, public_url="https://invoicer.example")
    verified = replace(actor, email_verified=True)
    with db.transaction() as cur:
        answer_invitation(cur, verified, accept=True, invitation_id=invitation["id"])
        return resolve_membership(cur, verified, owner.organisation_id)


@pytest.fixture
def owner(db) -> Member:
    """The owner of a fresh organisation with a seller profile (EUR, 30 days)."""
    actor = new_actor("owner")
    with db.transaction() as cur:
        member = resolve_membership(cur, actor)
        update_organisation(
            cur,
            member,
            {
                "name": "Northwind Traders Ltd",
                "address": "12 Harbour Road\nBristol",
                "vat_id": "GB980780684",
                "email": "billing@northwind.example",
                "currency": "EUR",
                "payment_terms_days": 30,
            },
        )
    return member


@pytest.fixture
def client(db, owner) -> dict:
    """A client of ``owner``'s organisation with 14 days' terms."""
    with db.transaction() as cur:
        return clients.create_client(
            cur,
            owner,
            {
                "name": "Maria Anders",
                "company": "Alfreds Futterkiste",
                "address": "Obere Str. 57\nBerlin",
                "vat_id": "DE987654328",
                "payment_terms_days": 14,
            },
        )


LINES = [
    {"description": "Chai tea", "quantity": "12", "unit": "box", "unit_price": "18.00", "tax_rate": "19"},
    {"description": "Aniseed syrup", "quantity": "4", "unit": "case", "unit_price": "10.00", "tax_rate": "19"},
    {"description": "Recipe book", "quantity": "1", "unit_price": "24.50", "tax_rate": "7"},
]
