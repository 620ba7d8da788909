"""Migration 0003: clients' and organisations' free-text addresses become
structured jsonb (first line -> line1, the other lines -> line2), and the
records read back through the domain functions give the structured form."""

from __future__ import annotations

import secrets
from importlib import resources

import pytest
from psycopg2 import sql

from invoicer.common.db import Database, migrate
from invoicer.invoices import clients, organisations
from invoicer.invoices.identity import resolve_membership

from .conftest import _maintenance, drop_database, new_actor

PACKAGE = "invoicer.invoices.migrations"
BEFORE = ("0001_records.sql", "0002_outbox_commands.sql")


@pytest.fixture
def old_db(postgres_server):
    """A database migrated up to 0002 (addresses still text), dropped after the test."""
    name = f"invoicer_addr_{secrets.token_hex(4)}"
    with _maintenance(postgres_server) as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db = Database(f"{postgres_server}/{name}", max_connections=2)
    try:
        migrate(db)
        migrate(db, "invoicer.common.migrations")  # the outbox, which every service's migrations may use
        with db.transaction() as cur:
            for file in BEFORE:
                cur.execute(resources.files(PACKAGE).joinpath(file).read_text(encoding="utf-8"))
                cur.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (f"{PACKAGE}:{file}",))
        yield db
    finally:
        drop_database(postgres_server, db, name)


def test_text_addresses_become_structured_and_read_back(old_db) -> None:
    actor = new_actor("owner")
    with old_db.transaction() as cur:
        member = resolve_membership(cur, actor)
        cur.execute(
            "UPDATE organisations SET name = 'Northwind', address = %s WHERE id = %s",
            ("12 Harbour Road\r\nBristol BS1 4RW\n\n  United Kingdom  ", member.organisation_id),
        )
        rows = [("Alfreds", "Obere Str. 57\n12209 Berlin"), ("One line", "Rue 1"), ("Blank", "  \n "), ("None", None)]
        for name, address in rows:
            cur.execute(
                "INSERT INTO clients (organisation_id, name, address) VALUES (%s, %s, %s)",
                (member.organisation_id, name, address),
            )

    assert migrate(old_db, PACKAGE)[0] == f"{PACKAGE}:0003_structured_address.sql"

    with old_db.transaction() as cur:
        listed = {row["name"]: row["address"] for row in clients.list_clients(cur, member)["items"]}
        profile = organisations.get_organisation(cur, member)
    assert listed == {
        "Alfreds": {"line1": "Obere Str. 57", "line2": "12209 Berlin"},
        "One line": {"line1": "Rue 1"},
        "Blank": None,
        "None": None,
    }
    assert profile["address"] == {"line1": "12 Harbour Road", "line2": "Bristol BS1 4RW\nUnited Kingdom"}


def test_migrated_records_can_be_saved_structured(old_db) -> None:
    actor = new_actor("owner")
    with old_db.transaction() as cur:
        member = resolve_membership(cur, actor)
        cur.execute(
            "INSERT INTO clients (organisation_id, name, address) VALUES (%s, 'Alfreds', 'Obere Str. 57\nBerlin')"
            " RETURNING id",
            (member.organisation_id,),
        )
        client_id = cur.fetchone()["id"]
    migrate(old_db, PACKAGE)
    with old_db.transaction() as cur:
        # An unrelated change re-checks the migrated address, which stays as it was.
        unchanged = clients.update_client(cur, member, client_id, {"phone": "+49 30 1234"})
        changed = clients.update_client(
            cur, member, client_id, {"address": {"line1": "Obere Str. 57", "city": "Berlin", "country_code": "DE"}}
        )
        cur.execute("SELECT jsonb_typeof(address) AS kind FROM clients WHERE id = %s", (client_id,))
        kind = cur.fetchone()["kind"]
    assert unchanged["address"] == {"line1": "Obere Str. 57", "line2": "Berlin"}
    assert changed["address"] == {"line1": "Obere Str. 57", "city": "Berlin", "country_code": "DE"}
    assert kind == "object"
