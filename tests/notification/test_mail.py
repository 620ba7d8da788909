"""The "invoice ready" mail arrives in the SMTP sink, once per job."""

from __future__ import annotations

import mailbox
import re
import time
from email import policy

import pytest
import requests


def _mails_for(stack, job_id: str, timeout: float = 30.0, at_least: int = 1):
    deadline = time.monotonic() + timeout
    while True:
        box = mailbox.Maildir(stack.mail_dir, create=False)
        found = []
        for key in box.iterkeys():
            with box.get_file(key) as handle:
                from email import message_from_binary_file

                message = message_from_binary_file(handle, policy=policy.default)
            if message["X-Invoicer-Job-Id"] == job_id:
                found.append(message)
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_uploader_gets_a_mail_with_the_jobs_links(client, stack, example_bytes):
    job = client.wait(client.upload(example_bytes, formats="pdf,xlsx").json()["job_id"])
    assert job["status"] == "done"
    mails = _mails_for(stack, job["job_id"])
    assert len(mails) == 1, "exactly one mail per job"
    mail = mails[0]
    assert mail["To"] == client.email
    assert "INV-2026-0001" in mail["Subject"]
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "330.86 EUR" in body
    # The links open the web app (a browser's session, or its sign-in page and
    # back), not API URLs that need a Bearer token.
    assert f"{stack.base_url}/app/upload" in body
    assert "/download?fid=" not in body and job["status_url"] not in body
    for item in job["files"]:
        link = f"{stack.base_url}/app/files/{item['fid']}"
        assert link in body
        signed_out = requests.get(link, allow_redirects=False, timeout=10)
        assert signed_out.status_code == 302
        assert signed_out.headers["Location"].endswith(f"/app/login?next=/app/files/{item['fid']}")
    # Signed in, the same link is the file.
    browser = requests.Session()
    form = browser.get(f"{stack.base_url}/app/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    signed_in = browser.post(
        f"{stack.base_url}/app/login",
        data={"csrf_token": csrf, "email": client.email, "password": client.password},
        timeout=10,
    )
    assert signed_in.status_code == 200, signed_in.text
    pdf = next(item for item in job["files"] if item["format"] == "pdf")
    reply = browser.get(f"{stack.base_url}/app/files/{pdf['fid']}", timeout=10)
    assert reply.status_code == 200 and reply.content.startswith(b"%PDF")


def test_the_job_shows_its_mail_as_sent(client, stack, example_bytes):
    job = client.wait(client.upload(example_bytes, formats="pdf").json()["job_id"])
    assert job["notification"] is None or job["notification"] == {"status": "sent"}
    assert len(_mails_for(stack, job["job_id"])) == 1
    deadline = time.monotonic() + 10
    while client.get(f"/jobs/{job['job_id']}").json()["notification"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.get(f"/jobs/{job['job_id']}").json()["notification"] == {"status": "sent"}


def test_a_mail_whose_record_fails_is_dropped_by_the_server(stack):
    """If recording the delivery fails, the SMTP transaction is abandoned
    before its terminator, and the real server keeps nothing."""
    from invoicer.common.config import Settings
    from invoicer.common.messages import InvoiceReady
    from invoicer.notification.mailer import build_ready_mail, send

    settings = Settings.from_env(stack.env)
    event = InvoiceReady(
        job_id=f"probe-{time.time_ns()}",
        recipient="probe@example.com",
        invoice_number="P-1",
        totals=None,
        status_url="http://x/jobs/p",
        files=(),
    )

    def record_fails():
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        send(build_ready_mail(event, settings.mail_from), settings, before_commit=record_fails)
    assert _mails_for(stack, event.job_id, timeout=2) == []

    send(build_ready_mail(event, settings.mail_from), settings, before_commit=lambda: None)
    assert len(_mails_for(stack, event.job_id)) == 1
