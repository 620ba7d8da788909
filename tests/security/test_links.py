"""Absolute links (``Location``, ``status_url``, ``download_url``, the
OpenAPI ``servers`` URL) come from ``PUBLIC_URL``, never from what the
client says the host is: a poisoned ``Host`` or ``X-Forwarded-Host`` must not
turn the links a user follows (or a cache keeps) into links to an attacker."""

from __future__ import annotations

import pytest
import requests

POISONS = [
    {"Host": "evil.example"},
    {"Host": "evil.example:8443"},
    # The test stack trusts one proxy hop, as behind an ingress.
    {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
]


@pytest.mark.parametrize("poison", POISONS, ids=["host", "host-port", "forwarded-host"])
def test_links_follow_public_url_whatever_the_host_header(client, stack, example_bytes, poison):
    public = stack.env["PUBLIC_URL"].rstrip("/")
    reply = client.post(
        "/upload",
        params={"formats": "pdf"},
        files={"file": ("i.json", example_bytes, "application/json")},
        headers=poison,
    )
    assert reply.status_code == 202, reply.text
    body = reply.json()
    assert body["status_url"] == f"{public}/jobs/{body['job_id']}"
    assert reply.headers["Location"] == body["status_url"]

    client.wait(body["job_id"])
    for reply in (
        requests.get(body["status_url"], headers={**client.headers, **poison}, timeout=30),
        requests.get(f"{stack.base_url}/jobs", headers={**client.headers, **poison}, timeout=30),
    ):
        assert reply.status_code == 200, reply.text
        text = reply.text
        assert "evil.example" not in text and "https:" not in text
    job = requests.get(body["status_url"], headers={**client.headers, **poison}, timeout=30).json()
    assert job["status_url"] == body["status_url"]
    assert [item["download_url"] for item in job["files"]] == [f"{public}/download?fid={job['files'][0]['fid']}"]

    spec = requests.get(f"{stack.base_url}/openapi.json", headers=poison, timeout=30).json()
    assert spec["servers"] == [{"url": public}]
