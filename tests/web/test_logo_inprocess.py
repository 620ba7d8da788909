"""The organisation page's logo (issue 18) in process: the upload form posts
the file (multipart, CSRF token) to the invoices service as a raw image, the
remove button deletes it, and the page shows the logo it has."""

from __future__ import annotations

import io

from invoicer.gateway.app import create_app
from invoicer.gateway.web import pages, session

from .test_app_inprocess import _csrf, _token

PNG = b"\x89PNG\r\n\x1a\n" + b"rest of a picture"


class _Records:
    """The invoices service as the logo views use it."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def put_image(self, path: str, data: bytes, content_type: str):
        self.calls.append(("PUT", path, data, content_type))
        return {"has_logo": True}

    def delete(self, path: str):
        self.calls.append(("DELETE", path))

    def file(self, path: str):
        self.calls.append(("GET", path))
        return PNG, "image/png", None


def test_the_upload_form_puts_the_file_and_remove_deletes_it(app_client, monkeypatch):
    fake = _Records()
    monkeypatch.setattr(pages, "records", lambda: fake)
    client = app_client(create_app)
    token = _csrf(client)
    client.set_cookie(session.COOKIE, _token(), path="/app/")

    reply = client.post(
        "/app/organisation/logo",
        data={"csrf_token": token, "file": (io.BytesIO(PNG), "logo.png", "image/png")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 302 and reply.headers["Location"] == "/app/organisation"
    assert fake.calls == [("PUT", "/organisation/logo", PNG, "image/png")]

    shown = client.get("/app/organisation/logo")
    assert shown.status_code == 200 and shown.data == PNG and shown.mimetype == "image/png"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"

    assert client.post("/app/organisation/logo/delete", data={"csrf_token": token}).status_code == 302
    assert fake.calls[-1] == ("DELETE", "/organisation/logo")
    refused = client.post("/app/organisation/logo/delete", data={})
    assert refused.status_code in (400, 403), "no CSRF token, no change"


def test_the_page_shows_the_logo_and_the_forms(app_client):
    import flask

    app = app_client(create_app).application
    profile = {"name": "Northwind", "has_logo": True, "address": None}
    with app.test_request_context("/app/organisation"):
        html = flask.render_template(
            "organisation/organisation.html",
            profile=profile,
            members=[],
            errors={},
            roles={"viewer": "Viewer"},
            roles_help="",
            default_role="viewer",
            year=2026,
        )
    assert '<img src="/app/organisation/logo"' in html
    assert 'enctype="multipart/form-data"' in html and 'name="file"' in html
    assert 'action="/app/organisation/logo/delete"' in html
    assert html.count('name="csrf_token"') >= 4
