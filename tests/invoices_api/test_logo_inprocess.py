"""The organisation's logo (issue 18) on the in-process invoices app: PUT
as a raw image or multipart, GET, DELETE, what is refused and why, and the
draft preview that draws it."""

from __future__ import annotations

import io

from PIL import Image

from .conftest import BUYER, LINES, SELLER, pdf_images


def _png(width: int = 40, height: int = 20, color=(200, 30, 30, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def _jpeg(width: int = 30, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def _error(reply) -> dict:
    assert reply.headers["Content-Type"].startswith("application/json"), reply.data[:200]
    body = reply.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


def test_an_owner_sets_gets_and_removes_the_logo(records_api):
    api = records_api()
    assert api("GET", "/organisation").get_json()["has_logo"] is False
    assert api("GET", "/organisation/logo").status_code == 404

    upload = _png()
    put = api("PUT", "/organisation/logo", data=upload, headers={"Content-Type": "image/png"})
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["has_logo"] is True and put.headers["ETag"]
    got = api("GET", "/organisation/logo")
    assert got.status_code == 200 and got.mimetype == "image/png"
    assert Image.open(io.BytesIO(got.data)).size == (40, 20), "the same picture"
    assert api("GET", "/organisation").get_json()["has_logo"] is True

    deleted = api("DELETE", "/organisation/logo")
    assert deleted.status_code == 204
    assert api("GET", "/organisation/logo").status_code == 404
    assert api("GET", "/organisation").get_json()["has_logo"] is False
    assert api("DELETE", "/organisation/logo").status_code == 204, "removing none is fine"


def test_a_jpeg_in_a_multipart_field_is_stored_re_encoded(records_api):
    api = records_api()
    upload = _jpeg() + b"trailing bytes a decoder ignores"
    put = api("PUT", "/organisation/logo", data={"file": (io.BytesIO(upload), "logo.jpg", "image/jpeg")})
    assert put.status_code == 200, put.get_json()
    got = api("GET", "/organisation/logo")
    assert got.mimetype == "image/jpeg" and got.data != upload, "our bytes, never the upload's"
    assert Image.open(io.BytesIO(got.data)).size == (30, 30)


def test_what_is_not_a_logo_is_refused(records_api):
    api = records_api()
    for body, content_type, detail in (
        (b"%PDF-1.7 not an image at all", "image/png", "not_an_image"),
        (_png()[:60], "image/png", "not_an_image"),  # truncated
        (_png(), "application/octet-stream", "wrong_type"),
        (_gif(), "image/png", "not_an_image"),  # an image, not one we take
    ):
        reply = api("PUT", "/organisation/logo", data=body, headers={"Content-Type": content_type})
        error = _error(reply)
        assert reply.status_code == 422 and error["code"] == "invalid_logo", (content_type, error)
        assert error["details"][0]["code"] == detail, error
    assert api("GET", "/organisation").get_json()["has_logo"] is False


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (5, 5)).save(out, format="GIF")
    return out.getvalue()


def test_too_many_pixels_is_422_and_too_many_bytes_413(records_api):
    api = records_api()
    wide = api("PUT", "/organisation/logo", data=_png(5000, 10), headers={"Content-Type": "image/png"})
    assert wide.status_code == 422
    error = _error(wide)
    assert error["code"] == "invalid_logo" and error["details"][0]["code"] == "too_many_pixels"
    assert "5000" in error["message"]

    big = api(
        "PUT", "/organisation/logo", data=b"\x89PNG" + b"\0" * (2 * 1024 * 1024), headers={"Content-Type": "image/png"}
    )
    assert big.status_code == 413
    assert _error(big)["code"] in ("invalid_logo", "payload_too_large")
    assert api("GET", "/organisation").get_json()["has_logo"] is False


def test_a_decompression_bomb_is_refused_without_decoding_it(records_api):
    # 20000 x 20000 of one colour compresses to a few dozen kB; it must never be decoded.
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, format="PNG")
    api = records_api()
    reply = api("PUT", "/organisation/logo", data=out.getvalue(), headers={"Content-Type": "image/png"})
    assert reply.status_code == 422 and _error(reply)["details"][0]["code"] == "too_many_pixels"


def test_a_viewer_cannot_set_or_remove_the_logo(records_api):
    owner = records_api()
    viewer = records_api.join(owner, f"viewer-{id(owner):x}@example.com", "viewer")
    assert owner("PUT", "/organisation/logo", data=_png(), headers={"Content-Type": "image/png"}).status_code == 200
    assert viewer("PUT", "/organisation/logo", data=_png(), headers={"Content-Type": "image/png"}).status_code == 403
    assert viewer("DELETE", "/organisation/logo").status_code == 403
    assert viewer("GET", "/organisation/logo").status_code == 200, "a viewer reads it"
    assert viewer("GET", "/organisation").get_json()["has_logo"] is True


def test_a_drafts_preview_draws_the_logo(records_api):
    api = records_api()
    assert api("PATCH", "/organisation", json=SELLER).status_code == 200
    client = api("POST", "/clients", json=BUYER).get_json()
    draft = api("POST", "/invoices", json={"client_id": client["id"], "lines": LINES}).get_json()
    before = api("GET", f"/invoices/{draft['id']}/pdf")
    assert before.status_code == 200 and pdf_images(before.data) == 0
    assert api("PUT", "/organisation/logo", data=_png(), headers={"Content-Type": "image/png"}).status_code == 200
    after = api("GET", f"/invoices/{draft['id']}/pdf")
    assert after.status_code == 200 and pdf_images(after.data) >= 1


def test_the_contract_documents_the_logo_routes():
    from invoicer.invoices.contract import openapi_fragment

    paths = openapi_fragment()["paths"]["/organisation/logo"]
    assert {op["operationId"] for op in paths.values()} == {
        "putOrganisationLogo",
        "getOrganisationLogo",
        "deleteOrganisationLogo",
    }
    assert set(paths["put"]["requestBody"]["content"]) == {"image/png", "image/jpeg", "multipart/form-data"}
    assert set(paths["get"]["responses"]["200"]["content"]) == {"image/png", "image/jpeg"}
