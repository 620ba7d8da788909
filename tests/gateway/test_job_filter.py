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


def test_cursors_walk_the_jobs_while_new_ones_arrive(client, example_bytes):
    made = [client.upload(example_bytes, formats="pdf").json()["job_id"] for _ in range(5)]
    newest_first = list(reversed(made))
    seen, pages, cursor = [], [], None
    while True:
        params = {"per_page": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/jobs", params=params).json()
        pages.append(page)
        seen += [item["job_id"] for item in page["items"]]
        client.upload(example_bytes, formats="pdf")  # a new job lands before the page we read next
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == newest_first  # nothing skipped, nothing twice: the new jobs are before the first page
    assert pages[0]["total"] == 5 and pages[0]["total_exact"] is True and pages[0]["prev"] is None
    assert pages[1]["page"] is None
    back = client.get("/jobs", params={"per_page": 2, "cursor": pages[2]["prev"]}).json()
    assert [item["job_id"] for item in back["items"]] == [item["job_id"] for item in pages[1]["items"]]
    _error(client.get("/jobs", params={"cursor": "bm90LWEtY3Vyc29y"}), "cursor")
