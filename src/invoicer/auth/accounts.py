"""Accounts and logins, without HTTP: the rules the auth service's routes and
the ``invoicer create-user`` command share.

Every refusal is a :class:`~invoicer.common.errors.DomainError`; the web
layer turns it into the JSON error body (:mod:`invoicer.common.web`), the CLI
prints its message. Nothing here imports Flask.
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

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
]

log = get_logger(__name__)

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
    """The normalised address (``email-validator``, no DNS lookup); raises
    :class:`InvalidEmail` if ``email`` is not a string or not an address."""
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


def check_password_policy(password: object, min_length: int) -> str:
    """``password`` if it is a string of ``min_length`` to
    :data:`MAX_PASSWORD_LENGTH` characters; raises :class:`WeakPassword`
    otherwise (length only, as NIST SP 800-63B 5.1.1.2 advises: no
    composition rules)."""
    if not isinstance(password, str):
        message = "password must be a string"
    elif len(password) < min_length:
        message = f"password must be at least {min_length} characters long"
    elif len(password) > MAX_PASSWORD_LENGTH:
        message = f"password must be at most {MAX_PASSWORD_LENGTH} characters long"
    else:
        return password
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
        """The account if ``password`` is its password. ``address`` is the
        client's IP address, for the limits of :mod:`.throttle`.

        Raises :class:`LoginThrottled` (with ``retry_after`` seconds) while
        this address has too many recent failures against this account, or
        in all, before the password is even checked; :class:`InvalidCredentials`
        for an unknown e-mail or a wrong password (both take one Argon2
        verification, so timing tells them not apart). Both are logged
        with the account's :func:`~.throttle.account_tag` and the address,
        never the e-mail or the password. A hash made with weaker parameters
        than today's is replaced after a successful login.
        """
        account = login_identity(email)
        wait = self.throttle.retry_after(account, address)
        if wait:
            log.warning(
                "login refused: too many failures",
                extra={"account": account_tag(account), "client_address": address, "retry_after": wait},
            )
            raise LoginThrottled("too many failed logins; try again later", retry_after=wait)
        user = users.find_user(self.db, email)
        if not verify_password(user.password_hash if user else None, password):
            self.throttle.record_failure(account, address)
            log.warning("login failed", extra={"account": account_tag(account), "client_address": address})
            raise InvalidCredentials("wrong e-mail or password")
        self.throttle.record_success(account, address)
        if needs_rehash(user.password_hash):
            users.update_password_hash(self.db, user.id, hash_password(password))
        return user
