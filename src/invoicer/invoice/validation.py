"""Input validation: request bytes -> JSON document -> checked :class:`Invoice`.

Two steps, two kinds of error, so that the API can answer precisely:

* :func:`parse_document` turns the raw body into Python values, amounts as
  :class:`~decimal.Decimal`; anything that is not sound JSON raises
  :class:`MalformedDocument` (HTTP 400 ``malformed_json``).
* :func:`load_invoice` checks the document against the canonical schema
  (``invoice.schema.json`` beside this module, JSON Schema draft 2020-12) and
  the rules a schema cannot state, and builds a :class:`~invoicer.invoice.model.Invoice`.
  It collects every problem it finds and raises :class:`InvalidInvoice`
  (HTTP 422 ``invalid_invoice``) carrying one :class:`FieldError` per problem,
  each with an RFC 6901 JSON pointer into the submitted document.

Documents in the legacy flat format are recognised and handled by
:mod:`invoicer.invoice.legacy` through the same checks.
"""

from __future__ import annotations

import codecs
import difflib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from functools import lru_cache
from importlib import resources
from typing import Any

from babel.numbers import list_currencies
from jsonschema import Draft202012Validator, ValidationError

from invoicer.invoice.model import Invoice, Line, Party

__all__ = [
    "FieldError",
    "InvalidInvoice",
    "MalformedDocument",
    "load_invoice",
    "parse_document",
]

#: Largest number of digits allowed before / after the decimal point of an amount.
MAX_INTEGER_DIGITS = 15
MAX_FRACTION_DIGITS = 10


# --------------------------------------------------------------------------
# Errors


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


# --------------------------------------------------------------------------
# parse_document


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
            f"invalid JSON: the key {_describe(exc.key)} appears more than once in the same object"
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


# --------------------------------------------------------------------------
# Problems: errors before they get a pointer and a message
#
# A problem keeps its path as a tuple so that the legacy format can translate
# it into a path of the legacy document before the message is written.

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class _Ref:
    """A field named inside a message, e.g. the issue date in 'due_date ... is before issue_date ...'."""

    path: JsonPath


@dataclass(frozen=True, slots=True)
class _Problem:
    path: JsonPath
    code: str
    parts: tuple[str | _Ref, ...]  # the message after the field's name


def _field_errors(problems: Iterable[_Problem]) -> list[FieldError]:
    """Pointers and messages for ``problems``, one per (pointer, code), ordered by pointer."""
    unique: dict[tuple[JsonPath, str], FieldError] = {}
    for problem in problems:
        path = problem.path
        if (path, problem.code) in unique:
            continue
        text = "".join(_label(part.path) if isinstance(part, _Ref) else part for part in problem.parts)
        unique[(path, problem.code)] = FieldError(_pointer(path), problem.code, f"{_label(path)} {text}")
    return [unique[key] for key in sorted(unique, key=lambda key: (_sort_key(key[0]), key[1]))]


def _pointer(path: JsonPath) -> str:
    """RFC 6901 JSON pointer: '~' -> '~0', '/' -> '~1'."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _label(path: JsonPath) -> str:
    """The field's name for a message: ``seller.name``, ``lines/0/quantity``."""
    if not path:
        return "the invoice"
    label = ""
    previous_was_index = False
    for part in path:
        if isinstance(part, int):
            label += f"/{part}"
            previous_was_index = True
        else:
            name = _truncate(part, 64)
            label += ("/" if previous_was_index else "." if label else "") + name
            previous_was_index = False
    return label


def _sort_key(path: JsonPath) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, part) for part in path)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _describe(value: Any) -> str:
    """A short JSON-like rendering of a user's value for a message (no Python reprs)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(_truncate(value, 40), ensure_ascii=False)
    if isinstance(value, (int, Decimal)):
        return _truncate(_plain(Decimal(value)), 40)
    if isinstance(value, float):
        return _truncate(repr(value), 40)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "a value of an unsupported type"


def _plain(amount: Decimal) -> str:
    """``amount`` in positional notation (``"1000"``, not ``"1E+3"``) unless absurdly large."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -40 <= exponent <= 40:
        return format(amount, "f")
    return str(amount)


# --------------------------------------------------------------------------
# The schema


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    text = resources.files("invoicer.invoice").joinpath("invoice.schema.json").read_text("utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return schema


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


@lru_cache(maxsize=1)
def _decimal_pattern() -> re.Pattern[str]:
    """The decimal-string pattern of the schema, to be matched in full."""
    return re.compile(_schema()["$defs"]["decimal"]["anyOf"][1]["pattern"].removeprefix("^").removesuffix("$"))


def _decimal_hint() -> str:
    return _schema()["$defs"]["decimal"]["x-errors"]["anyOf"]["message"]


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    """ISO 4217 codes known to Babel (CLDR), current and historic."""
    return frozenset(list_currencies())


_TYPE_WORDS = {
    "string": "a string",
    "object": "an object",
    "array": "an array",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "null",
}

_BOUND_WORDS = {
    "minimum": "at least",
    "exclusiveMinimum": "greater than",
    "maximum": "at most",
    "exclusiveMaximum": "less than",
}


def _schema_problems(error: ValidationError) -> Iterator[_Problem]:
    """Problems for one jsonschema error, with human messages."""
    path: JsonPath = tuple(error.absolute_path)
    keyword = str(error.validator)
    instance = error.instance
    annotation = {}
    if isinstance(error.schema, dict):
        annotation = error.schema.get("x-errors", {}).get(keyword, {})

    if keyword == "required":
        for name in error.validator_value:
            if isinstance(instance, dict) and name not in instance:
                yield _Problem(path + (name,), "required", ("is required",))
    elif keyword == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        for name in instance:
            if name not in known:
                yield _Problem(path + (name,), "unknown_field", (_unknown_field_text(name, known),))
    elif keyword == "type":
        expected = error.validator_value
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in ([expected] if isinstance(expected, str) else expected))
        yield _Problem(path, "type", (f"must be {words}, not {_describe(instance)}",))
    elif keyword == "anyOf":  # only amounts use anyOf: a number or a decimal string
        code = "pattern" if isinstance(instance, str) else "type"
        hint = annotation.get("message", "is not valid")
        yield _Problem(path, code, (f"{hint}, not {_describe(instance)}",))
    elif keyword in _BOUND_WORDS:
        yield _Problem(
            path,
            "out_of_range",
            (f"must be {_BOUND_WORDS[keyword]} {error.validator_value}, not {_describe(instance)}",),
        )
    elif keyword == "maxLength":
        yield _Problem(
            path,
            "too_long",
            (f"must be at most {error.validator_value} characters long, not {len(instance)}",),
        )
    else:
        code = annotation.get("code", re.sub(r"(?<!^)(?=[A-Z])", "_", keyword).lower())
        message = annotation.get("message", "is not valid")
        if keyword in {"pattern", "format"} and code != "blank":
            message += f", not {_describe(instance)}"
        yield _Problem(path, code, (message,))


def _unknown_field_text(name: str, known: list[str], aliases: dict[str, str] | None = None) -> str:
    """'is not a known field', with the closest known name (or the alias of ``name``) as a hint."""
    text = "is not a known field"
    if aliases and name in aliases:
        return f"{text}; did you mean {aliases[name]}?"
    if len(name) <= 64:
        close = difflib.get_close_matches(name, known, n=1)
        if close:
            text += f"; did you mean {close[0]}?"
    return text


# --------------------------------------------------------------------------
# Amounts


def _digits(amount: Decimal) -> tuple[int, int]:
    """Digits before and after the decimal point of a finite ``amount``."""
    _, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    return max(len(digits) + exponent, 0), max(-exponent, 0)


def _parse_amount(
    value: Any, path: JsonPath, bounds: dict[str, Any] | None = None
) -> tuple[Decimal | None, list[_Problem]]:
    """``value`` (JSON number or plain decimal string) as an exact Decimal.

    Returns ``(amount, [])`` or ``(None, problems)``; checks the shape, the
    digit limits (MAX_INTEGER_DIGITS, MAX_FRACTION_DIGITS) and ``bounds``
    (JSON Schema keywords such as ``{"minimum": 0}``). Floats, which
    :func:`parse_document` never produces, are read through their repr.
    """
    hint = _decimal_hint()
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        return None, [_Problem(path, "type", (f"{hint}, not {_describe(value)}",))]
    if isinstance(value, str):
        if not _decimal_pattern().fullmatch(value):
            return None, [_Problem(path, "pattern", (f"{hint}, not {_describe(value)}",))]
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    else:
        amount = Decimal(value)
    if not amount.is_finite():
        return None, [_Problem(path, "type", (f"{hint}, not {_describe(value)}",))]
    integer_digits, fraction_digits = _digits(amount)
    if integer_digits > MAX_INTEGER_DIGITS or fraction_digits > MAX_FRACTION_DIGITS:
        return None, [
            _Problem(
                path,
                "too_many_digits",
                (
                    f"must have at most {MAX_INTEGER_DIGITS} digits before and {MAX_FRACTION_DIGITS} "
                    f"after the decimal point, not {_describe(amount)}",
                ),
            )
        ]
    for keyword, limit in (bounds or {}).items():
        outside = {
            "minimum": amount < limit,
            "exclusiveMinimum": amount <= limit,
            "maximum": amount > limit,
            "exclusiveMaximum": amount >= limit,
        }[keyword]
        if outside:
            return None, [
                _Problem(path, "out_of_range", (f"must be {_BOUND_WORDS[keyword]} {limit}, not {_describe(value)}",))
            ]
    if amount.as_tuple().exponent > 0:  # type: ignore[operator]  # finite here
        amount = amount.quantize(Decimal(1))  # JSON 1e2 is 100, not 1E+2 on the PDF
    if amount.is_zero():
        amount = amount.copy_abs()  # "-0.00" is 0.00
    return amount, []


@lru_cache(maxsize=8)
def _line_bounds(field: str) -> dict[str, Any]:
    """The range keywords the schema gives a line amount, e.g. ``{"exclusiveMinimum": 0}``."""
    spec = _schema()["$defs"]["line"]["properties"][field]
    return {keyword: spec[keyword] for keyword in _BOUND_WORDS if keyword in spec}


# --------------------------------------------------------------------------
# The canonical format


_AMOUNT_FIELDS = ("quantity", "unit_price", "tax_rate")


def _check_canonical(document: dict[str, Any], *, max_lines: int) -> tuple[list[_Problem], Invoice | None]:
    """Check a canonical document; return its problems, and the Invoice if there are none."""
    problems: list[_Problem] = []
    subject = document
    lines = document.get("lines")
    too_many = isinstance(lines, list) and len(lines) > max_lines
    if too_many:
        # Say so without looking at a single line, and check the rest.
        problems.append(
            _Problem(("lines",), "too_many_lines", (f"has {len(lines)} lines; at most {max_lines} are allowed",))
        )
        subject = {key: value for key, value in document.items() if key != "lines"}
    for error in _validator().iter_errors(subject):
        for problem in _schema_problems(error):
            if too_many and problem.path == ("lines",) and problem.code == "required":
                continue
            problems.append(problem)

    flagged = {problem.path for problem in problems}

    def clean(*path: str | int) -> bool:
        """The value at ``path`` passed the schema, and so did every container above it."""
        return all(path[:n] not in flagged for n in range(len(path) + 1))

    currency = document.get("currency")
    if clean("currency") and isinstance(currency, str) and currency not in _known_currencies():
        problems.append(
            _Problem(
                ("currency",),
                "unknown_currency",
                (f"{_describe(currency)} is not an ISO 4217 currency code",),
            )
        )

    dates: dict[str, date] = {}
    for name in ("issue_date", "due_date"):
        if clean(name) and isinstance(document.get(name), str):
            dates[name] = date.fromisoformat(document[name])  # format "date" has vouched for it
    if "issue_date" in dates and "due_date" in dates and dates["due_date"] < dates["issue_date"]:
        problems.append(
            _Problem(
                ("due_date",),
                "due_before_issue",
                (f"{dates['due_date']} is before ", _Ref(("issue_date",)), f" {dates['issue_date']}"),
            )
        )

    amounts: dict[tuple[int, str], Decimal] = {}
    if not too_many and clean("lines") and isinstance(lines, list):
        for index, line in enumerate(lines):
            if not (clean("lines", index) and isinstance(line, dict)):
                continue
            for field in _AMOUNT_FIELDS:
                if field in line and clean("lines", index, field):
                    amount, found = _parse_amount(line[field], ("lines", index, field), _line_bounds(field))
                    problems.extend(found)
                    if amount is not None:
                        amounts[(index, field)] = amount
            quantity, price = amounts.get((index, "quantity")), amounts.get((index, "unit_price"))
            if quantity is not None and price is not None:
                with localcontext(prec=2 * (MAX_INTEGER_DIGITS + MAX_FRACTION_DIGITS) + 2):
                    product = quantity * price
                if product.adjusted() >= MAX_INTEGER_DIGITS:
                    problems.append(
                        _Problem(
                            ("lines", index),
                            "amount_too_large",
                            (
                                f"quantity x unit_price is {_plain(product)}, more than "
                                f"{MAX_INTEGER_DIGITS} digits before the decimal point",
                            ),
                        )
                    )

    if problems:
        return problems, None
    return [], _build(document, amounts)


def _text(value: str | None) -> str | None:
    """Surrounding white space dropped; an empty optional text becomes None."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def _party(data: dict[str, Any] | None) -> Party | None:
    if data is None:
        return None
    return Party(
        name=data["name"].strip(),
        company=_text(data.get("company")),
        address=_text(data.get("address")),
        phone=_text(data.get("phone")),
        email=_text(data.get("email")),
        vat_id=_text(data.get("vat_id")),
    )


def _build(document: dict[str, Any], amounts: dict[tuple[int, str], Decimal]) -> Invoice:
    lines = tuple(
        Line(
            position=index + 1,
            description=line["description"].strip(),
            quantity=amounts[(index, "quantity")],
            unit_price=amounts[(index, "unit_price")],
            tax_rate=amounts[(index, "tax_rate")],
            unit=_text(line.get("unit")),
        )
        for index, line in enumerate(document["lines"])
    )
    due_date = document.get("due_date")
    seller, buyer = _party(document["seller"]), _party(document["buyer"])
    assert seller is not None and buyer is not None
    return Invoice(
        invoice_number=document["invoice_number"].strip(),
        issue_date=date.fromisoformat(document["issue_date"]),
        currency=document["currency"],
        seller=seller,
        buyer=buyer,
        lines=lines,
        due_date=date.fromisoformat(due_date) if due_date is not None else None,
        ship_to=_party(document.get("ship_to")),
        payment_terms=_text(document.get("payment_terms")),
        notes=_text(document.get("notes")),
    )


def load_invoice(document: Any, *, max_lines: int = 10_000, legacy_currency: str = "USD") -> Invoice:
    """Validate a parsed document (from :func:`parse_document`) and build the Invoice.

    The format is detected: a document with ``lines`` or ``invoice_number``
    is canonical (``invoice.schema.json``); otherwise one with ``items``,
    ``invoice_no`` or ``company_name`` is the legacy flat format
    (:mod:`invoicer.invoice.legacy`), whose amounts are in ``legacy_currency``
    unless it names a ``currency`` and whose own totals must agree with ours.

    Rules beyond the schema: amounts are exact decimals, at most 15 digits
    before and 10 after the point, quantity > 0, unit price >= 0, tax rate
    from 0 to 100 %; ``currency`` is an ISO 4217 code known to Babel/CLDR
    (EN 16931 BT-5); dates exist and ``due_date`` is not before ``issue_date``;
    at most ``max_lines`` lines, counted before any line is checked.

    Returns a :class:`~invoicer.invoice.model.Invoice` whose totals follow
    EN 16931 (see :func:`~invoicer.invoice.model.compute_totals`). Raises
    :class:`InvalidInvoice` with every problem found; a document that is not
    a JSON object gives one error with pointer ``""``. Raises ValueError if
    ``legacy_currency`` is needed and is not an ISO 4217 code (a server
    configuration error, not the user's).
    """
    if not isinstance(document, dict):
        raise InvalidInvoice(
            _field_errors([_Problem((), "type", (f"must be a JSON object, not {_describe(document)}",))])
        )
    from invoicer.invoice import legacy  # legacy builds on this module

    if legacy.is_legacy(document):
        return legacy.load_legacy_invoice(document, max_lines=max_lines, currency=legacy_currency)
    problems, invoice = _check_canonical(document, max_lines=max_lines)
    if problems:
        raise InvalidInvoice(_field_errors(problems))
    assert invoice is not None
    return invoice
