"""What goes wrong with a submitted invoice, and how it is told to the user.

The bottom layer of :mod:`invoicer.invoice`: it imports nothing of ours.

* :class:`MalformedDocument` - the body is not sound JSON (HTTP 400 ``malformed_json``);
* :class:`InvalidInvoice` - the JSON is not a valid invoice (HTTP 422
  ``invalid_invoice``), carrying one :class:`FieldError` per problem, each
  with an RFC 6901 JSON pointer into the document as submitted.

:class:`Problem` and :func:`field_errors` are the common language of the
layers above: a validator reports a problem at a path, and this module writes
its pointer and its message (``"seller.name is required"``), drops repeats
and orders them by pointer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "FieldError",
    "InvalidInvoice",
    "JsonPath",
    "MalformedDocument",
    "Problem",
    "describe",
    "field_errors",
    "label",
    "plain",
    "pointer",
]

#: A place in a JSON document: object keys and array indexes, outermost first.
JsonPath = tuple[str | int, ...]


class MalformedDocument(ValueError):
    """The request body is not sound JSON (HTTP 400 ``malformed_json``).

    ``message`` is a sentence for the user; ``line`` and ``column`` (1-based,
    columns counted in characters) locate the problem when it has a place,
    else they are ``None``.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem in a submitted invoice.

    ``pointer`` is an RFC 6901 JSON pointer into the document as submitted
    (``"/lines/2/unit_price"``; ``""`` is the whole document); ``code`` is a
    short snake_case word a client can switch on (``"required"``, ``"type"``,
    ``"pattern"``, ``"unknown_field"``, ``"unknown_currency"``, ...);
    ``message`` is a sentence for a person, naming the field.
    """

    pointer: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """``{"pointer": ..., "code": ..., "message": ...}`` for a JSON body."""
        return {"pointer": self.pointer, "code": self.code, "message": self.message}


class InvalidInvoice(ValueError):
    """The document is JSON but not a valid invoice (HTTP 422 ``invalid_invoice``).

    ``errors`` lists every problem found, ordered by pointer.
    """

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: list[FieldError] = list(errors)
        count = len(self.errors)
        summary = "; ".join(error.message for error in self.errors[:3])
        more = f" (and {count - 3} more)" if count > 3 else ""
        super().__init__(f"invalid invoice, {count} error{'s' if count != 1 else ''}: {summary}{more}")


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem before it has a pointer and a message.

    ``path`` is where it lies in the submitted document; ``code`` as in
    :class:`FieldError`; ``text`` is the message after the field's name,
    e.g. ``"is required"``.
    """

    path: JsonPath
    code: str
    text: str


def field_errors(problems: Iterable[Problem]) -> list[FieldError]:
    """One :class:`FieldError` per (path, code) of ``problems``, ordered by pointer then code.

    The message is the field's :func:`label` followed by the problem's text.
    Array indexes sort as numbers (``/lines/2`` before ``/lines/10``).
    """
    unique: dict[tuple[JsonPath, str], FieldError] = {}
    for problem in problems:
        key = (problem.path, problem.code)
        if key not in unique:
            unique[key] = FieldError(pointer(problem.path), problem.code, f"{label(problem.path)} {problem.text}")
    return [unique[key] for key in sorted(unique, key=lambda key: (_sort_key(key[0]), key[1]))]


def pointer(path: JsonPath) -> str:
    """RFC 6901 JSON pointer of ``path``: ``("a/b", 0)`` -> ``"/a~1b/0"`` ('~' -> '~0', '/' -> '~1')."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def label(path: JsonPath) -> str:
    """The field's name for a message: ``seller.name``, ``lines/0/quantity``; ``the invoice`` for ``()``.

    Names longer than 64 characters are cut with an ellipsis.
    """
    if not path:
        return "the invoice"
    text = ""
    previous_was_index = False
    for part in path:
        if isinstance(part, int):
            text += f"/{part}"
            previous_was_index = True
        else:
            text += ("/" if previous_was_index else "." if text else "") + _truncate(part, 64)
            previous_was_index = False
    return text


def _sort_key(path: JsonPath) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, part) for part in path)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def describe(value: Any) -> str:
    """A short JSON-like rendering of a user's value for a message (no Python reprs).

    ``None`` -> ``null``, strings quoted and cut at 40 characters, decimals in
    positional notation, containers as ``an object`` / ``an array``.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(_truncate(value, 40), ensure_ascii=False)
    if isinstance(value, (int, Decimal)):
        return _truncate(plain(Decimal(value)), 40)
    if isinstance(value, float):
        return _truncate(repr(value), 40)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "a value of an unsupported type"


def plain(amount: Decimal) -> str:
    """``amount`` in positional notation (``"1000"``, not ``"1E+3"``) unless absurdly large."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -40 <= exponent <= 40:
        return format(amount, "f")
    return str(amount)
