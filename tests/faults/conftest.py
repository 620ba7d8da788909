"""Helpers for the fault-injection tests: kill and restart parts of the
running stack, and count what was stored and mailed."""

from __future__ import annotations

import mailbox
import os
import signal
import subprocess
import time
from email import message_from_binary_file, policy
from pathlib import Path

import pytest
from pymongo import MongoClient


def kill_hard(stack, name: str) -> None:
    """SIGKILL the whole process group of ``name`` (no chance to ack or clean up)."""
    pid = stack.stack.pid(name)
    assert pid is not None, f"{name} is not running"
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while stack.stack.pid(name) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stack.stack.pid(name) is None, f"{name} survived SIGKILL"


def restart(stack, name: str) -> None:
    stack.stack.start(name, stack.env)


def stored_files(stack, job_id: str) -> list[dict]:
    """Every GridFS file document of ``job_id`` (not a count: count_documents
    is not reliable on fs.* with every wire server)."""
    client = MongoClient(stack.env["MONGODB_URI"], serverSelectionTimeoutMS=5000)
    try:
        return list(client["invoicer"]["fs.files"].find({"metadata.job_id": job_id}))
    finally:
        client.close()


def mails_by_job(stack) -> dict[str, int]:
    """How many mails the SMTP sink holds per job id."""
    counts: dict[str, int] = {}
    box = mailbox.Maildir(stack.mail_dir, create=False)
    for key in box.iterkeys():
        with box.get_file(key) as handle:
            job_id = message_from_binary_file(handle, policy=policy.default)["X-Invoicer-Job-Id"]
        counts[job_id] = counts.get(job_id, 0) + 1
    return counts


def mail_count(stack) -> int:
    """How many mails the SMTP sink holds: a directory listing, cheap enough
    to poll in a tight loop (parsing every mail is not)."""
    return sum(len(os.listdir(stack.mail_dir / sub)) for sub in ("new", "cur") if (stack.mail_dir / sub).exists())


def wait_all(client, job_ids: list[str], timeout: float) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    jobs: dict[str, dict] = {}
    pending = list(job_ids)
    while pending and time.monotonic() < deadline:
        for job_id in list(pending):
            job = client.get(f"/jobs/{job_id}").json()
            if job["status"] in ("done", "failed"):
                jobs[job_id] = job
                pending.remove(job_id)
        time.sleep(0.3)
    assert not pending, f"{len(pending)} job(s) stuck, e.g. {client.get(f'/jobs/{pending[0]}').json()}"
    return jobs


def postgres_cluster() -> tuple[str, str]:
    versions = sorted(Path("/etc/postgresql").iterdir())
    return versions[-1].name, "main"


def pg_ctl(action: str) -> None:
    version, cluster = postgres_cluster()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, action, "-m", "fast"]
        if action == "stop"
        else ["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, action],
        check=True,
        timeout=120,
    )


def rabbitmqctl(action: str) -> None:
    subprocess.run(["rabbitmqctl", action], check=True, timeout=180, stdout=subprocess.DEVNULL)


@pytest.fixture
def faults():
    """The helpers above, for tests that inject faults."""

    class Faults:
        kill_hard = staticmethod(kill_hard)
        restart = staticmethod(restart)
        stored_files = staticmethod(stored_files)
        mails_by_job = staticmethod(mails_by_job)
        mail_count = staticmethod(mail_count)
        wait_all = staticmethod(wait_all)
        pg_ctl = staticmethod(pg_ctl)
        rabbitmqctl = staticmethod(rabbitmqctl)

    return Faults
