"""A client generated from the running gateway's /openapi.json by
openapi-python-client works end to end (issue 17: the contract is generated
from each service's models, so a generated client is typed and complete):
no schema left out while generating, typed answers (attrs models, not raw
dicts or None) from register to the PDF of a paid invoice."""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pypdf
import pytest
import requests

from .conftest import LINES, LINES_GROSS, SELLER

PACKAGE = "invoicer_gateway_client"

#: The generator writes Python only (no formatter run); the document answers and the logo are binary files.
CONFIG = """\
post_hooks: []
content_type_overrides:
  application/pdf: application/octet-stream
  application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: application/octet-stream
  image/png: application/octet-stream
  image/jpeg: application/octet-stream
"""


@pytest.fixture(scope="module")
def generated(stack, tmp_path_factory):
    """The client package generated into a temporary directory, imported."""
    where = tmp_path_factory.mktemp("generated")
    document = requests.get(f"{stack.base_url}/openapi.json", timeout=30)
    assert document.status_code == 200
    (where / "openapi.json").write_bytes(document.content)
    (where / "config.yaml").write_text(CONFIG)
    generator = Path(sys.executable).parent / "openapi-python-client"
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(where / "openapi.json"),
            "--meta",
            "none",
            "--output-path",
            str(where / PACKAGE),
            "--config",
            str(where / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for trouble in ("Unable to process", "Unable to parse", "Warning", "WARNING", "will not be generated"):
        assert trouble not in output, output
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _module(name: str):
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_a_generated_client_bills_from_register_to_the_pdf(stack, generated):
    models = _module("models")
    default, billing = "api.default", "api.billing"
    anonymous = generated.Client(base_url=stack.base_url, raise_on_unexpected_status=True)
    email, password = f"generated-{uuid.uuid4().hex[:10]}@example.com", "a-long-password-for-the-client"

    registered = _module(f"{default}.register").sync_detailed(
        client=anonymous, body=models.Registration(email=email, password=password)
    )
    assert registered.status_code == 201 and isinstance(registered.parsed, models.Account)
    logged_in = _module(f"{default}.login").sync_detailed(
        client=anonymous, body=models.Credentials(email=email, password=password)
    )
    assert logged_in.status_code == 200 and isinstance(logged_in.parsed, models.Token)
    api = generated.AuthenticatedClient(
        base_url=stack.base_url, token=logged_in.parsed.access_token, raise_on_unexpected_status=True
    )

    profile = _module(f"{billing}.update_organisation").sync_detailed(
        client=api, body=models.OrganisationUpdate.from_dict(SELLER)
    )
    assert profile.status_code == 200 and isinstance(profile.parsed, models.OrganisationRead)
    assert profile.parsed.name == SELLER["name"]

    created = _module(f"{billing}.create_client").sync_detailed(
        client=api, body=models.ClientCreate(name="Maria Anders", email="maria@example.com")
    )
    assert created.status_code == 201 and isinstance(created.parsed, models.ClientRead)
    client = created.parsed

    draft = _module(f"{billing}.create_draft").sync_detailed(
        client=api,
        body=models.InvoiceCreate(client_id=str(client.id), lines=[models.Line.from_dict(line) for line in LINES]),
    )
    assert draft.status_code == 201 and isinstance(draft.parsed, models.InvoiceRead)
    assert draft.parsed.status.value == "draft" and isinstance(draft.parsed.totals, models.TotalsRead)
    assert draft.parsed.totals.gross == LINES_GROSS and all(
        isinstance(line, models.LineRead) for line in draft.parsed.lines
    )
    assert [action.value for action in draft.parsed.actions] == ["edit", "delete", "issue"]

    issued = _module(f"{billing}.issue_invoice").sync_detailed(
        invoice_id=str(draft.parsed.id), client=api, body=models.IssueRequest()
    )
    assert issued.status_code == 200 and isinstance(issued.parsed, models.InvoiceRead)
    invoice = issued.parsed
    assert invoice.status.value == "issued" and invoice.number.startswith("INV-")

    paid = _module(f"{billing}.record_payment").sync_detailed(
        invoice_id=str(invoice.id), client=api, body=models.PaymentCreate(amount="100.00", method="bank transfer")
    )
    assert paid.status_code == 201 and isinstance(paid.parsed, models.PaymentRecorded)
    assert isinstance(paid.parsed.payment, models.PaymentRead) and paid.parsed.payment.amount == "100.00"
    assert paid.parsed.invoice.status.value == "partially_paid" and paid.parsed.invoice.totals.paid == "100.00"

    document = _module(f"{billing}.get_invoice_document")
    fmt = _module("models.get_invoice_document_fmt").GetInvoiceDocumentFmt.PDF
    deadline = time.monotonic() + 60
    while True:  # 503 (documented, so not raised) while the worker renders the kept PDF
        reply = document.sync_detailed(invoice_id=str(invoice.id), fmt=fmt, client=api)
        if reply.status_code != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert reply.status_code == 200, reply.content[:500]
    assert isinstance(reply.parsed, _module("types").File)
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(reply.parsed.payload).pages)
    assert invoice.number in text and LINES_GROSS in text
