"""The "invoice ready" mail arrives in the SMTP sink, once per job."""

from __future__ import annotations

import mailbox
import time
from email import policy

import pytest


def _mails_for(stack, job_id: str, timeout: float = 30.0, at_least: int = 1):
    deadline = time.monotonic() + timeout
    while True:
        box = mailbox.Maildir(stack.mail_dir, create=False)
        found = []
        for key in box.keys():
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
    assert job["status_url"] in body
    for item in job["files"]:
        assert item["download_url"] in body
    assert "330.86 EUR" in body
