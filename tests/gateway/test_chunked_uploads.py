"""The upload size limit holds however the body is framed: a body sent with
``Transfer-Encoding: chunked`` (no ``Content-Length``) that goes over
``MAX_UPLOAD_BYTES`` is 413, and nothing of it is parsed or stored. Sent
over real HTTP to the gateway under gunicorn (``requests`` sends a generator
body chunked)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import jwt
import requests
from pymongo import MongoClient

CHUNK = 64 * 1024


def _limit(stack) -> int:
    return int(stack.env.get("MAX_UPLOAD_BYTES", 1024 * 1024))


def _chunked(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


def _post_chunked(client, data: bytes, content_type: str) -> requests.Response:
    return client.post(
        "/upload", params={"formats": "pdf"}, data=_chunked(data), headers={"Content-Type": content_type}
    )


def _nothing_stored(client, stack) -> None:
    owner = jwt.decode(client.token, options={"verify_signature": False})["sub"]
    mongo = MongoClient(stack.env["MONGODB_URI"], serverSelectionTimeoutMS=5000)
    try:
        assert list(mongo.get_default_database()["fs.files"].find({"metadata.owner": owner})) == []
    finally:
        mongo.close()
    assert client.get("/jobs").json()["total"] == 0


def _too_large(reply: requests.Response) -> None:
    assert reply.request.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in reply.request.headers
    assert reply.status_code == 413, reply.text
    assert reply.json()["error"]["code"] == "payload_too_large"


def test_valid_json_padded_past_the_limit_is_413(client, stack, example_bytes):
    padded = example_bytes + b" " * (_limit(stack) + 1 - len(example_bytes))
    _too_large(_post_chunked(client, padded, "application/json"))
    _nothing_stored(client, stack)


def test_a_document_over_the_limit_is_413_not_a_truncated_400(client, stack, example_bytes):
    document = json.loads(example_bytes)
    document["notes"] = "n" * (_limit(stack) + CHUNK)
    _too_large(_post_chunked(client, json.dumps(document).encode(), "application/json"))
    _nothing_stored(client, stack)


def test_a_multipart_upload_over_the_limit_is_413(client, stack, example_bytes):
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="i.json"\r\n'
            "Content-Type: application/json\r\n\r\n"
        ).encode()
        + example_bytes
        + b" " * _limit(stack)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    _too_large(_post_chunked(client, body, f"multipart/form-data; boundary={boundary}"))
    _nothing_stored(client, stack)


def test_a_chunked_upload_within_the_limit_is_accepted(client, stack, example_bytes):
    padded = example_bytes + b" " * (_limit(stack) - len(example_bytes))  # exactly at the limit
    reply = _post_chunked(client, padded, "application/json")
    assert reply.request.headers.get("Transfer-Encoding") == "chunked"
    assert reply.status_code == 202, reply.text
    assert client.wait(reply.json()["job_id"])["status"] == "done"
