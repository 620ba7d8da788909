"""The account pages in process (issue 22): switching organisation only to
one of the person's own, the choice sent as X-Organisation with every
records call, and the sign-in replacing the CSRF secret."""

from __future__ import annotations

import flask

from invoicer.gateway.app import create_app
from invoicer.gateway.web import account_pages, session
from invoicer.gateway.web.records import Records

from .test_app_inprocess import _csrf, _token

MINE = "11111111-1111-4111-8111-111111111111"
THEIRS = "22222222-2222-4222-8222-222222222222"


class _Records:
    def get(self, path: str, **params):
        assert path == "/organisations"
        return {"items": [{"organisation_id": MINE, "name": "Mine", "role": "accountant"}]}


def test_switching_is_only_to_an_organisation_one_belongs_to(app_client, monkeypatch):
    monkeypatch.setattr(account_pages, "records", _Records)
    client = app_client(create_app)
    token = _csrf(client)
    client.set_cookie(session.COOKIE, _token(), path="/app/")
    refused = client.post("/app/organisation/switch", data={"csrf_token": token, "organisation_id": THEIRS})
    assert refused.status_code == 302
    with client.session_transaction("/app/") as stored:
        assert "organisation_id" not in stored
        assert ("error", "You are not a member of that organisation.") in stored.get("_flashes", [])
    taken = client.post("/app/organisation/switch", data={"csrf_token": token, "organisation_id": MINE})
    assert taken.status_code == 302
    with client.session_transaction("/app/") as stored:
        assert stored["organisation_id"] == MINE


def test_the_chosen_organisation_goes_with_every_records_call(app_client):
    with_choice = Records("http://records", "token", MINE)
    without = Records("http://records", "token")
    with app_client(create_app).application.test_request_context("/app/"):
        flask.g.request_id = "trace-1"
        assert with_choice.identity()["X-Organisation"] == MINE
        assert "X-Organisation" not in without.identity()


def test_a_sign_in_replaces_the_csrf_secret(app_client, monkeypatch):
    client = app_client(create_app)
    before = _csrf(client)
    monkeypatch.setattr(
        "invoicer.gateway.web.views._auth_login", lambda email, password: ({"access_token": _token()}, 200)
    )
    reply = client.post("/app/login", data={"csrf_token": before, "email": "ada@example.com", "password": "x" * 12})
    assert reply.status_code == 302
    with client.session_transaction("/app/") as stored:
        assert "csrf_token" not in stored, "the secret the pre-sign-in token was made from is gone"
    stale = client.post("/app/organisation/switch", data={"csrf_token": before, "organisation_id": MINE})
    assert stale.status_code == 400
