"""``make demo``'s billing part (devstack.bill) against the test stack."""

from __future__ import annotations

import json
from datetime import date

from devstack import bill

from invoicer.invoice.einvoice.validation import validate

from .conftest import sign_up


def test_the_demo_bills_the_example_and_prints_the_dashboard(stack, example_bytes, capsys, tmp_path):
    user = sign_up(stack.base_url)
    figures = bill(stack.base_url, {"Authorization": f"Bearer {user.token}"}, json.loads(example_bytes), tmp_path)
    eur = figures["currencies"]["EUR"]
    assert eur["counts"]["paid"] == 1 and eur["outstanding"] == "0.00" and eur["paid_last_30_days"] == "330.86"
    out = capsys.readouterr().out
    assert "paid 100.00: partially_paid, 230.86 left" in out and '"paid_last_30_days": "330.86"' in out
    # The billed invoice is numbered by the organisation's series, not like the uploaded example.
    number = f"NW-{date.today().year}-0001"
    assert f"issued {number} to Maria Anders" in out and json.loads(example_bytes)["invoice_number"] != number
    assert "the upload's INV-2026-0001 is the number written in the uploaded JSON" in out
    # The German client takes Factur-X: its PDF/A-3 carries the XML, which is also written beside it.
    (pdf,) = tmp_path.glob(f"{number}.facturx.pdf")
    (xml,) = tmp_path.glob(f"{number}.cii.xml")
    report = validate(pdf.read_bytes())
    assert report.attachment == "factur-x.xml" and report.valid
    assert validate(xml.read_bytes()).valid
    assert f"carries the XML as factur-x.xml; the same XML is {xml}" in out
