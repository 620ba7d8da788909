"""Accounts and logins, without HTTP: the rules the auth service's routes and
the ``invoicer create-user`` command share.

Every refusal is a :class:`~invoicer.common.errors.DomainError`; the web
layer turns it into the JSON error body (:mod:`invoicer.common.web`), the CLI
prints its message. Nothing here imports Flask.
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email
from precis_i18n import get_profile

from ..common.config import Settings
from ..common.db import Database
from ..common.errors import InvalidInput, NotAuthenticated, NotPermitted, RateLimited
from ..common.logging import get_logger
from . import db as users
from .db import EmailTaken, User
from .passwords import hash_password, needs_rehash, verify_password
from .throttle import LoginThrottle, account_tag

__all__ = [
    "Accounts",
    "EmailTaken",
    "InvalidCredentials",
    "InvalidEmail",
    "LoginThrottled",
    "RegistrationClosed",
    "WeakPassword",
    "check_password_policy",
    "login_identity",
    "normalise_email",
    "prepare_password",
]

log = get_logger(__name__)

#: RFC 8265 section 4.2: the PRECIS profile for passwords.
_OPAQUE_STRING = get_profile("OpaqueString")

#: Longer passwords are refused: Argon2 would hash them, but nobody types
#: 1 KiB, and it bounds the work one request can ask for.
MAX_PASSWORD_LENGTH = 1024


class InvalidEmail(InvalidInput):
    """The e-mail address is not a string or not an address (pointer ``/email``)."""

    code = "invalid_email"


class WeakPassword(InvalidInput):
    """The password is not a string, too short or too long (pointer ``/password``)."""

    code = "weak_password"


class RegistrationClosed(NotPermitted):
    """Self-service registration is switched off (``REGISTRATION_ENABLED``)."""

    code = "registration_disabled"


class InvalidCredentials(NotAuthenticated):
    """Wrong e-mail or password (the two are not told apart: no user enumeration)."""

    code = "invalid_credentials"
    scheme = "Basic"


class LoginThrottled(RateLimited):
    """Too many failed logins from the client address, for the account or in
    all; see :mod:`invoicer.auth.throttle`."""

    code = "too_many_attempts"


def normalise_email(email: object) -> str:
    """The normalised address (``email-validator``, no DNS lookup: the local
    part in Unicode NFC as RFC 6532 section 3.1 suggests, the domain through
    IDNA/UTS 46, so lower-case); raises :class:`InvalidEmail` if ``email`` is
    not a string or not an address. Registration, login and ``invoicer
    create-user`` all go through it, so an address typed composed or
    decomposed is the same account."""
    if not isinstance(email, str):
        raise InvalidEmail("email must be a string", pointer="/email", reason="type")
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc), pointer="/email") from None


def login_identity(email: str) -> str:
    """The account a login names, as the throttle counts it: the normalised
    address (:func:`normalise_email`), or, for what is not an address, the
    text in NFC, stripped and lower-cased (so that case, spacing or Unicode
    form buy no fresh tries)."""
    try:
        return normalise_email(email).lower()
    except InvalidEmail:
        return unicodedata.normalize("NFC", email).strip().lower()


def prepare_password(password: str) -> str | None:
    """``password`` under RFC 8265's OpaqueString profile (precis-i18n):
    non-ASCII spaces become U+0020, then Unicode NFC; no case or width
    mapping. ``None`` when the profile disallows it (empty, control
    characters, unassigned code points). What is hashed at registration and
    verified at login, so that ``Jörg`` typed composed or decomposed is the
    same password (NIST SP 800-63B 5.1.1.2 also asks for a normalisation)."""
    try:
        return _OPAQUE_STRING.enforce(password)
    except UnicodeEncodeError:
        return None


def check_password_policy(password: object, min_length: int) -> str:
    """The password to hash: ``password`` prepared by :func:`prepare_password`
    if that is allowed and ``min_length`` to :data:`MAX_PASSWORD_LENGTH`
    characters long; raises :class:`WeakPassword` otherwise (length only, as
    NIST SP 800-63B 5.1.1.2 advises: no composition rules)."""
    prepared = prepare_password(password) if isinstance(password, str) else None
    if not isinstance(password, str):
        message = "password must be a string"
    elif prepared is None and len(password) >= min_length:
        message = "password must not contain control characters or unassigned code points (RFC 8265 OpaqueString)"
    elif prepared is None or len(prepared) < min_length:
        message = f"password must be at least {min_length} characters long"
    elif len(prepared) > MAX_PASSWORD_LENGTH:
        message = f"password must be at most {MAX_PASSWORD_LENGTH} characters long"
    else:
        return prepared
    raise WeakPassword(message, pointer="/password")


class Accounts:
    """The accounts in ``db`` under the rules of ``settings``
    (``password_min_length``, ``registration_enabled`` and the login limits
    ``login_max_failures`` per account and client address,
    ``login_max_failures_per_address``, ``login_window_seconds``).
    Thread-safe; connects on first use."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.throttle = LoginThrottle(
            db, settings.login_max_failures, settings.login_max_failures_per_address, settings.login_window_seconds
        )

    def check_registration_open(self) -> None:
        """Raises :class:`RegistrationClosed` when self-service registration is off."""
        if not self.settings.registration_enabled:
            raise RegistrationClosed("registration is switched off on this server")

    def register(self, email: object, password: object) -> User:
        """Self-service sign-up: a new account with the role ``user``. Raises
        :class:`RegistrationClosed`, then as :meth:`create`."""
        self.check_registration_open()
        return self.create(email, password, ["user"])

    def create(self, email: object, password: object, roles: list[str]) -> User:
        """A new account with ``roles`` (also when registration is off: the
        operator's ``invoicer create-user``). Raises :class:`InvalidEmail`,
        :class:`WeakPassword`, :class:`EmailTaken`, and
        :class:`~invoicer.common.db.DatabaseUnavailable`."""
        address = normalise_email(email)
        accepted = check_password_policy(password, self.settings.password_min_length)
        return users.create_user(self.db, address, hash_password(accepted), roles)

    def authenticate(self, email: str, password: str, address: str | None) -> User:
        """The account if ``password`` is its password. ``email`` and
        ``password`` are normalised as at registration
        (:func:`normalise_email`, :func:`prepare_password`). ``address`` is
        the client's IP address, for the limits of :mod:`.throttle`.

        Raises :class:`LoginThrottled` (with ``retry_after`` seconds) while
        this address has too many recent failures against this account, or
        in all, before the password is even checked; :class:`InvalidCredentials`
        for an unknown e-mail or a wrong password (both take the same Argon2
        verifications, so timing tells them not apart). Both are logged
        with the account's :func:`~.throttle.account_tag` and the address,
        never the e-mail or the password. A hash made with weaker parameters
        than today's, or of a password as typed before normalisation, is
        replaced after a successful login.
        """
        account = login_identity(email)
        wait = self.throttle.retry_after(account, address)
        if wait:
            log.warning(
                "login refused: too many failures",
                extra={"account": account_tag(account), "client_address": address, "retry_after": wait},
            )
            raise LoginThrottled("too many failed logins; try again later", retry_after=wait)
        try:
            user = users.find_user(self.db, normalise_email(email))
        except InvalidEmail:
            user = None
        stored = user.password_hash if user else None
        prepared = prepare_password(password)
        matched = verify_password(stored, password if prepared is None else prepared)
        legacy = False
        if not matched and prepared is not None and prepared != password:
            # A hash made before passwords were normalised holds the password
            # as typed then; spent whether or not the account exists.
            matched = legacy = verify_password(stored, password)
        if not matched or user is None:
            self.throttle.record_failure(account, address)
            log.warning("login failed", extra={"account": account_tag(account), "client_address": address})
            raise InvalidCredentials("wrong e-mail or password")
        self.throttle.record_success(account, address)
        if prepared is not None and (legacy or needs_rehash(user.password_hash)):
            users.update_password_hash(self.db, user.id, hash_password(prepared))
        return user
