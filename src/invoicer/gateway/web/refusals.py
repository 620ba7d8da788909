"""What a page does when the invoices service refuses a request: the one
place that decides which refusals a page answers itself and which go to the
error page.

A refusal of the input or of the lifecycle (400, 409, 422 by default) is the
user's to fix: a button's view flashes it and goes back
(:func:`flash_refusal`), a form's view shows the form again with each
message beside its field (:func:`form_errors`). Anything else (403, 404, the
service down) is raised on to the blueprint's error handler
(:mod:`.views`), which shows the error page.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import wraps
from typing import Any

from flask import current_app, flash, redirect, url_for
from flask.typing import ResponseReturnValue

from .records import RecordsError

__all__ = ["REFUSALS", "flash_refusal", "form_errors"]

#: The statuses a page answers itself: a bad request, a conflict with the
#: record's state, invalid input.
REFUSALS = frozenset({400, 409, 422})

View = Callable[..., ResponseReturnValue]


def flash_refusal(back: str, *, prefix: str = "", statuses: Collection[int] = REFUSALS) -> Callable[[View], View]:
    """Decorate a view that posts one change: if it raises a
    :class:`~.records.RecordsError` whose status is in ``statuses``, the
    service's message is flashed as an error (after ``prefix``, e.g.
    ``"Payment not recorded: "``) and the browser sent to the endpoint
    ``back`` (e.g. ``"web.invoice_page"``) with the view's URL arguments
    that endpoint takes. Other exceptions pass through. The view itself
    flashes its success and redirects."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            try:
                return view(*args, **kwargs)
            except RecordsError as exc:
                if exc.status not in statuses:
                    raise
                flash(f"{prefix}{exc.message}", "error")
                return redirect(url_for(back, **_arguments_for(back, kwargs)))

        return wrapper

    return decorate


def _arguments_for(endpoint: str, values: dict[str, Any]) -> dict[str, Any]:
    """The URL arguments among ``values`` that a rule of ``endpoint`` takes
    (``invoice_id`` for the invoice page, none for the orders list)."""
    names: set[str] = set()
    for rule in current_app.url_map.iter_rules(endpoint):
        names |= set(rule.arguments)
    return {key: value for key, value in values.items() if key in names}


def form_errors(exc: RecordsError, statuses: Collection[int] = REFUSALS) -> dict[str, str]:
    """The refusal's messages for a form shown again: ``{"/name": message}``
    per field (the 422 details' JSON pointers, RFC 6901) and ``{"": message}``
    for what names no field. Raises ``exc`` again if its status is not in
    ``statuses`` (the error page answers it)."""
    if exc.status not in statuses:
        raise exc
    errors = exc.field_errors()
    if not errors or "" in errors:
        errors.setdefault("", exc.message)
    return errors
