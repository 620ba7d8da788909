"""``make demo``'s expenses part (devstack.receive) against the test stack: a received
e-invoice and a scanned invoice uploaded, read, their fields and statuses printed."""

from __future__ import annotations

from pathlib import Path

from devstack import receive

from tests.invoices_api.conftest import sign_up

RECEIVED = Path(__file__).resolve().parents[2] / "examples" / "received"


def test_the_demo_reads_a_received_e_invoice_and_a_scan(stack, capsys):
    user = sign_up(stack.base_url)
    user.ok("GET", "/organisation")
    receive(stack.base_url, {"Authorization": f"Bearer {user.token}"}, RECEIVED)
    out = capsys.readouterr().out
    assert "expense EN16931_Miete.pdf: submitted (einvoice_pdf): supplier_name=MUSTER-Autovermietung (1.00 xml)" in out
    assert "total_gross=340.96 (1.00 xml)" in out
    scan = next(line for line in out.splitlines() if "expense stationery-scan.jpg:" in line)
    assert "(image)" in scan and "supplier_name=Papeterie Martin SARL" in scan and "total_gross=74.76" in scan
    assert " ocr)" in scan
    expenses = user.ok("GET", "/expenses")["items"]
    assert sorted(e["status"] for e in expenses) == ["needs_review", "submitted"]
