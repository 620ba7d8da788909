"""The canonical invoice a client submits, as pydantic v2 models, and what they build.

:class:`InvoiceDocument` (with :class:`PartyDocument` and :class:`LineDocument`)
is the one definition of the input: it validates a document parsed by
:func:`~invoicer.invoice.parsing.parse_document` (Python mode, so amounts
arrive as :class:`~decimal.Decimal` or ``int`` and never pass through float),
builds the domain :class:`~invoicer.invoice.model.Invoice` the renderers use
(:meth:`InvoiceDocument.to_invoice`), and generates ``invoice.schema.json``
(:func:`json_schema`, ``make schema``).

Rules, each reported with its own error code (see :func:`problems`):

* unknown fields are refused (``unknown_field``, with a "did you mean" hint);
* texts: no control characters, C1 and U+2028/U+2029 included
  (``control_character``; multi-line texts may hold tab and line breaks as
  ``\\n``), so that every text can be drawn and the single-line ones can go
  into a mail header or a file name; required ones not blank (``blank``), bounded
  length (``too_long``);
* amounts: a JSON number or a plain decimal string (``type`` / ``pattern``),
  at most 15 digits before and 10 after the point and at most 15
  significant digits (``too_many_digits``), within the field's bounds
  (``out_of_range``), and quantity x unit price below 10^15
  (``amount_too_large``);
* every computed amount (line nets, VAT per rate, net, tax, gross) at most
  :func:`~invoicer.invoice.model.largest_amount` of the currency, e.g.
  9 999 999 999 999.99 EUR (``amount_too_large`` at ``/lines``): 15
  significant digits is what an XLSX cell keeps exactly
  (:data:`~invoicer.invoice.model.MAX_SIGNIFICANT_DIGITS`);
* a party's ``address`` (EN 16931 BG-5 / BG-8 / BG-15) an object
  :class:`AddressDocument` ``{line1, line2, city, postal_code, region,
  country_code}`` or free text, which :func:`address_from_text` turns into
  the object (``type`` for anything else); ``country_code`` an ISO 3166-1
  alpha-2 code known to Babel/CLDR (``pattern`` / ``unknown_country``);
* ``currency`` an ISO 4217 code known to Babel/CLDR (``pattern`` /
  ``unknown_currency``, EN 16931 BT-5); dates that exist, written YYYY-MM-DD
  (``invalid_date``), ``due_date`` not before ``issue_date``
  (``due_before_issue``); at least one line (``min_items``) and at most
  ``max_lines``, counted before any line is looked at (``too_many_lines``);
* ``logo`` the base64 of a PNG or JPEG of at most 1 MB and 4000x4000
  pixels that Pillow decodes whole (``invalid_logo``).

Pydantic reports every failing field at once; :func:`problems` turns its
errors into :class:`~invoicer.invoice.errors.Problem` values at the path of
the document as submitted (pydantic locations use the field aliases).
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from functools import lru_cache
from typing import Annotated, Any

from babel.numbers import list_currencies
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from pydantic_core import PydanticCustomError, core_schema

from invoicer.invoice import model
from invoicer.invoice.errors import JsonPath, Problem, describe, plain
from invoicer.invoice.logo import MAX_LOGO_BYTES, MAX_LOGO_SIDE, LogoError, clean_logo

__all__ = [
    "DEFAULT_MAX_LINES",
    "MAX_FRACTION_DIGITS",
    "MAX_INTEGER_DIGITS",
    "AddressDocument",
    "AddressInput",
    "Amount",
    "CountryCode",
    "CurrencyCode",
    "DocumentModel",
    "InvoiceDocument",
    "IsoDate",
    "LineDocument",
    "NotNull",
    "PartyDocument",
    "Text",
    "address_from_text",
    "amounts_fit_every_document",
    "at_most_max_lines",
    "due_date_not_before_issue_date",
    "json_schema",
    "known_currencies",
    "optional_text",
    "problems",
    "product_not_too_large",
]

address_from_text = model.address_from_text

#: Largest number of digits allowed before / after the decimal point of an amount.
MAX_INTEGER_DIGITS = 15
MAX_FRACTION_DIGITS = 10
#: Lines allowed when the caller names no limit (the gateway passes ``MAX_LINES``).
DEFAULT_MAX_LINES = 10_000

_DIGITS = rf"[0-9]{{1,{MAX_INTEGER_DIGITS}}}(\.[0-9]{{1,{MAX_FRACTION_DIGITS}}})?"
# No two non-zero digits more than MAX_SIGNIFICANT_DIGITS - 1 places apart (the
# point not counted): at most MAX_SIGNIFICANT_DIGITS significant digits.
_SIGNIFICANT = rf"(?!.*[1-9](\.?[0-9]){{{model.MAX_SIGNIFICANT_DIGITS - 1}}}[0-9.]*[1-9])"
_DECIMAL = re.compile(rf"-?{_DIGITS}")
_DECIMAL_HINT = 'must be a decimal number such as "12" or "12.5"'


def _fail(code: str, text: str) -> PydanticCustomError:
    """A pydantic error whose type is our ``code`` and whose message is ``text`` (taken as is)."""
    return PydanticCustomError(code, "{text}", {"text": text})


# --------------------------------------------------------------------------
# Field types: ``Annotated[str, Text(200)]`` and friends. Each is pydantic
# metadata that builds the validator (pydantic-core) and the JSON Schema of
# the field, so that the rule and its documentation have one definition.


# Control characters (Unicode category Cc: C0, DEL and C1, NEL U+0085 among
# them) and the line and paragraph separators U+2028/U+2029: none can go into a
# mail header (the invoice number is in the Subject, RFC 5322 2.2) or a file
# name, and none is drawn on a page. A single-line text holds none of them; a
# multi-line text may hold tab and its line breaks as \n (or \r\n, \r).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_LINE_BREAKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
# The same rules as JSON Schema (ECMA 262) patterns, for the generated schema.
_SINGLE_LINE_CHAR = r"[^\u0000-\u001f\u007f-\u009f\u2028\u2029]"
_TEXT_CHAR = r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]"
# White space or control: Python's \s lacks U+FEFF and ECMA's lacks U+0085 and
# U+001C-U+001F, so both are named to make the class the same in both engines
# (both have U+2028/U+2029); C1 controls are not white space in either.
_SPACE_OR_CONTROL = r"\s\u0000-\u001f\u007f-\u009f\ufeff"
_VISIBLE_CHAR = f"[^{_SPACE_OR_CONTROL}]"
_VISIBLE = re.compile(_VISIBLE_CHAR)
_EMAIL_PATTERN = f"^[^@{_SPACE_OR_CONTROL}]+@[^@.{_SPACE_OR_CONTROL}]+(\\.[^@.{_SPACE_OR_CONTROL}]+)+$"
_EMAIL = re.compile(_EMAIL_PATTERN)


def _found(match: re.Match[str]) -> str:
    """``"U+2028 at character 4"``: which character was refused, and where (1-based)."""
    return f"U+{ord(match.group()):04X} at character {match.start() + 1}"


def _single_line(value: str) -> str:
    found = _CONTROL.search(value)
    if found:
        raise _fail(
            "control_character",
            f"must be a single line without control characters or line separators; it has {_found(found)}",
        )
    return value


def _multi_line(value: str) -> str:
    found = _CONTROL_BUT_LINE_BREAKS.search(value)
    if found:
        raise _fail(
            "control_character",
            "must not contain control characters; lines are separated by \\n, not by U+2028/U+2029; "
            f"it has {_found(found)}",
        )
    return value


def _not_blank(value: str) -> str:
    if not _VISIBLE.search(value):
        raise _fail("blank", "must not be blank")
    return value


def _email(value: str) -> str:
    if value and not _EMAIL.fullmatch(value):
        raise _fail("invalid_email", f'must be an e-mail address such as "billing@example.com", not {describe(value)}')
    return value


@dataclass(frozen=True)
class Text:
    """A text of at most ``max_length`` characters (``too_long``).

    ``lines=True`` allows tab, CR and LF (addresses, notes); otherwise any
    control character (Unicode Cc: C0, DEL, C1) and the line and paragraph
    separators U+2028/U+2029 are refused (``control_character``): a
    single-line text (a number, a name, an identifier) goes into mail
    headers and file names, where a line break cannot be. ``required=True``
    refuses a text that is empty or only white space (``blank``).
    ``email=True`` asks for an empty text or an e-mail address, one ``@``
    and a dotted domain (``invalid_email``). Surrounding white space is kept
    here and dropped when the domain object is built (:func:`optional_text`).
    """

    max_length: int
    lines: bool = False
    required: bool = False
    email: bool = False

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        schema: core_schema.CoreSchema = core_schema.str_schema(max_length=self.max_length, strict=True)
        checks = [_multi_line if self.lines else _single_line]
        checks += [_not_blank] if self.required else []
        checks += [_email] if self.email else []
        for check in checks:
            schema = core_schema.no_info_after_validator_function(check, schema)
        return schema

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> Any:
        result = handler(schema)
        char = _TEXT_CHAR if self.lines else _SINGLE_LINE_CHAR
        if self.email:
            result["pattern"] = f"^$|{_EMAIL_PATTERN}"
        elif self.required:
            result["pattern"] = f"^{char}*{_VISIBLE_CHAR}{char}*$"
        else:
            result["pattern"] = f"^{char}*$"
        return result


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_HINT = 'must be an existing calendar date written YYYY-MM-DD, such as "2026-11-02"'


def _to_date(value: Any) -> date:
    if not isinstance(value, str):
        raise _fail("type", f"must be a string, not {describe(value)}")
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise _fail("invalid_date", f"{_DATE_HINT}, not {describe(value)}") from None


@dataclass(frozen=True)
class IsoDate:
    """A string ``YYYY-MM-DD`` naming a day that exists (``invalid_date``), as a :class:`~datetime.date`."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(_to_date)

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> Any:
        return {"type": "string", "format": "date", "pattern": f"^{_DATE.pattern}$"}


@lru_cache(maxsize=1)
def known_currencies() -> frozenset[str]:
    """ISO 4217 codes known to Babel (CLDR), current and historic."""
    return frozenset(list_currencies())


def _to_currency(value: Any) -> str:
    if not isinstance(value, str):
        raise _fail("type", f"must be a string, not {describe(value)}")
    if not re.fullmatch("[A-Z]{3}", value):
        raise _fail(
            "pattern",
            f'must be a three-letter upper-case ISO 4217 currency code such as "EUR", not {describe(value)}',
        )
    if value not in known_currencies():
        raise _fail("unknown_currency", f"{describe(value)} is not an ISO 4217 currency code")
    return value


@dataclass(frozen=True)
class CurrencyCode:
    """An ISO 4217 code known to Babel/CLDR (EN 16931 BT-5): ``pattern``, then ``unknown_currency``."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(_to_currency)

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> Any:
        return {"type": "string", "pattern": "^[A-Z]{3}$", "enum": sorted(known_currencies())}


def _to_country(value: Any) -> str:
    if not isinstance(value, str):
        raise _fail("type", f"must be a string, not {describe(value)}")
    if not re.fullmatch("[A-Z]{2}", value):
        raise _fail(
            "pattern",
            f'must be a two-letter upper-case ISO 3166-1 alpha-2 country code such as "DE", not {describe(value)}',
        )
    if value not in model.known_countries():
        raise _fail("unknown_country", f"{describe(value)} is not an ISO 3166-1 alpha-2 country code")
    return value


@dataclass(frozen=True)
class CountryCode:
    """An ISO 3166-1 alpha-2 code known to Babel/CLDR (EN 16931 BT-40 / BT-55 / BT-80):
    ``pattern`` (two upper-case letters), then ``unknown_country``."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(_to_country)

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> Any:
        return {"type": "string", "pattern": "^[A-Z]{2}$", "enum": sorted(model.known_countries())}


def _to_decimal(value: Any) -> Decimal:
    """A JSON number or a plain decimal string as an exact Decimal (``type`` / ``pattern`` errors)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise _fail("type", f"{_DECIMAL_HINT}, not {describe(value)}")
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value):
            raise _fail("pattern", f"{_DECIMAL_HINT}, not {describe(value)}")
        return Decimal(value)
    amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not amount.is_finite():
        raise _fail("type", f"{_DECIMAL_HINT}, not {describe(value)}")
    return amount


def _within_precision(amount: Decimal) -> Decimal:
    """At most MAX_SIGNIFICANT_DIGITS significant digits (``too_many_digits``): see model."""
    if model.significant_digits(amount) > model.MAX_SIGNIFICANT_DIGITS:
        raise _fail(
            "too_many_digits",
            f"must have at most {model.MAX_SIGNIFICANT_DIGITS} significant digits, the precision of a "
            f"spreadsheet number, not {describe(amount)}",
        )
    return amount


def _tidy(amount: Decimal) -> Decimal:
    """``1E+2`` -> ``100`` (as on the PDF), ``-0.00`` -> ``0.00``, and at most 10 fraction digits.

    The digit constraint counts significant digits, so ``1.10000000000`` passes
    it; dropping its trailing zeros here keeps the promise of at most
    MAX_FRACTION_DIGITS digits to everything downstream.
    """
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # finite: _to_decimal refused the rest
    if exponent > 0:
        amount = amount.quantize(Decimal(1))
    elif exponent < -MAX_FRACTION_DIGITS:
        amount = amount.quantize(Decimal(1).scaleb(-MAX_FRACTION_DIGITS))
    return amount.copy_abs() if amount.is_zero() else amount


@dataclass(frozen=True)
class Amount:
    """An exact :class:`~decimal.Decimal` from a JSON number or a plain decimal string.

    Accepts ``int`` or ``Decimal`` (as parse_document makes them) or a string
    such as ``"-12.50"`` (no exponent, no separators): else ``type`` /
    ``pattern``. At most MAX_INTEGER_DIGITS digits before and
    MAX_FRACTION_DIGITS after the point (pydantic's ``max_digits`` and
    ``decimal_places``; ``too_many_digits``) and at most
    MAX_SIGNIFICANT_DIGITS significant digits (``too_many_digits``), so that
    an XLSX cell holds it exactly; ``gt``/``ge``/``le`` bound the value
    (``out_of_range``). ``1E+2`` comes out as ``100``, ``-0`` as ``0``.
    """

    gt: int | None = None
    ge: int | None = None
    le: int | None = None

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        decimal = core_schema.decimal_schema(
            max_digits=MAX_INTEGER_DIGITS + MAX_FRACTION_DIGITS,
            decimal_places=MAX_FRACTION_DIGITS,
            gt=None if self.gt is None else Decimal(self.gt),
            ge=None if self.ge is None else Decimal(self.ge),
            le=None if self.le is None else Decimal(self.le),
            strict=True,
        )
        tidy = core_schema.no_info_after_validator_function(
            _tidy, core_schema.no_info_before_validator_function(_to_decimal, decimal)
        )
        return core_schema.no_info_after_validator_function(_within_precision, tidy)

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> Any:
        # JSON numbers: the bounds and fewer than 16 integer digits. The limit of fraction digits is
        # not stated: "multipleOf": 1e-10 would state it, but validators that divide binary floats
        # (Python's jsonschema among them) then refuse amounts such as 18.99.
        number: dict[str, Any] = {
            "type": "number",
            "description": (
                f"At most {model.MAX_SIGNIFICANT_DIGITS} significant digits and {MAX_FRACTION_DIGITS} digits "
                "after the decimal point (checked by the server)."
            ),
        }
        if self.gt is not None:
            number["exclusiveMinimum"] = self.gt
        elif self.ge is not None:
            number["minimum"] = self.ge
        else:
            number["exclusiveMinimum"] = -(10**MAX_INTEGER_DIGITS)
        if self.le is not None:
            number["maximum"] = self.le
        else:
            number["exclusiveMaximum"] = 10**MAX_INTEGER_DIGITS
        return {"anyOf": [number, {"type": "string", "pattern": self._string_pattern()}]}

    def _string_pattern(self) -> str:
        """The decimal strings within the bounds, as an ECMA 262 (and Python) pattern."""
        bounds = (self.gt, self.ge, self.le)
        if bounds == (None, None, None):
            return f"^{_SIGNIFICANT}-?{_DIGITS}$"
        if bounds == (0, None, None):
            return f"^{_SIGNIFICANT}(?=[0-9.]*[1-9]){_DIGITS}$"  # no minus sign, and a digit that is not 0
        if bounds == (None, 0, None):
            return f"^{_SIGNIFICANT}(?!-.*[1-9])-?{_DIGITS}$"  # "-0.00" is 0
        if bounds == (None, 0, 100):
            up_to_100 = rf"0*([0-9]{{1,2}}(\.[0-9]{{1,{MAX_FRACTION_DIGITS}}})?|100(\.0{{1,{MAX_FRACTION_DIGITS}}})?)"
            return f"^{_SIGNIFICANT}(?!-.*[1-9])(?=-?{_DIGITS}$)-?{up_to_100}$"
        raise ValueError(f"no string pattern for the bounds {self}")  # a programming error


# --------------------------------------------------------------------------
# The models


class DocumentModel(BaseModel):
    """Base of the input models: strict types (no coercion of a number into a
    text), unknown fields refused, instances frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def due_date_not_before_issue_date(cls: type[BaseModel], due: date | None, info: ValidationInfo) -> date | None:
    """``due_date`` (EN 16931 BT-9) must not be before ``issue_date`` (BT-2); ``due_before_issue``.

    For a model with fields ``issue_date`` and ``due_date`` declared in that
    order (pydantic validates fields in order, so ``info.data`` holds the
    issue date if it was valid); the issue date is named by its alias.
    """
    issue = info.data.get("issue_date")
    if due is not None and issue is not None and due < issue:
        name = cls.model_fields["issue_date"].alias or "issue_date"
        raise _fail("due_before_issue", f"{due} is before {name} {issue}")
    return due


def at_most_max_lines(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """Refuse more than ``info.context["max_lines"]`` lines before validating any (``too_many_lines``)."""
    limit = (info.context or {}).get("max_lines", DEFAULT_MAX_LINES)
    if isinstance(value, list) and len(value) > limit:
        raise _fail("too_many_lines", f"has {len(value)} lines; at most {limit} are allowed")
    return handler(value)


def product_not_too_large(quantity: Decimal, unit_price: Decimal, names: str) -> None:
    """quantity x unit price must have at most MAX_INTEGER_DIGITS digits before the point (``amount_too_large``)."""
    with localcontext(prec=2 * (MAX_INTEGER_DIGITS + MAX_FRACTION_DIGITS) + 2):
        product = quantity * unit_price
    if product.adjusted() >= MAX_INTEGER_DIGITS:
        raise _fail(
            "amount_too_large",
            f"{names} is {plain(product)}, more than {MAX_INTEGER_DIGITS} digits before the decimal point",
        )


def amounts_fit_every_document(lines: list[model.Line], currency: str) -> None:
    """Every amount computed from ``lines`` (EN 16931 totals in ``currency``) is at most
    :func:`~invoicer.invoice.model.largest_amount` (``amount_too_large``, naming them).

    The limit is 15 significant digits down to the minor unit (Excel's
    precision, :data:`~invoicer.invoice.model.MAX_SIGNIFICANT_DIGITS`), so the
    XLSX, the PDF and the API show the same amount.
    """
    beyond = model.amounts_beyond_limit(model.compute_totals(lines, currency))
    if beyond:
        named = "; ".join(f"{what} would be {plain(amount)}" for what, amount in beyond)
        raise _fail(
            "amount_too_large",
            f"{named}: amounts in {currency} must be at most {plain(model.largest_amount(currency))} "
            f"({model.MAX_SIGNIFICANT_DIGITS} significant digits, the precision of a spreadsheet number)",
        )


def optional_text(value: str | None) -> str | None:
    """Surrounding white space dropped; an empty optional text becomes None."""
    if value is None:
        return None
    return value.strip() or None


# An optional field is absent or has a value: ``X | None`` with ``Field(default=None)``, so that
# an absent field is None, but validated as ``X`` alone, so that an explicit null is a ``type``
# error as before. Text, Amount, IsoDate and CurrencyCode build their schema from their own
# arguments and so refuse null by themselves; a model field says so with NotNull.


@dataclass(frozen=True)
class NotNull:
    """On a field typed ``X | None = Field(default=None)``: validate it and
    describe it in the JSON schema as ``X`` alone. Absent gives None; an
    explicit null is refused like any other value that is not an ``X``."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        (inner,) = [arg for arg in typing.get_args(source) if arg is not type(None)]
        return handler.generate_schema(inner)


_LIMITS = model.ADDRESS_LIMITS


class AddressDocument(DocumentModel):
    """A postal address as an object (EN 16931 BG-5 seller, BG-8 buyer, BG-15 deliver-to).

    Every field is optional (absent or null: none); texts are single lines but ``line2``, which may
    hold line breaks (an address converted from free text keeps its further
    lines there, :func:`address_from_text`).
    """

    model_config = ConfigDict(title="Address")

    line1: Annotated[str, Text(_LIMITS["line1"])] | None = Field(
        default=None, description="Main address line, e.g. street and number (BT-35 / BT-50 / BT-75)."
    )
    line2: Annotated[str, Text(_LIMITS["line2"], lines=True)] | None = Field(
        default=None, description="Additional address line(s) (BT-36 / BT-51 / BT-76); one line per \\n."
    )
    city: Annotated[str, Text(_LIMITS["city"])] | None = Field(
        default=None, description="City (BT-37 / BT-52 / BT-77)."
    )
    postal_code: Annotated[str, Text(_LIMITS["postal_code"])] | None = Field(
        default=None, description="Postal code (BT-38 / BT-53 / BT-78)."
    )
    region: Annotated[str, Text(_LIMITS["region"])] | None = Field(
        default=None, description="Country subdivision: state, county, province (BT-39 / BT-54 / BT-79)."
    )
    country_code: Annotated[str, CountryCode()] | None = Field(
        default=None, description="ISO 3166-1 alpha-2 country code, upper case, e.g. DE (BT-40 / BT-55 / BT-80)."
    )

    def to_address(self) -> model.Address | None:
        """The domain address: texts stripped, empty ones as None; None when nothing is left."""
        return model.Address.from_json(self.model_dump(exclude_none=True))


_ADDRESS_TEXT = TypeAdapter(Annotated[str, Text(1000, lines=True)])
_ADDRESS_TEXT_JSON: dict[str, Any] = {
    "type": "string",
    "maxLength": 1000,
    "pattern": f"^{_TEXT_CHAR}*$",
    "description": "The address as free text, one line per \\n (split into the object's fields by the server).",
}


def _to_address(value: Any, handler: ValidatorFunctionWrapHandler) -> AddressDocument:
    """A free-text address (checked as a multi-line text of at most 1000
    characters, then :func:`address_from_text`) or an :class:`AddressDocument` object."""
    if isinstance(value, str):
        try:
            text = _ADDRESS_TEXT.validate_python(value)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            raise PydanticCustomError(
                error["type"], "{text}", {**(error.get("ctx") or {}), "text": error["msg"]}
            ) from None
        address = address_from_text(text)
        return AddressDocument.model_validate(address.to_json() if address is not None else {})
    if not isinstance(value, (dict, AddressDocument)):
        raise _fail("type", f"must be a string or an object, not {describe(value)}")
    result: AddressDocument = handler(value)
    return result


@dataclass(frozen=True)
class AddressInput:
    """On a field typed :class:`AddressDocument`: accept the address as an
    object or as free text (multi-line, at most 1000 characters), which
    :func:`address_from_text` turns into the object; so the field always
    holds an :class:`AddressDocument`; absent is None, null is refused
    (``type``), as :class:`NotNull` does. The JSON Schema says ``anyOf``
    string | Address. Errors in the object point inside it
    (``/address/country_code``); errors of the text point at the field."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_wrap_validator_function(_to_address, handler.generate_schema(AddressDocument))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> Any:
        return {"anyOf": [dict(_ADDRESS_TEXT_JSON), handler(schema)]}


class ElectronicAddressDocument(DocumentModel):
    """Where a party receives e-invoices (EN 16931 BT-34 seller, BT-49 buyer)."""

    model_config = ConfigDict(title="ElectronicAddress")

    scheme: Annotated[str, Text(8, required=True)] = Field(
        description="Electronic Address Scheme code (CEF EAS list), e.g. EM (e-mail), 9930 (German VAT number), "
        "0204 (Leitweg-ID), 0088 (GLN)."
    )
    value: Annotated[str, Text(200, required=True)] = Field(description="The address in that scheme.")

    def to_model(self) -> model.ElectronicAddress:
        return model.ElectronicAddress(scheme=self.scheme.strip(), value=self.value.strip())


class ContactDocument(DocumentModel):
    """A contact point (EN 16931 BG-6 seller, BG-9 buyer)."""

    model_config = ConfigDict(title="Contact")

    name: Annotated[str, Text(200)] | None = Field(default=None, description="Contact person or department (BT-41).")
    phone: Annotated[str, Text(64)] | None = Field(default=None, description="Telephone number (BT-42).")
    email: Annotated[str, Text(254, email=True)] | None = Field(default=None, description="E-mail address (BT-43).")

    def to_model(self) -> model.Contact | None:
        contact = model.Contact(optional_text(self.name), optional_text(self.phone), optional_text(self.email))
        return contact if (contact.name or contact.phone or contact.email) else None


class BankAccountDocument(DocumentModel):
    """The seller's account for credit transfers (EN 16931 BG-17)."""

    model_config = ConfigDict(title="BankAccount")

    iban: Annotated[str, Text(42, required=True)] = Field(
        description="IBAN (BT-84), ISO 13616; spaces allowed, checked by mod 97."
    )
    bic: Annotated[str, Text(11)] | None = Field(default=None, description="BIC (BT-86), ISO 9362.")
    account_name: Annotated[str, Text(200)] | None = Field(default=None, description="Account name (BT-85).")

    def to_model(self) -> model.BankAccount:
        return model.BankAccount(self.iban.strip(), optional_text(self.bic), optional_text(self.account_name))


class PartyDocument(DocumentModel):
    """Seller (EN 16931 BG-4), buyer (BG-7) or deliver-to party (BG-13)."""

    model_config = ConfigDict(title="Party")

    name: Annotated[str, Text(200, required=True)] = Field(description="Name (BT-27 / BT-44 / BT-70).")
    company: Annotated[str | None, Text(200)] = Field(default=None, description="Company or trading name.")
    address: Annotated[AddressDocument | None, AddressInput()] = Field(
        default=None,
        description=(
            "Postal address (BG-5 / BG-8 / BG-15): an Address object, or free text with one line per \\n, "
            "which the server splits into the object's fields (responses give the object)."
        ),
    )
    phone: Annotated[str | None, Text(64)] = Field(default=None, description="Telephone number.")
    email: Annotated[str | None, Text(254, email=True)] = Field(
        default=None, description="An e-mail address (one @, a dotted domain) or empty."
    )
    vat_id: Annotated[str | None, Text(64)] = Field(default=None, description="VAT identifier (BT-31 / BT-48).")
    tax_number: Annotated[str | None, Text(64)] = Field(
        default=None, description="The seller's tax registration number (BT-32), e.g. a German Steuernummer."
    )
    legal_registration: Annotated[str | None, Text(100)] = Field(
        default=None, description="Legal registration identifier (BT-30 / BT-47), e.g. a company register number."
    )
    electronic_address: Annotated[ElectronicAddressDocument | None, NotNull()] = Field(
        default=None, description="Where the party receives e-invoices (BT-34 / BT-49)."
    )
    contact: Annotated[ContactDocument | None, NotNull()] = Field(
        default=None, description="Contact point (BG-6 / BG-9)."
    )
    bank_account: Annotated[BankAccountDocument | None, NotNull()] = Field(
        default=None, description="The seller's bank account for payment by credit transfer (BG-17); seller only."
    )

    def to_party(self) -> model.Party:
        """The domain party: texts stripped, empty optional texts as None."""
        return model.Party(
            name=self.name.strip(),
            company=optional_text(self.company),
            address=self.address.to_address() if self.address is not None else None,
            phone=optional_text(self.phone),
            email=optional_text(self.email),
            vat_id=optional_text(self.vat_id),
            tax_number=optional_text(self.tax_number),
            legal_registration=optional_text(self.legal_registration),
            electronic_address=self.electronic_address.to_model() if self.electronic_address else None,
            contact=self.contact.to_model() if self.contact else None,
            bank_account=self.bank_account.to_model() if self.bank_account else None,
        )


class LineDocument(DocumentModel):
    """One invoice line (EN 16931 BG-25)."""

    model_config = ConfigDict(title="Line")

    description: Annotated[str, Text(1000, lines=True, required=True)] = Field(
        description="Item name and description (BT-153/BT-154)."
    )
    quantity: Annotated[Decimal, Amount(gt=0)] = Field(description="Invoiced quantity (BT-129), greater than 0.")
    unit: Annotated[str | None, Text(64)] = Field(default=None, description="Free-text unit of measure, e.g. box.")
    unit_price: Annotated[Decimal, Amount(ge=0)] = Field(
        description="Net unit price (BT-146) in the invoice currency, 0 or more."
    )
    tax_rate: Annotated[Decimal, Amount(ge=0, le=100)] = Field(description="VAT rate in percent (BT-152), 0 to 100.")
    unit_code: Annotated[str | None, Text(3)] = Field(
        default=None,
        description="Unit of measure code (BT-130), UN/ECE Recommendation 20/21, e.g. C62 (one), HUR (hour), KGM.",
    )
    tax_category: Annotated[str | None, Text(2)] = Field(
        default=None,
        description="VAT category code (BT-151): S, Z, E, AE, K, G, O, L or M; S when the rate is above 0 and "
        "none is given; required for an e-invoice when the rate is 0.",
    )
    exemption_reason: Annotated[str | None, Text(1000)] = Field(
        default=None, description="VAT exemption reason (BT-120), printed on the document."
    )
    exemption_code: Annotated[str | None, Text(30)] = Field(
        default=None, description="VAT exemption reason code (BT-121), a VATEX code such as VATEX-EU-AE."
    )

    @model_validator(mode="after")
    def _product_fits(self) -> LineDocument:
        product_not_too_large(self.quantity, self.unit_price, "quantity x unit_price")
        return self

    def to_line(self, position: int) -> model.Line:
        """The domain line numbered ``position`` (1-based)."""
        return model.Line(
            position=position,
            description=self.description.strip(),
            quantity=self.quantity,
            unit_price=self.unit_price,
            tax_rate=self.tax_rate,
            unit=optional_text(self.unit),
            unit_code=optional_text(self.unit_code),
            tax_category=optional_text(self.tax_category),
            exemption_reason=optional_text(self.exemption_reason),
            exemption_code=optional_text(self.exemption_code),
        )


class PeriodDocument(DocumentModel):
    """An invoicing period (EN 16931 BG-14): ``start`` (BT-73) to ``end`` (BT-74), both days included."""

    model_config = ConfigDict(title="Period")

    start: Annotated[date, IsoDate()] = Field(description="First day (BT-73), YYYY-MM-DD.")
    end: Annotated[date, IsoDate()] = Field(description="Last day (BT-74), YYYY-MM-DD, not before start.")

    @model_validator(mode="after")
    def _ordered(self) -> PeriodDocument:
        if self.end < self.start:
            raise _fail("end_before_start", f"the period ends ({self.end}) before it starts ({self.start})")
        return self


class AllowanceChargeDocument(DocumentModel):
    """A document-level allowance (EN 16931 BG-20) or charge (BG-21), net of VAT."""

    model_config = ConfigDict(title="AllowanceCharge")

    amount: Annotated[Decimal, Amount(gt=0)] = Field(description="Amount (BT-92 / BT-99), net of VAT, above 0.")
    reason: Annotated[str, Text(200, required=True)] = Field(description="Reason (BT-97 / BT-104).")
    tax_rate: Annotated[Decimal, Amount(ge=0, le=100)] = Field(description="VAT rate in percent (BT-96 / BT-103).")
    tax_category: Annotated[str | None, Text(2)] = Field(
        default=None, description="VAT category code (BT-95 / BT-102); S when the rate is above 0 and none is given."
    )

    def to_model(self) -> model.AllowanceCharge:
        return model.AllowanceCharge(
            amount=self.amount,
            reason=self.reason.strip(),
            tax_rate=self.tax_rate,
            tax_category=optional_text(self.tax_category),
        )


#: The base64 text of a logo: not empty, at most MAX_LOGO_BYTES encoded.
_LogoText = Annotated[str, StringConstraints(min_length=1, max_length=4 * ((MAX_LOGO_BYTES + 2) // 3))]
#: The longest base64 text of a logo: MAX_LOGO_BYTES encoded (about 1.4 MB).
_MAX_LOGO_TEXT = 4 * ((MAX_LOGO_BYTES + 2) // 3)


def logo_bytes(text: str) -> bytes:
    """The image of a document's ``logo`` (base64 of a PNG or JPEG), checked
    by decoding it whole (:func:`invoicer.invoice.logo.clean_logo`) and
    answered re-encoded; a pydantic error ``invalid_logo`` otherwise."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _fail("invalid_logo", "must be a PNG or JPEG image in base64") from None
    try:
        return clean_logo(data)[0]
    except LogoError as exc:
        raise _fail("invalid_logo", exc.message) from None


class InvoiceDocument(DocumentModel):
    """The canonical invoice (EN 16931 vocabulary), as a client submits it."""

    model_config = ConfigDict(title="Invoice")

    invoice_number: Annotated[str, Text(64, required=True)] = Field(description="Invoice number (BT-1).")
    issue_date: Annotated[date, IsoDate()] = Field(description="Issue date (BT-2), YYYY-MM-DD.")
    due_date: Annotated[date | None, IsoDate()] = Field(
        default=None, description="Payment due date (BT-9), YYYY-MM-DD, not before issue_date."
    )
    currency: Annotated[str, CurrencyCode()] = Field(description="Invoice currency code (BT-5), ISO 4217, e.g. EUR.")
    seller: PartyDocument = Field(description="Seller (BG-4).")
    buyer: PartyDocument = Field(description="Buyer (BG-7).")
    ship_to: Annotated[PartyDocument | None, NotNull()] = Field(default=None, description="Deliver-to party (BG-13).")
    lines: list[LineDocument] = Field(
        min_length=1, description="Invoice lines (BG-25), in order; at most MAX_LINES (a server setting)."
    )
    payment_terms: Annotated[str | None, Text(4000, lines=True)] = Field(
        default=None, description="Payment terms (BT-20)."
    )
    notes: Annotated[str | None, Text(4000, lines=True)] = Field(default=None, description="Invoice note (BT-22).")
    buyer_reference: Annotated[str | None, Text(200)] = Field(
        default=None, description="Buyer reference (BT-10); for German public buyers the Leitweg-ID."
    )
    order_reference: Annotated[str | None, Text(200)] = Field(
        default=None, description="Purchase order reference (BT-13)."
    )
    delivery_date: Annotated[date | None, IsoDate()] = Field(
        default=None, description="Actual delivery date (BT-72), YYYY-MM-DD."
    )
    invoicing_period: Annotated[PeriodDocument | None, NotNull()] = Field(
        default=None, description="Invoicing period (BG-14)."
    )
    allowances: list[AllowanceChargeDocument] = Field(
        default_factory=list, max_length=100, description="Document-level allowances (BG-20), in the totals."
    )
    charges: list[AllowanceChargeDocument] = Field(
        default_factory=list, max_length=100, description="Document-level charges (BG-21), in the totals."
    )
    payment_reference: Annotated[str | None, Text(140)] = Field(
        default=None,
        description="Remittance information (BT-83) the payer quotes; default the invoice number.",
    )

    logo: Annotated[Annotated[str, StringConstraints(min_length=1, max_length=_MAX_LOGO_TEXT)] | None, NotNull()] = (
        Field(
            default=None,
            description=(
                f"The seller's logo drawn at the top left of the PDF and the XLSX: a PNG or JPEG image, base64"
                f" (RFC 4648, no line breaks), at most {MAX_LOGO_BYTES} bytes decoded and"
                f" {MAX_LOGO_SIDE}x{MAX_LOGO_SIDE} pixels."
            ),
            json_schema_extra={"contentEncoding": "base64"},
        )
    )

    _due_date = field_validator("due_date")(classmethod(due_date_not_before_issue_date))
    _lines = field_validator("lines", mode="wrap")(at_most_max_lines)

    @field_validator("logo")
    @classmethod
    def _logo_is_an_image(cls, logo: str | None) -> str | None:
        """Base64 of a PNG or JPEG that Pillow decodes (:func:`logo_bytes`)."""
        if logo is not None:
            logo_bytes(logo)
        return logo

    @field_validator("lines")
    @classmethod
    def _amounts_fit(cls, lines: list[LineDocument], info: ValidationInfo) -> list[LineDocument]:
        """The totals of valid lines in a valid currency: :func:`amounts_fit_every_document`."""
        currency = info.data.get("currency")
        if currency is not None:
            amounts_fit_every_document([line.to_line(i) for i, line in enumerate(lines, start=1)], currency)
        return lines

    def to_invoice(self) -> model.Invoice:
        """The domain :class:`~invoicer.invoice.model.Invoice` (totals computed, texts stripped)."""
        return model.Invoice(
            invoice_number=self.invoice_number.strip(),
            issue_date=self.issue_date,
            currency=self.currency,
            seller=self.seller.to_party(),
            buyer=self.buyer.to_party(),
            lines=tuple(line.to_line(index) for index, line in enumerate(self.lines, start=1)),
            due_date=self.due_date,
            ship_to=self.ship_to.to_party() if self.ship_to is not None else None,
            payment_terms=optional_text(self.payment_terms),
            notes=optional_text(self.notes),
            buyer_reference=optional_text(self.buyer_reference),
            order_reference=optional_text(self.order_reference),
            delivery_date=self.delivery_date,
            invoicing_period=(
                (self.invoicing_period.start, self.invoicing_period.end) if self.invoicing_period else None
            ),
            allowances=tuple(item.to_model() for item in self.allowances),
            charges=tuple(item.to_model() for item in self.charges),
            payment=self._payment(),
            logo=base64.b64decode(self.logo) if self.logo else None,
        )

    def _payment(self) -> model.PaymentInstructions | None:
        """BG-16 from the seller's bank account and the payment reference (default: the number)."""
        account = self.seller.bank_account
        if account is None:
            return None
        return model.payment_instructions(
            account.to_model(), optional_text(self.payment_reference) or self.invoice_number.strip()
        )

    @model_validator(mode="after")
    def _allowances_fit(self) -> InvoiceDocument:
        """With allowances or charges, the totals they change fit too (:func:`amounts_fit_every_document`)."""
        if self.allowances or self.charges:
            totals = model.compute_totals(
                [line.to_line(i) for i, line in enumerate(self.lines, start=1)],
                self.currency,
                allowances=[item.to_model() for item in self.allowances],
                charges=[item.to_model() for item in self.charges],
            )
            beyond = model.amounts_beyond_limit(totals)
            if beyond:
                named = "; ".join(f"{what} would be {plain(amount)}" for what, amount in beyond)
                raise _fail("amount_too_large", f"{named}: too large for {self.currency}")
        return self


# --------------------------------------------------------------------------
# Pydantic errors -> problems

_TYPE_WORDS = {
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "list_type": "an array",
    "string_type": "a string",
}
_BOUND_WORDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}
_DIGIT_ERRORS = {"decimal_max_digits", "decimal_max_places", "decimal_whole_digits"}


def problems(error: ValidationError, root: type[BaseModel], *, base: JsonPath = ()) -> Iterator[Problem]:
    """The problems of a :class:`~pydantic.ValidationError` raised by ``root.model_validate``.

    Paths are pydantic's locations (field aliases, list indexes), prefixed with
    ``base``. Our own rules raise errors whose type is already our code; the
    built-in ones are mapped: ``missing`` -> ``required``, ``extra_forbidden``
    -> ``unknown_field``, ``*_type`` -> ``type``, ``string_too_long`` ->
    ``too_long``, decimal digit limits -> ``too_many_digits``, bounds ->
    ``out_of_range``, a short list -> ``min_items``; any other keeps pydantic's
    type and message.
    """
    for item in error.errors(include_url=False):
        path: JsonPath = base + tuple(item["loc"])
        kind, value, context = item["type"], item.get("input"), item.get("ctx") or {}
        if kind == "missing":
            yield Problem(path, "required", "is required")
        elif kind == "extra_forbidden":
            yield Problem(path, "unknown_field", _unknown_field_text(root, tuple(item["loc"])))
        elif kind in _TYPE_WORDS:
            yield Problem(path, "type", f"must be {_TYPE_WORDS[kind]}, not {describe(value)}")
        elif kind == "string_too_long":
            limit = context.get("max_length")
            yield Problem(path, "too_long", f"must be at most {limit} characters long, not {len(value)}")
        elif kind in _DIGIT_ERRORS:
            yield Problem(
                path,
                "too_many_digits",
                f"must have at most {MAX_INTEGER_DIGITS} digits before and {MAX_FRACTION_DIGITS} "
                f"after the decimal point, not {describe(value)}",
            )
        elif kind in _BOUND_WORDS:
            key, words = _BOUND_WORDS[kind]
            yield Problem(path, "out_of_range", f"must be {words} {describe(context.get(key))}, not {describe(value)}")
        elif kind == "too_short":
            yield Problem(path, "min_items", "must contain at least one line")
        else:
            yield Problem(path, kind, item["msg"])


def _unknown_field_text(root: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    """'is not a known field', with a hint: the field's alias if ``name`` is the
    name the model gives an aliased field (``issue_date`` -> ``date`` in the
    legacy format), else the closest known name."""
    name = loc[-1]
    owner = _model_at(root, loc[:-1])
    text = "is not a known field"
    if owner is None or not isinstance(name, str):
        return text
    aliases = {field_name: field.alias for field_name, field in owner.model_fields.items() if field.alias}
    hint = aliases.get(name)
    if hint is None and len(name) <= 64:
        known = [field.alias or field_name for field_name, field in owner.model_fields.items()]
        hint = next(iter(difflib.get_close_matches(name, known, n=1)), None)
    return f"{text}; did you mean {hint}?" if hint else text


def _model_at(root: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class that validates the object at ``loc`` below ``root``, if any."""
    annotation: Any = root
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            if typing.get_origin(annotation) is not list:
                return None
            annotation = typing.get_args(annotation)[0]
        else:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return None
            fields = {field.alias or name: field for name, field in annotation.model_fields.items()}
            if part not in fields:
                return None
            annotation = fields[part].annotation
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` -> ``X``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            annotation = next(arg for arg in typing.get_args(annotation) if arg is not type(None))
        else:
            return annotation


# --------------------------------------------------------------------------
# JSON Schema


class _Generator(GenerateJsonSchema):
    """JSON Schema 2020-12 without pydantic's invented field titles and ``"default": null``."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> Any:
        if schema.get("default") is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)  # pragma: no cover - no field has another default


def json_schema(
    root: type[BaseModel], *, description: str, extra: dict[str, type[BaseModel]] | None = None
) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``root`` with ``description``, for ``invoice.schema.json``.

    Definitions are named after their class without the ``Document`` suffix
    (``Party``, ``Line``); ``extra`` adds more models under ``$defs`` by the
    given name (the legacy format). Raises nothing for these models.
    """
    models = [(cls, "validation") for cls in (root, *(extra or {}).values())]
    mapping, definitions = models_json_schema(models, schema_generator=_Generator)  # type: ignore[arg-type]
    all_defs = dict(definitions.get("$defs", {}))
    root_name = mapping[(root, "validation")]["$ref"].rsplit("/", 1)[-1]
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **all_defs.pop(root_name),
        "description": description,
        "$defs": all_defs,
    }
    renames = {name: name.removesuffix("Document") for name in all_defs}
    renames.update({cls.__name__: name for name, cls in (extra or {}).items()})
    return _rename_refs(schema, renames)


def _rename_refs(schema: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    """``#/$defs/OldName`` -> ``#/$defs/NewName`` everywhere, and the ``$defs`` keys too."""
    text = json.dumps(schema)
    for old, new in renames.items():
        text = text.replace(f'"#/$defs/{old}"', f'"#/$defs/{new}"')
    result: dict[str, Any] = json.loads(text)
    result["$defs"] = {renames.get(name, name): value for name, value in result["$defs"].items()}
    return result
