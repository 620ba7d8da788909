"""The web app's client of the invoices service (organisation, clients,
invoices, payments, credit notes, orders, dashboard).

The pages reach the records the way the gateway forwards the JSON API: over
HTTP to ``INVOICES_URL``, with the signed-in user's JWT as a Bearer token and
the request id, so the invoices service applies its own rules (roles,
lifecycle, numbering, totals) and the pages never copy them. Routes and
bodies are those of issue 10's HTTP API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from flask import current_app, g

from ...common.logging import get_logger
from ...common.web import REQUEST_ID_HEADER, request_id

__all__ = ["Records", "RecordsError", "RecordsUnavailable", "records"]

log = get_logger(__name__)

TIMEOUT_SECONDS = 15


class RecordsUnavailable(Exception):
    """The invoices service did not answer (the page shows 503)."""


@dataclass
class RecordsError(Exception):
    """The invoices service refused a request: ``status`` (HTTP), ``code``
    and ``message`` from its error body, ``details`` (``[{"pointer",
    "message", ...}]`` for 422) as it sent them."""

    status: int
    code: str
    message: str
    details: list[Any] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def field_errors(self) -> dict[str, str]:
        """The 422 details as ``{"/lines/0/quantity": "message"}``, so a
        form can show each message beside its field (JSON pointers, RFC 6901).
        A message that begins with its own path ("lines/0/quantity must be
        ...") loses it: beside the field, the field is known."""
        errors: dict[str, str] = {}
        for detail in self.details:
            if isinstance(detail, dict):
                pointer = str(detail.get("pointer") or detail.get("path") or detail.get("parameter") or "")
                message = str(detail.get("message", ""))
                path = pointer.lstrip("/")
                if path and message.startswith(path + " "):
                    message = message[len(path) + 1 :]
                errors.setdefault(pointer, message)
        return errors


class Records:
    """Calls to ``base_url`` as the user holding ``token``. Every method
    returns the decoded JSON answer (``None`` for 204) and raises
    :class:`RecordsError` for a 4xx/5xx answer with an error body and
    :class:`RecordsUnavailable` when the service cannot be reached."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """One call: ``method`` ``path`` (e.g. ``"/invoices"``) with query
        ``params`` (``None`` values left out), a JSON body (or raw ``data``,
        whose ``Content-Type`` goes in ``headers``) and extra ``headers``
        (e.g. ``If-Match``)."""
        headers = {**(headers or {}), "Authorization": f"Bearer {self.token}", REQUEST_ID_HEADER: request_id()}
        query = {key: value for key, value in (params or {}).items() if value not in (None, "")}
        try:
            reply = requests.request(
                method,
                f"{self.base_url}{path}",
                params=query,
                json=json,
                data=data,
                headers=headers,
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException as exc:
            log.warning("invoices service unreachable", extra={"error": repr(exc), "path": path})
            raise RecordsUnavailable(str(exc)) from None
        if reply.ok and (reply.status_code == 204 or not reply.content):
            return None
        try:
            body = reply.json()
        except ValueError:
            if reply.status_code >= 500 or reply.ok:
                raise RecordsUnavailable(f"invoices service answered {reply.status_code} without JSON") from None
            raise RecordsError(reply.status_code, "http_error", reply.reason or "refused") from None
        if reply.ok:
            return body
        if reply.status_code in (502, 503, 504):
            raise RecordsUnavailable(f"invoices service answered {reply.status_code}")
        error = body.get("error", {}) if isinstance(body, dict) else {}
        details = list(error.get("details") or [])
        if error.get("pointer") and not details:
            details = [{"pointer": error["pointer"], "message": error.get("message", "")}]
        raise RecordsError(
            reply.status_code, str(error.get("code", "error")), str(error.get("message", reply.reason)), details
        )

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json=body if body is not None else {})

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, json=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def put_image(self, path: str, data: bytes, content_type: str) -> Any:
        """PUT ``data`` as the raw body of type ``content_type`` (the logo)."""
        return self.request("PUT", path, data=data, headers={"Content-Type": content_type})

    def file(self, path: str) -> tuple[bytes, str, str | None]:
        """A document (PDF, XLSX): ``(content, content_type, filename)``;
        raises like :meth:`request`, and :class:`RecordsError` with code
        ``rendering`` (503) while an issued document is still being rendered."""
        headers = {"Authorization": f"Bearer {self.token}", REQUEST_ID_HEADER: request_id()}
        try:
            reply = requests.get(f"{self.base_url}{path}", headers=headers, timeout=60)
        except requests.RequestException as exc:
            raise RecordsUnavailable(str(exc)) from None
        if not reply.ok:
            try:
                error = reply.json().get("error", {})
            except ValueError:
                error = {}
            code = str(error.get("code", "error"))
            # 503 "rendering": the document is on its way (the worker renders it), not an outage.
            if reply.status_code >= 500 and code != "rendering":
                raise RecordsUnavailable(f"invoices service answered {reply.status_code}")
            raise RecordsError(reply.status_code, code, str(error.get("message", "")))
        disposition = reply.headers.get("Content-Disposition", "")
        filename = None
        if "filename=" in disposition:
            filename = disposition.split("filename=", 1)[1].split(";", 1)[0].strip().strip('"')
        return reply.content, reply.headers.get("Content-Type", "application/octet-stream"), filename


def records() -> Records:
    """A :class:`Records` client for the signed-in user of this request."""
    settings = current_app.config["SETTINGS"]
    return Records(settings.invoices_url, g.token)
