"""``GET /jobs`` filters by ``status`` and refuses what it does not know, so
that a filter is never silently ignored."""

from __future__ import annotations

import pytest


def _error(reply, parameter: str) -> dict:
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert [detail["parameter"] for detail in error["details"]] == [parameter]
    assert parameter in error["message"]
    return error


def test_status_filters_the_listing(client, example_bytes):
    good = client.upload(example_bytes, formats="pdf").json()["job_id"]
    second = client.upload(example_bytes, formats="pdf").json()["job_id"]
    for job_id in (good, second):
        assert client.wait(job_id)["status"] == "done"

    done = client.get("/jobs", params={"status": "done"}).json()
    assert {item["job_id"] for item in done["items"]} == {good, second}
    assert done["total"] == 2
    failed = client.get("/jobs", params={"status": "failed"}).json()
    assert failed["items"] == [] and failed["total"] == 0
    paged = client.get("/jobs", params={"status": "done", "per_page": 1, "page": 2}).json()
    assert [item["job_id"] for item in paged["items"]] == [good]  # newest first
    assert paged["total"] == 2


@pytest.mark.parametrize("value", ["finished", "", "DONE,failed"])
def test_an_unknown_status_is_400_naming_the_parameter(client, value):
    error = _error(client.get("/jobs", params={"status": value}), "status")
    assert "queued, processing, done or failed" in error["message"]


def test_unknown_query_parameters_are_400(client):
    error = _error(client.get("/jobs", params={"state": "failed"}), "state")
    assert "unknown" in error["details"][0]["message"]


def test_a_repeated_parameter_is_400(client):
    _error(client.get("/jobs?status=done&status=failed"), "status")
