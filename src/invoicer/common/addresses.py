"""E-mail addresses as every service compares them: one normalisation for
login, registration, ``invoicer create-user`` and invitations, so an address
typed composed or decomposed (NFC/NFD), or with its domain in capitals, is
one address wherever it is used."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

__all__ = ["InvalidAddress", "normalise_address"]

#: RFC 5321 section 4.5.3.1.3: a path holds at most 256 octets, so an address at most 254.
MAX_ADDRESS_LENGTH = 254


class InvalidAddress(ValueError):
    """Not an e-mail address; the message says why (email-validator's words)."""


def normalise_address(email: object) -> str:
    """The normalised address (``email-validator``, no DNS lookup: the local
    part in Unicode NFC as RFC 6532 section 3.1 suggests, the domain through
    IDNA/UTS 46, so lower-case). Raises :class:`InvalidAddress` if ``email``
    is not a string or not an address (``junk@@@``, no domain, over 254
    characters)."""
    if not isinstance(email, str):
        raise InvalidAddress("must be a string")
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None
