"""Broken object-level authorisation: another user's job or file id is 404 on
every route, and listings show only one's own jobs."""

from __future__ import annotations


def test_other_users_ids_are_404_everywhere(make_client, example_bytes):
    owner, intruder = make_client(), make_client()
    job = owner.wait(owner.upload(example_bytes, formats="pdf,xlsx").json()["job_id"])
    assert job["status"] == "done"
    job_id = job["job_id"]

    assert intruder.get(f"/jobs/{job_id}").status_code == 404
    assert intruder.get(f"/jobs/{job_id.upper()}").status_code == 404
    for item in job["files"]:
        for fid in (item["fid"], item["fid"].upper(), f" {item['fid']} "):
            reply = intruder.get("/download", params={"fid": fid})
            assert reply.status_code == 404, fid
            assert b"%PDF" not in reply.content
    listing = intruder.get("/jobs", params={"per_page": 100}).json()
    assert listing["total"] == 0 and listing["items"] == []
    # The 404 says nothing that an unknown id would not.
    assert intruder.get(f"/jobs/{job_id}").json() == intruder.get("/jobs/00000000-0000-0000-0000-000000000000").json()
    # And the owner still sees everything.
    assert owner.get(f"/jobs/{job_id}").status_code == 200
    assert owner.get("/jobs").json()["total"] == 1
