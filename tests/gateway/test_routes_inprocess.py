"""The gateway's routes in process (Flask's test client): what it answers
before, or without, reaching its dependencies. The same routes against the
real stack are in test_pipeline.py and test_bad_input.py."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from devstack import free_port

from invoicer.common.config import ConfigError, Settings
from invoicer.common.tokens import issue_token
from invoicer.gateway.app import create_app


@pytest.fixture
def gateway(app_client):
    return app_client(create_app)


def _token(settings: Settings) -> str:
    return issue_token(
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=60,
        sub=str(uuid.uuid4()),
        email="someone@example.com",
        roles=["user"],
    )


def test_refuses_to_start_without_a_strong_jwt_secret():
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        create_app(Settings(jwt_secret="short"))


def test_unknown_route_and_wrong_method_are_json_errors_with_security_headers(gateway):
    missing = gateway.get("/no-such-route", headers={"X-Request-ID": "trace-42"})
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    assert missing.headers["X-Request-ID"] == "trace-42"
    assert missing.headers["X-Content-Type-Options"] == "nosniff"
    assert missing.headers["Cache-Control"] == "no-store"
    wrong = gateway.delete("/upload")
    assert wrong.status_code == 405
    assert wrong.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]
    assert uuid.UUID(wrong.headers["X-Request-ID"]).version == 4


def test_protected_routes_want_a_valid_bearer_token(gateway, offline_settings):
    for path in ("/jobs", "/jobs/123", "/download?fid=1"):
        reply = gateway.get(path)
        assert reply.status_code == 401, path
        assert reply.get_json()["error"]["code"] == "unauthorized"
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    forged = _token(replace(offline_settings, jwt_secret="another-secret-" + "y" * 32))
    reply = gateway.get("/jobs", headers={"Authorization": f"Bearer {forged}"})
    assert reply.status_code == 401
    assert reply.get_json()["error"]["code"] == "invalid_token"


def test_a_valid_token_with_the_database_down_is_503_with_retry_after(gateway, offline_settings):
    reply = gateway.get("/jobs", headers={"Authorization": f"Bearer {_token(offline_settings)}"})
    assert reply.status_code == 503
    assert reply.headers["Retry-After"] == "5"
    assert reply.get_json()["error"] == {
        "code": "unavailable",
        "details": [],
        "message": "the database is unavailable; try again shortly",
    }


def test_login_needs_basic_credentials_and_a_reachable_auth_service(gateway):
    reply = gateway.post("/login")
    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"].startswith("Basic")
    down = gateway.post("/login", auth=("someone@example.com", "a-long-password"))
    assert down.status_code == 503
    assert down.headers["Retry-After"] == "5"
    assert "auth service" in down.get_json()["error"]["message"]


def test_login_takes_a_json_body_checked_before_auth_is_asked(gateway):
    down = gateway.post("/login", json={"email": "someone@example.com", "password": "a-long-password"})
    assert down.status_code == 503 and "auth service" in down.get_json()["error"]["message"]
    wrong = gateway.post("/login", json={"email": 42, "password": "a-long-password", "otp": "1"})
    assert wrong.status_code == 422
    error = wrong.get_json()["error"]
    assert error["code"] == "invalid_credentials_body"
    assert {(detail["pointer"], detail["code"]) for detail in error["details"]} >= {("/email", "string_type")}
    assert "/otp" in {detail["pointer"] for detail in error["details"]}
    assert gateway.post("/login", data=b"[1]", content_type="application/json").status_code == 400
    assert gateway.post("/login", json={"email": "", "password": "x"}).status_code == 401


def test_healthz_answers_while_readyz_names_what_is_down(app_client, stack):
    # The stack's real settings, with PostgreSQL moved to a port nothing listens on.
    settings = replace(Settings.from_env(stack.env), database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    gateway = app_client(create_app, settings)
    assert gateway.get("/healthz").get_json() == {"status": "ok"}
    reply = gateway.get("/readyz")
    assert reply.status_code == 503
    assert reply.headers["Retry-After"] == "5"
    error = reply.get_json()["error"]
    assert error["code"] == "unavailable"
    assert error["details"] == [{"check": "database", "message": "the database is unavailable"}]
    # The broker is not the gateway's dependency (uploads go through the outbox): it is not checked.
    broker_gone = replace(Settings.from_env(stack.env), amqp_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F")
    assert app_client(create_app, broker_gone).get("/readyz").get_json() == {"status": "ready"}
    assert app_client(create_app, Settings.from_env(stack.env)).get("/readyz").get_json() == {"status": "ready"}


def test_an_upload_is_accepted_without_a_broker_and_the_relay_publishes_it_once(
    app_client, stack, client, example_bytes
):
    """The gateway's uploads go through the transactional outbox: a gateway
    whose broker is unreachable (here, in process, on a closed port) still
    answers 202; the job and its render request are committed together in
    the stack's database, whose outbox relay publishes it for the stack's
    worker. Exactly one command, under the job's id, published once."""
    import io

    import psycopg2
    import psycopg2.extras

    no_broker = replace(Settings.from_env(stack.env), amqp_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F")
    gateway = app_client(create_app, no_broker)
    reply = gateway.post(
        "/upload?formats=pdf",
        headers=client.headers,
        data={"file": (io.BytesIO(example_bytes), "invoice.json", "application/json")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 202, reply.get_data(as_text=True)
    job_id = reply.get_json()["job_id"]
    assert client.wait(job_id)["status"] == "done"  # through the stack's gateway, relay and worker
    conn = psycopg2.connect(stack.env["DATABASE_URL"])
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(
                "SELECT id::text, kind, type, organisation_id, published_at, payload FROM outbox"
                " WHERE aggregate_id = %s",
                (job_id,),
            )
            rows = cur.fetchall()
    finally:
        conn.close()
    assert len(rows) == 1
    (row,) = rows
    assert (row["id"], row["kind"], row["type"], row["organisation_id"]) == (job_id, "command", "invoice.render", None)
    assert row["published_at"] is not None
    assert row["payload"]["job_id"] == job_id and row["payload"]["formats"] == ["pdf"]
