"""The messages' wire format: version 1 with the keys the services have
always sent, and refusal of anything else as a permanent failure."""

from __future__ import annotations

import json

import pytest

from invoicer.common.amqp import READY, RENDER, Permanent
from invoicer.common.messages import InvoiceReady, MalformedMessage, ReadyFile, RenderRequest, job_id_of

REQUEST = {"version": 1, "job_id": "j1", "owner_id": "o1", "input_fid": "in1", "formats": ["pdf", "xlsx"]}
READY_EVENT = {
    "version": 1,
    "job_id": "j1",
    "recipient": "maria@example.com",
    "invoice_number": "INV-1",
    "totals": {"currency": "EUR", "net": "1.00", "tax": "0.19", "gross": "1.19"},
    "status_url": "http://gw/jobs/j1",
    "files": [{"format": "pdf", "fid": "f1", "download_url": "http://gw/download?fid=f1"}],
}


def test_a_render_request_reads_and_writes_the_version_1_wire_format():
    request = RenderRequest.from_bytes(json.dumps(REQUEST).encode())
    assert request == RenderRequest(job_id="j1", owner_id="o1", input_fid="in1", formats=("pdf", "xlsx"))
    assert json.loads(request.to_bytes()) == REQUEST
    assert request.ROUTING_KEY == RENDER


def test_an_invoice_ready_event_reads_and_writes_the_version_1_wire_format():
    event = InvoiceReady.from_bytes(json.dumps(READY_EVENT).encode())
    assert event.files == (ReadyFile(format="pdf", fid="f1", download_url="http://gw/download?fid=f1"),)
    assert event.totals["gross"] == "1.19"
    assert json.loads(event.to_bytes()) == READY_EVENT
    assert event.ROUTING_KEY == READY


def test_an_event_without_totals_or_number_is_accepted():
    event = InvoiceReady.from_bytes(json.dumps({**READY_EVENT, "totals": None, "invoice_number": None}).encode())
    assert event.totals is None and event.invoice_number is None


def _without(data: dict, key: str) -> dict:
    return {k: v for k, v in data.items() if k != key}


@pytest.mark.parametrize(
    ("body", "code", "reason"),
    [
        (b"\xff\xfe", "malformed_message", "message is not JSON"),
        (b"not json", "malformed_message", "message is not JSON"),
        (b"[1, 2]", "malformed_message", "message is not a JSON object"),
        (json.dumps({**REQUEST, "version": 2}).encode(), "unsupported_version", "unsupported message version 2"),
        (json.dumps(_without(REQUEST, "version")).encode(), "unsupported_version", "unsupported message version None"),
        (
            json.dumps(_without(REQUEST, "input_fid")).encode(),
            "malformed_message",
            "message field input_fid is missing",
        ),
        (json.dumps({**REQUEST, "job_id": 7}).encode(), "malformed_message", "message field job_id is ill-typed"),
        (json.dumps({**REQUEST, "job_id": ""}).encode(), "malformed_message", "message field job_id is ill-typed"),
        (json.dumps({**REQUEST, "formats": "pdf"}).encode(), "malformed_message", "message field formats is ill-typed"),
        (
            json.dumps({**REQUEST, "formats": [1]}).encode(),
            "malformed_message",
            "message field formats must list format names",
        ),
    ],
)
def test_a_malformed_render_request_is_refused_for_good(body, code, reason):
    with pytest.raises(MalformedMessage) as caught:
        RenderRequest.from_bytes(body)
    assert isinstance(caught.value, Permanent)
    assert (caught.value.code, caught.value.reason) == (code, reason)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"files": [{"fid": "f1", "download_url": "u"}]}, "message field files/0/format is missing"),
        ({"files": [{"format": "pdf", "fid": "f1"}]}, "message field files/0/download_url is missing"),
        ({"files": ["f1"]}, "message field files/0 is not an object"),
        ({"files": None}, "message field files is missing"),
        ({"recipient": None}, "message field recipient is missing"),
        ({"status_url": 3}, "message field status_url is ill-typed"),
        ({"totals": "1.19"}, "message field totals is ill-typed"),
    ],
)
def test_a_malformed_invoice_ready_event_is_refused_for_good(change, reason):
    data = {**READY_EVENT, **change}
    if change.get("files", ...) is None or change.get("recipient", ...) is None:
        data = _without(data, next(iter(change)))
    with pytest.raises(MalformedMessage) as caught:
        InvoiceReady.from_bytes(json.dumps(data).encode())
    assert (caught.value.code, caught.value.reason) == ("malformed_message", reason)


@pytest.mark.parametrize(
    ("body", "job_id"),
    [
        (json.dumps({"version": 9, "job_id": "j1"}).encode(), "j1"),
        (json.dumps({"job_id": 5}).encode(), None),
        (b"[]", None),
        (b"\xff", None),
    ],
)
def test_the_job_of_a_refused_message_is_found_when_it_names_one(body, job_id):
    assert job_id_of(body) == job_id


def test_a_render_request_without_notify_still_parses_and_notifies():
    """Backward compatible: version 1 bodies from before the field mean "notify"."""
    request = RenderRequest.from_bytes(json.dumps(REQUEST).encode())
    assert request.notify is True and request.document_type == "invoice"
    assert request.preceding_invoice is None


def test_a_quiet_credit_note_request_round_trips():
    request = RenderRequest(
        job_id="j1",
        owner_id="o1",
        input_fid="in1",
        formats=("pdf",),
        notify=False,
        document_type="credit_note",
        preceding_invoice="INV-1",
        preceding_invoice_date="2026-03-10",
    )
    body = json.loads(request.to_bytes())
    assert body["version"] == 1 and body["notify"] is False and body["preceding_invoice"] == "INV-1"
    assert RenderRequest.from_bytes(request.to_bytes()) == request


def test_an_ill_typed_notify_is_refused():
    with pytest.raises(MalformedMessage, match="notify"):
        RenderRequest.from_bytes(json.dumps({**REQUEST, "notify": "no"}).encode())


MAIL_COMMAND = {
    "version": 1,
    "id": "c1",
    "invoice_id": "i1",
    "recipient": "maria@example.com",
    "seller": "Northwind Traders Ltd",
    "number": "INV-2026-0001",
    "currency": "EUR",
    "amount_due": "330.86",
    "due_date": "2026-03-24",
    "pdf_fid": "f1",
    "filename": "INV-2026-0001.pdf",
    "reply_to": None,
}


def test_an_invoice_mail_reads_and_writes_the_version_1_wire_format():
    from invoicer.common.amqp import MAIL
    from invoicer.common.messages import InvoiceMail, mail_id_of

    mail = InvoiceMail.from_bytes(json.dumps(MAIL_COMMAND).encode())
    assert mail.number == "INV-2026-0001" and mail.due_date == "2026-03-24" and mail.reply_to is None
    assert json.loads(mail.to_bytes()) == MAIL_COMMAND
    assert mail.ROUTING_KEY == MAIL
    assert mail_id_of(mail.to_bytes()) == "c1"
    with pytest.raises(MalformedMessage, match="pdf_fid is missing"):
        InvoiceMail.from_bytes(json.dumps(_without(MAIL_COMMAND, "pdf_fid")).encode())


def test_the_wire_bytes_are_exactly_those_of_version_1():
    """Byte for byte (key order, separators, no optional keys at their
    defaults): what consumers deployed before a change of the classes read."""
    assert RenderRequest(job_id="j1", owner_id="o1", input_fid="in1", formats=("pdf",)).to_bytes() == (
        b'{"version":1,"job_id":"j1","owner_id":"o1","input_fid":"in1","formats":["pdf"]}'
    )
    assert RenderRequest(
        job_id="j1",
        owner_id="o1",
        input_fid="in1",
        formats=("pdf", "xlsx"),
        notify=False,
        document_type="credit_note",
        preceding_invoice="INV-1",
        preceding_invoice_date="2026-03-10",
    ).to_bytes() == (
        b'{"version":1,"job_id":"j1","owner_id":"o1","input_fid":"in1","formats":["pdf","xlsx"],"notify":false,'
        b'"document_type":"credit_note","preceding_invoice":"INV-1","preceding_invoice_date":"2026-03-10"}'
    )
    assert InvoiceReady.from_bytes(json.dumps(READY_EVENT).encode()).to_bytes() == (
        b'{"version":1,"job_id":"j1","recipient":"maria@example.com","invoice_number":"INV-1",'
        b'"totals":{"currency":"EUR","net":"1.00","tax":"0.19","gross":"1.19"},"status_url":"http://gw/jobs/j1",'
        b'"files":[{"format":"pdf","fid":"f1","download_url":"http://gw/download?fid=f1"}]}'
    )
    from invoicer.common.messages import DomainEvent, InvoiceMail

    assert (
        InvoiceMail.from_bytes(json.dumps(MAIL_COMMAND).encode()).to_bytes()
        == json.dumps(MAIL_COMMAND, separators=(",", ":")).encode()
    )
    event = DomainEvent(
        id="e1",
        type="invoice.issued",
        occurred_at="2026-03-10T09:30:00+00:00",
        organisation_id="o1",
        actor={"id": None, "email": "a@b.c"},
        data={"n": "1"},
    )
    assert event.to_bytes() == (
        b'{"version":1,"id":"e1","type":"invoice.issued","occurred_at":"2026-03-10T09:30:00+00:00",'
        b'"organisation_id":"o1","actor":{"id":null,"email":"a@b.c"},"data":{"n":"1"}}'
    )
    assert DomainEvent.from_bytes(event.to_bytes()) == event
