"""Request bytes -> Python values, refusing what is not sound JSON.

:func:`parse_document` is the first step of loading an invoice (the second is
:func:`invoicer.invoice.loader.load_invoice`). It keeps the guards a public
endpoint needs: a nesting limit checked before parsing, no duplicate keys, no
NaN or Infinity, no numbers too long to convert, no lone surrogates, and every
non-integer number read as an exact :class:`~decimal.Decimal`, never a float.
"""

from __future__ import annotations

import codecs
import json
import re
from decimal import Decimal
from typing import Any

from invoicer.invoice.errors import MalformedDocument, describe

__all__ = ["parse_document"]


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _NonFiniteNumber(Exception):
    pass


# A JSON string (an unterminated one runs to the end) or a structural token.
# Possessive quantifiers keep the scan linear whatever the input.
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+"?|[\[\]{}]|-?Infinity|NaN', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_document(raw: bytes | bytearray | memoryview | str, *, max_depth: int = 32) -> Any:
    """Parse a request body into Python values.

    ``raw`` is UTF-8 (a leading UTF-8 byte order mark is ignored; a ``str`` is
    taken as already decoded). Objects become ``dict``, arrays ``list``,
    integers ``int`` and every other number a :class:`~decimal.Decimal`
    (``json.loads(parse_float=Decimal)``), so amounts never pass through float.

    Raises :class:`MalformedDocument` for: bytes that are not UTF-8; JSON
    syntax errors (with line and column); ``NaN`` / ``Infinity`` (not JSON,
    RFC 8259 section 6); nesting of arrays and objects deeper than
    ``max_depth`` (checked by a linear scan before parsing, so ``"[" * 10**6``
    fails at once instead of recursing); a key repeated in one object and
    unpaired surrogate escapes such as ``"\\ud800"`` (both forbidden by I-JSON,
    RFC 7493 section 2, because later consumers would read them differently).
    """
    if isinstance(raw, str):
        text = raw.removeprefix("\ufeff")
    else:
        data = bytes(raw)
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            before = data[: exc.start].decode("utf-8")
            line, column = _line_column(before, len(before))
            raise MalformedDocument(
                f"the document is not valid UTF-8: byte 0x{data[exc.start]:02x} at line {line}, column {column}",
                line,
                column,
            ) from None

    position = _too_deep(text, max_depth)
    if position is not None:
        line, column = _line_column(text, position)
        raise MalformedDocument(
            f"the document is nested more than {max_depth} levels deep (line {line}, column {column})",
            line,
            column,
        )

    try:
        document = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        raise MalformedDocument(
            f"invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", exc.lineno, exc.colno
        ) from None
    except _NonFiniteNumber:
        line, column = _line_column(text, _find_constant(text))
        raise MalformedDocument(
            f"invalid JSON: NaN and Infinity are not JSON numbers (line {line}, column {column})", line, column
        ) from None
    except _DuplicateKey as exc:
        raise MalformedDocument(
            f"invalid JSON: the key {describe(exc.key)} appears more than once in the same object"
        ) from None
    except RecursionError:  # only reachable with a very large max_depth
        raise MalformedDocument("the document is nested too deeply") from None
    except ValueError:  # int() refuses numbers of more than sys.get_int_max_str_digits() digits
        raise MalformedDocument("invalid JSON: a number has too many digits") from None

    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(document):
        raise MalformedDocument(
            "invalid JSON: a string contains an unpaired UTF-16 surrogate escape (\\ud800 to \\udfff)"
        )
    return document


def _line_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of ``position`` in ``text``, as json reports them."""
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    return line, column


def _too_deep(text: str, max_depth: int) -> int | None:
    """Offset of the first bracket nested deeper than ``max_depth``, or None.

    Strings are cut out and brackets kept by two regular-expression passes
    (linear, in C); only if the brackets can exceed ``max_depth`` is the text
    scanned token by token, stopping at the offending bracket.
    """
    if text.count("[") + text.count("{") <= max_depth:
        return None
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = 0
    for char in brackets:
        depth += 1 if char in "[{" else -1
        if depth > max_depth:
            break
    else:
        return None
    depth = 0
    for match in _TOKEN.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > max_depth:
                return match.start()
        elif char in "]}":
            depth -= 1
    return None  # pragma: no cover - both scans see the same brackets


def _find_constant(text: str) -> int:
    for match in _TOKEN.finditer(text):
        if text[match.start()] in "-IN":
            return match.start()
    return 0  # pragma: no cover - json.loads only calls parse_constant for these tokens


def _reject_constant(name: str) -> Any:
    raise _NonFiniteNumber(name)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _has_lone_surrogate(document: Any) -> bool:
    """Walk ``document`` with an explicit stack; True if a string or key holds a surrogate."""
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False
