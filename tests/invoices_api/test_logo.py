"""The seller's logo through the gateway on the stack (issue 18): the image
passes the gateway unchanged both ways, and an invoice issued after it was
set keeps a PDF that draws it."""

from __future__ import annotations

import io

from PIL import Image

from .conftest import fetch_document, issued, new_client, pdf_images


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (120, 40), (20, 90, 160, 255)).save(out, format="PNG")
    return out.getvalue()


def test_an_issued_invoice_keeps_the_logo_set_before_it(seller):
    put = seller("PUT", "/organisation/logo", data=_png(), headers={"Content-Type": "image/png"})
    assert put.status_code == 200, put.text
    assert put.json()["has_logo"] is True
    got = seller("GET", "/organisation/logo")
    assert got.status_code == 200 and got.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(got.content)).size == (120, 40), "binary bodies pass the gateway unchanged"

    invoice = issued(seller, new_client(seller))
    pdf = fetch_document(seller, f"/invoices/{invoice['id']}/pdf")
    assert pdf.status_code == 200, pdf.text
    assert pdf_images(pdf.content) >= 1, "the kept PDF draws the logo"

    # Removing the logo later changes nothing of what was issued.
    assert seller("DELETE", "/organisation/logo").status_code == 204
    again = fetch_document(seller, f"/invoices/{invoice['id']}/pdf")
    assert again.content == pdf.content
