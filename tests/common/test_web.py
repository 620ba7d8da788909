"""What every HTTP service gets from make_app, on a small app built with it
(in process: Flask's test client, no stack)."""

from __future__ import annotations

import base64
import io
import uuid

import pytest
from flask import Blueprint, jsonify, request

from invoicer.common import logging as logs
from invoicer.common.config import Settings
from invoicer.common.errors import (
    ApiError,
    Conflict,
    InvalidInput,
    MalformedInput,
    NotAuthenticated,
    NotFound,
    NotPermitted,
    PreconditionFailed,
    RateLimited,
    ServerFault,
)
from invoicer.common.web import basic_credentials, make_app, public_url_for

LINE_ERRORS = [
    {"pointer": "/lines/0/quantity", "code": "not_a_number", "message": "quantity must be a number"},
    {"pointer": "/lines/1/vat_rate", "code": "unknown_rate", "message": "no such VAT rate"},
]


class PoolDown(RuntimeError):
    pass


class TakenName(Conflict):
    code = "name_taken"


class WrongKey(NotAuthenticated):
    code = "wrong_key"
    scheme = "Basic"


def _build(readiness=(), trusted_proxy_hops: int = 0, public_url: str = "http://127.0.0.1:8080"):
    bp = Blueprint("demo", __name__)

    @bp.get("/things/<thing_id>")
    def thing(thing_id):
        return jsonify({"self": public_url_for("demo.thing", thing_id=thing_id, view="full")})

    @bp.get("/whoami")
    def whoami():
        return jsonify({"correlation_id": logs.correlation_id.get(), "remote_addr": request.remote_addr})

    @bp.post("/echo")
    def echo():
        return jsonify({"length": len(request.get_data())})

    @bp.get("/text")
    def text():
        return "plain", 200, {"Content-Type": "text/plain"}

    @bp.get("/down")
    def down():
        raise PoolDown("connection refused on 10.0.0.7:5432")

    @bp.get("/boom")
    def boom():
        raise KeyError("secret internal detail")

    errors = {
        "invalid": InvalidInput("bad name", pointer="/name"),
        "conflict": TakenName("name taken"),
        "forbidden": NotPermitted("not here"),
        "missing": NotFound("no such thing"),
        "unauthenticated": WrongKey("wrong key"),
        "limited": RateLimited("slow down", retry_after=7),
        "api": ApiError(418, "teapot", "short and stout", headers={"X-Extra": "1"}),
        "malformed": MalformedInput("the body is not JSON"),
        "stale": PreconditionFailed("reload first", code="stale_version", pointer="/version"),
        "fault": ServerFault("the document could not be made"),
        "lines": InvalidInput("the lines are invalid", code="invalid_lines", pointer="/lines", details=LINE_ERRORS),
    }

    @bp.get("/raise/<kind>")
    def raise_(kind):
        raise errors[kind]

    return make_app(
        __name__,
        Settings(trusted_proxy_hops=trusted_proxy_hops, public_url=public_url),
        blueprints=[bp],
        readiness=list(readiness),
        unavailable={PoolDown: "widget pool"},
        max_body=16,
    )


@pytest.fixture
def client():
    return _build().test_client()


def test_a_sane_request_id_is_kept_and_is_the_log_correlation_id(client):
    reply = client.get("/whoami", headers={"X-Request-ID": "Req-1.2_3"})
    assert reply.headers["X-Request-ID"] == "Req-1.2_3"
    assert reply.get_json()["correlation_id"] == "Req-1.2_3"
    # The request's id does not leak into what runs after it.
    assert logs.correlation_id.get() is None


@pytest.mark.parametrize("offered", [None, "", "a" * 129, "has space", "new\nline", "<script>", "ünï"])
def test_a_missing_or_odd_request_id_is_replaced_by_a_uuid4(client, offered):
    headers = {} if offered is None else {"X-Request-ID": offered}
    try:
        reply = client.get("/whoami", headers=headers)
    except ValueError:  # Werkzeug's test client refuses a newline in a header itself
        assert "\n" in offered
        return
    given = reply.headers["X-Request-ID"]
    assert given != offered
    assert uuid.UUID(given).version == 4
    assert reply.get_json()["correlation_id"] == given


def test_the_longest_sane_request_id_is_kept(client):
    offered = "a" * 128
    assert client.get("/whoami", headers={"X-Request-ID": offered}).headers["X-Request-ID"] == offered


def test_security_headers_on_every_answer_and_no_store_csp_on_json(client):
    for path in ("/whoami", "/text", "/nowhere", "/raise/invalid"):
        reply = client.get(path)
        assert reply.headers["X-Content-Type-Options"] == "nosniff", path
        assert reply.headers["X-Frame-Options"] == "DENY", path
        assert reply.headers["Referrer-Policy"] == "no-referrer", path
    for path in ("/whoami", "/nowhere", "/healthz"):
        reply = client.get(path)
        assert reply.headers["Cache-Control"] == "no-store", path
        assert reply.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'", path
    text = client.get("/text")
    assert "Content-Security-Policy" not in text.headers and "Cache-Control" not in text.headers


def test_unknown_path_and_wrong_method_are_json_envelopes(client):
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    wrong = client.post("/whoami")
    assert wrong.status_code == 405
    assert wrong.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]
    assert client.post("/echo", data=b"x" * 16).get_json() == {"length": 16}
    too_big = client.post("/echo", data=b"x" * 17)
    assert too_big.status_code == 413
    assert too_big.get_json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("invalid", 422, "invalid_input"),
        ("conflict", 409, "name_taken"),
        ("forbidden", 403, "forbidden"),
        ("missing", 404, "not_found"),
        ("unauthenticated", 401, "wrong_key"),
        ("limited", 429, "too_many_requests"),
        ("api", 418, "teapot"),
        ("malformed", 400, "bad_request"),
        ("stale", 412, "stale_version"),
        ("fault", 500, "server_fault"),
        ("lines", 422, "invalid_lines"),
    ],
)
def test_domain_and_api_errors_get_their_status(client, kind, status, code):
    reply = client.get(f"/raise/{kind}")
    assert reply.status_code == status
    assert reply.get_json()["error"]["code"] == code


def test_domain_errors_carry_pointer_challenge_and_retry_after(client):
    invalid = client.get("/raise/invalid").get_json()["error"]
    assert invalid["details"] == [{"pointer": "/name", "code": "invalid_input", "message": "bad name"}]
    assert client.get("/raise/unauthenticated").headers["WWW-Authenticate"] == 'Basic realm="invoicer", charset="UTF-8"'
    assert client.get("/raise/limited").headers["Retry-After"] == "7"
    assert client.get("/raise/api").headers["X-Extra"] == "1"


def test_a_raise_may_give_its_own_code_and_details_which_are_sent_as_given(client):
    lines = client.get("/raise/lines").get_json()["error"]
    assert lines == {"code": "invalid_lines", "message": "the lines are invalid", "details": LINE_ERRORS}
    # Without details, the pointer's field error carries the raise's own code.
    stale = client.get("/raise/stale").get_json()["error"]
    assert stale["details"] == [{"pointer": "/version", "code": "stale_version", "message": "reload first"}]
    # The family's code is untouched by one raise's.
    assert PreconditionFailed("x").code == "precondition_failed"
    assert client.get("/raise/fault").get_json()["error"] == {
        "code": "server_fault",
        "message": "the document could not be made",
        "details": [],
    }


def test_a_dependency_error_is_503_with_retry_after_and_no_internals(client):
    reply = client.get("/down")
    assert reply.status_code == 503
    assert reply.headers["Retry-After"] == "5"
    assert reply.get_json()["error"] == {
        "code": "unavailable",
        "details": [],
        "message": "the widget pool is unavailable; try again shortly",
    }
    assert "10.0.0.7" not in reply.get_data(as_text=True)


def test_an_unexpected_error_is_a_500_that_reveals_nothing(client):
    reply = client.get("/boom")
    assert reply.status_code == 500
    assert reply.get_json()["error"]["code"] == "internal_error"
    assert "secret" not in reply.get_data(as_text=True)
    assert reply.headers["X-Request-ID"]


def test_healthz_and_readyz_from_the_readiness_list():
    def fine():
        return None

    def refused():
        raise ConnectionRefusedError("127.0.0.1:1")

    ready = _build([("database", fine), ("file storage", fine)]).test_client()
    assert ready.get("/healthz").get_json() == {"status": "ok"}
    assert ready.get("/readyz").status_code == 200
    assert ready.get("/readyz").get_json() == {"status": "ready"}

    not_ready = _build([("database", fine), ("file storage", refused), ("message broker", refused)]).test_client()
    assert not_ready.get("/healthz").status_code == 200
    reply = not_ready.get("/readyz")
    assert reply.status_code == 503
    assert reply.headers["Retry-After"] == "5"
    error = reply.get_json()["error"]
    assert error["code"] == "unavailable"
    assert [detail["check"] for detail in error["details"]] == ["file storage", "message broker"]
    assert "127.0.0.1" not in reply.get_data(as_text=True)


def test_forwarded_client_address_is_trusted_only_behind_a_configured_proxy():
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    direct = _build().test_client().get("/whoami", headers=forwarded).get_json()
    assert direct["remote_addr"] == "127.0.0.1"
    proxied = _build(trusted_proxy_hops=1).test_client().get("/whoami", headers=forwarded).get_json()
    assert proxied["remote_addr"] == "203.0.113.9"


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/things/a%20b?view=full"),
        ("https://invoices.example.com/api/", "https://invoices.example.com/api/things/a%20b?view=full"),
    ],
)
def test_links_come_from_public_url_not_from_the_request(public_url, expected):
    poisons = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    for hops in (0, 1):
        client = _build(trusted_proxy_hops=hops, public_url=public_url).test_client()
        assert client.get("/things/a b", headers=poisons).get_json() == {"self": expected}


@pytest.mark.parametrize(("size", "status"), [(16, 200), (17, 413), (10_000, 413)])
def test_a_chunked_body_is_read_whole_or_refused_whole(size, status):
    # max_body is 16: a chunked body over it is 413, never cut to 16 bytes.
    client = _build().test_client()
    reply = client.post("/echo", input_stream=io.BytesIO(b"x" * size), headers={"Transfer-Encoding": "chunked"})
    assert reply.status_code == status, reply.get_data(as_text=True)
    if status == 200:
        assert reply.get_json() == {"length": size}
    else:
        assert reply.get_json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Basic " + base64.b64encode("jörg@example.com:pässwörd".encode()).decode(), ("jörg@example.com", "pässwörd")),
        ("basic " + base64.b64encode("jörg:pä:ss".encode("latin-1")).decode(), ("jörg", "pä:ss")),
        ("Basic " + base64.b64encode(b"no-colon").decode(), None),
        ("Basic not base64!", None),
        ("Bearer abc", None),
        (None, None),
    ],
)
def test_basic_credentials_are_utf8_with_a_latin1_fallback(header, expected):
    assert basic_credentials(header) == expected
