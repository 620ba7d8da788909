"""The web app's client of the invoices service (organisation, clients,
invoices, payments, credit notes, orders, dashboard).

The pages reach the records the way the gateway forwards the JSON API: over
HTTP to ``INVOICES_URL``, with the signed-in user's JWT as a Bearer token and
the request id, so the invoices service applies its own rules (roles,
lifecycle, numbering, totals) and the pages never copy them. Routes and
bodies are those of issue 10's HTTP API.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import current_app, g, has_request_context, request, session

from ...common.logging import get_logger
from ...common.web import REQUEST_ID_HEADER, request_id
from .blueprint import blueprint

__all__ = ["Records", "RecordsError", "RecordsUnavailable", "records"]

log = get_logger(__name__)

#: The default wait for an answer; the app uses FORWARD_TIMEOUT_SECONDS, as the JSON API's forwarding does.
TIMEOUT_SECONDS = 15
#: The form field holding a form's idempotency key (templates/macros.html, csrf_field).
IDEMPOTENCY_FIELD = "idempotency_key"
_FORM_KEY = re.compile(r"[0-9a-f]{32}")


@blueprint.app_context_processor
def _idempotency_keys() -> dict[str, Any]:
    """``idempotency_key()`` for the templates: a new random key per form drawn."""
    return {"idempotency_key": lambda: uuid.uuid4().hex}


def form_idempotency_key(path: str) -> str | None:
    """The ``Idempotency-Key`` of a ``POST`` to ``path`` made for the form
    being submitted: ``web-<form key>-<path>`` (the path in it, so that one
    form that makes two different calls does not reuse a key), or None when
    the request carries no well-formed form key."""
    if not has_request_context() or request.method != "POST":
        return None
    key = request.form.get(IDEMPOTENCY_FIELD, "")
    return f"web-{key}-{path}"[:255] if _FORM_KEY.fullmatch(key) else None


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

    def __init__(
        self, base_url: str, token: str, organisation_id: str | None = None, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.organisation_id = organisation_id
        self.timeout = timeout

    def identity(self) -> dict[str, str]:
        """Who asks, for which organisation (``X-Organisation``, checked by the service), and the request id."""
        headers = {"Authorization": f"Bearer {self.token}", REQUEST_ID_HEADER: request_id()}
        if self.organisation_id:
            headers["X-Organisation"] = self.organisation_id
        return headers

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
        (e.g. ``If-Match``). A ``POST`` made for a submitted form carries
        the form's ``Idempotency-Key`` (:func:`form_idempotency_key`)."""
        headers = {**(headers or {}), **self.identity()}
        form_key = form_idempotency_key(path) if method == "POST" else None
        if form_key is not None:
            headers.setdefault("Idempotency-Key", form_key)
        query = {key: value for key, value in (params or {}).items() if value not in (None, "")}
        try:
            reply = requests.request(
                method,
                f"{self.base_url}{path}",
                params=query,
                json=json,
                data=data,
                headers=headers,
                timeout=self.timeout,
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

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def put_image(self, path: str, data: bytes, content_type: str) -> Any:
        """PUT ``data`` as the raw body of type ``content_type`` (the logo)."""
        return self.request("PUT", path, data=data, headers={"Content-Type": content_type})

    def file(self, path: str) -> tuple[bytes, str, str | None]:
        """A document (PDF, XLSX): ``(content, content_type, filename)``;
        raises like :meth:`request`, and :class:`RecordsError` with code
        ``rendering`` (503) while an issued document is still being rendered."""
        headers = self.identity()
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
    """A :class:`Records` client for the signed-in user of this request,
    acting for the organisation chosen in the web session (if any)."""
    settings = current_app.config["SETTINGS"]
    # As long as the services' PostgreSQL time limits allow, so a form's write is answered, not guessed at.
    return Records(
        settings.invoices_url, g.token, session.get("organisation_id"), timeout=settings.forward_timeout_seconds
    )
