"""Internationalised recipients (RFC 6531/6532, IDNA 2008) reach a real SMTP
server (aiosmtpd, in-process), or are refused for good where they cannot."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler

from invoicer.common.config import Settings
from invoicer.common.messages import InvoiceReady, ReadyFile
from invoicer.notification.mailer import PermanentMailError, build_ready_mail, mailbox_address, send


class _Sink(MessageHandler):
    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[tuple[str, list[str], list[str]]] = []
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), list(envelope.mail_options)))
        return await super().handle_DATA(server, session, envelope)

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture(params=[True, False], ids=["smtputf8", "ascii-only"])
def server(request):
    sink = _Sink()
    with socket.socket() as probe:  # a free port (aiosmtpd's Controller cannot take 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port, enable_SMTPUTF8=request.param)
    controller.start()
    try:
        yield controller, sink, request.param
    finally:
        controller.stop()


def _event(recipient: str) -> InvoiceReady:
    return InvoiceReady(
        job_id="7d1c2c7e-51e5-4a0e-9a53-3f0a7a7c1f00",
        recipient=recipient,
        invoice_number="INV-2026-0001",
        totals={"gross": "330.86", "currency": "EUR"},
        status_url="http://127.0.0.1:8080/jobs/x",
        files=(ReadyFile(format="pdf", fid="f", download_url="http://127.0.0.1:8080/download?fid=f"),),
    )


def _settings(controller) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=controller.port)


def test_the_domain_goes_out_as_a_labels():
    assert mailbox_address("anna@bücher.example") == ("anna@xn--bcher-kva.example", False)
    assert mailbox_address("jörg@bücher.example") == ("jörg@xn--bcher-kva.example", True)
    with pytest.raises(PermanentMailError):
        mailbox_address("not an address")


def test_an_ascii_mailbox_at_an_idn_domain_reaches_any_server(server):
    controller, sink, _ = server
    send(build_ready_mail(_event("anna@bücher.example"), "invoicer@localhost"), _settings(controller))
    assert sink.envelopes == [("invoicer@localhost", ["anna@xn--bcher-kva.example"], [])]
    assert sink.messages[0]["To"] == "anna@xn--bcher-kva.example"


def test_a_utf8_mailbox_is_sent_with_smtputf8_or_refused_for_good(server):
    controller, sink, offers_smtputf8 = server
    mail = build_ready_mail(_event("jörg@bücher.example"), "invoicer@localhost")
    if offers_smtputf8:
        send(mail, _settings(controller))
        ((_mail_from, rcpt_tos, options),) = sink.envelopes
        assert rcpt_tos == ["jörg@xn--bcher-kva.example"]
        assert "SMTPUTF8" in options
        assert "INV-2026-0001" in sink.messages[0]["Subject"]
    else:
        with pytest.raises(PermanentMailError, match="SMTPUTF8"):
            send(mail, _settings(controller))
        assert sink.envelopes == []
