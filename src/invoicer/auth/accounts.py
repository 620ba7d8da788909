"""Accounts and logins, without HTTP: the rules the auth service's routes and
the ``invoicer create-user`` command share.

Every refusal is a :class:`~invoicer.common.errors.DomainError`; the web
layer turns it into the JSON error body (:mod:`invoicer.common.web`), the CLI
prints its message. Nothing here imports Flask.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

from precis_i18n import get_profile

from ..common.account_links import absolute_link, mail_link, new_token, token_hash
from ..common.addresses import InvalidAddress, normalise_address
from ..common.config import Settings
from ..common.db import Cursor, Database
from ..common.errors import Conflict, InvalidInput, NotAuthenticated, NotPermitted, RateLimited
from ..common.logging import get_logger
from . import db as users
from .db import EmailTaken, Session, User
from .passwords import hash_password, needs_rehash, verify_password
from .throttle import LoginThrottle, RequestLimit, account_tag, request_keys

__all__ = [
    "RESET_PATH",
    "VERIFY_PATH",
    "Accounts",
    "AlreadyVerified",
    "EmailTaken",
    "InvalidCredentials",
    "InvalidEmail",
    "InvalidLinkToken",
    "LoginThrottled",
    "RegistrationClosed",
    "RequestsThrottled",
    "SessionEnded",
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


class InvalidLinkToken(InvalidInput):
    """The token of a mailed link is unknown, used already or expired (pointer ``/token``)."""

    code = "invalid_token"


class AlreadyVerified(Conflict):
    """The account's address is verified already; no new link is sent."""

    code = "already_verified"


class RequestsThrottled(RateLimited):
    """Too many password-reset (or verification) mails asked for one address or from one client."""

    code = "too_many_requests"


class SessionEnded(NotAuthenticated):
    """The token's session was signed out, revoked by a password reset, or is past its limit."""

    code = "session_ended"
    scheme = "Bearer"


#: The web app's pages the mailed links open (under ``PUBLIC_URL``).
VERIFY_PATH = "/app/verify-email"
RESET_PATH = "/app/reset-password"


def normalise_email(email: object) -> str:
    """The normalised address (``email-validator``, no DNS lookup: the local
    part in Unicode NFC as RFC 6532 section 3.1 suggests, the domain through
    IDNA/UTS 46, so lower-case; :func:`invoicer.common.addresses.normalise_address`);
    raises :class:`InvalidEmail` if ``email`` is not a string or not an address. Registration, login and ``invoicer
    create-user`` all go through it, so an address typed composed or
    decomposed is the same account."""
    if not isinstance(email, str):
        raise InvalidEmail("email must be a string", pointer="/email", reason="type")
    try:
        return normalise_address(email)
    except InvalidAddress as exc:
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
        self.requests = RequestLimit(db, settings.password_reset_window_seconds)

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
        return users.create_user(self.db, address, hash_password(accepted), roles, then=self._mail_verification)

    # --- e-mail verification (issue 22) ------------------------------------------

    def _mail_link(self, cur: Cursor, user: User, purpose: str, ttl_seconds: int, path: str) -> None:
        """Store a new token of ``purpose`` for ``user`` and mail its link, in ``cur``'s transaction."""
        token, hashed = new_token()
        expires_at = datetime.now(UTC) + timedelta(seconds=ttl_seconds)
        cur.execute(
            "INSERT INTO account_tokens (token_hash, purpose, user_id, email, expires_at) VALUES (%s, %s, %s, %s, %s)",
            (hashed, purpose, user.id, user.email, expires_at),
        )
        mail_link(
            cur,
            kind=purpose,
            recipient=user.email,
            link=absolute_link(self.settings.public_url, path, token),
            expires_at=expires_at,
            aggregate_type="user",
            aggregate_id=user.id,
            actor_id=user.id,
        )

    def _mail_verification(self, cur: Cursor, user: User) -> None:
        self._mail_link(cur, user, "verify_email", self.settings.email_verification_ttl_seconds, VERIFY_PATH)

    def resend_verification(self, user_id: str, address: str | None) -> None:
        """Mail a new verification link to the account ``user_id`` (earlier
        links keep working until they expire). Raises :class:`AlreadyVerified`,
        :class:`InvalidCredentials` for an account that is gone, and
        :class:`RequestsThrottled` past ``PASSWORD_RESET_MAX_PER_ADDRESS``
        mails per window for the account."""
        user = users.get_user(self.db, user_id)
        if user is None:
            raise InvalidCredentials("the account no longer exists")
        if user.email_verified:
            raise AlreadyVerified("your e-mail address is verified already")
        account_key, _ = request_keys("verify", user.email.lower(), address)
        wait = self.requests.take({account_key: self.settings.password_reset_max_per_address})
        if wait:
            raise RequestsThrottled("too many verification mails; try again later", retry_after=wait)
        with self.db.transaction() as cur:
            self._mail_verification(cur, user)

    def verify_email(self, token: object) -> str:
        """Spend a verification ``token`` and mark its account's address
        verified; returns the address. Raises :class:`InvalidLinkToken` for a
        token that is unknown, used, expired, or for an address the account
        no longer has."""
        with self.db.transaction() as cur:
            row = self._spend(cur, token, "verify_email")
            cur.execute(
                "UPDATE users SET email_verified_at = coalesce(email_verified_at, now())"
                " WHERE id = %s AND lower(email) = lower(%s) RETURNING email",
                (row["user_id"], row["email"]),
            )
            verified = cur.fetchone()
            if verified is None:
                raise InvalidLinkToken("this link is for an address the account no longer has", pointer="/token")
        log.info("e-mail verified", extra={"account": account_tag(str(verified["email"]))})
        return str(verified["email"])

    @staticmethod
    def _spend(cur: Cursor, token: object, purpose: str) -> dict[str, object]:
        """Mark ``token`` of ``purpose`` used, once, if it has not expired; its row."""
        if not isinstance(token, str) or not token or len(token) > 200:
            raise InvalidLinkToken("the link's token is missing or malformed", pointer="/token")
        cur.execute(
            "UPDATE account_tokens SET used_at = now() WHERE token_hash = %s AND purpose = %s"
            " AND used_at IS NULL AND expires_at > now() RETURNING user_id, email",
            (token_hash(token), purpose),
        )
        row = cur.fetchone()
        if row is None:
            raise InvalidLinkToken(
                "this link is unknown, was used already or has expired; ask for a new one", pointer="/token"
            )
        return dict(row)

    # --- password reset (issue 22) ----------------------------------------------

    def request_password_reset(self, email: object, address: str | None) -> None:
        """Mail a password-reset link (valid ``PASSWORD_RESET_TTL_SECONDS``,
        single use) if ``email`` is an account's address; answer the same
        either way (no account enumeration). Every request counts against
        ``PASSWORD_RESET_MAX_PER_ADDRESS`` for the address and
        ``PASSWORD_RESET_MAX_PER_CLIENT`` for the client ``address`` within
        ``PASSWORD_RESET_WINDOW_SECONDS``, existing account or not; past
        either, :class:`RequestsThrottled`. Raises :class:`InvalidEmail` for
        what is not an address at all."""
        normalised = normalise_email(email)
        account_key, client_key = request_keys("reset", normalised.lower(), address)
        wait = self.requests.take(
            {
                account_key: self.settings.password_reset_max_per_address,
                client_key: self.settings.password_reset_max_per_client,
            }
        )
        if wait:
            log.warning(
                "password reset refused: too many requests",
                extra={"account": account_tag(normalised), "client_address": address, "retry_after": wait},
            )
            raise RequestsThrottled("too many password-reset requests; try again later", retry_after=wait)
        user = users.find_user(self.db, normalised)
        if user is None:
            log.info("password reset for no account", extra={"account": account_tag(normalised)})
            return
        with self.db.transaction() as cur:
            self._mail_link(cur, user, "password_reset", self.settings.password_reset_ttl_seconds, RESET_PATH)
        log.info("password reset mailed", extra={"account": account_tag(normalised)})

    def reset_password(self, token: object, password: object) -> None:
        """Set a new password with a reset ``token`` (spent, once); ends
        every session of the account (signed-in devices must sign in again)
        and, since the mail reached its owner, marks the address verified.
        Raises :class:`WeakPassword` (checked first, so a weak password does
        not spend the token) and :class:`InvalidLinkToken`."""
        accepted = check_password_policy(password, self.settings.password_min_length)
        hashed = hash_password(accepted)
        with self.db.transaction() as cur:
            row = self._spend(cur, token, "password_reset")
            cur.execute(
                "UPDATE users SET password_hash = %s,"
                " email_verified_at = CASE WHEN lower(email) = lower(%s)"
                " THEN coalesce(email_verified_at, now()) ELSE email_verified_at END WHERE id = %s",
                (hashed, row["email"], row["user_id"]),
            )
            users.revoke_user_sessions(cur, str(row["user_id"]))
            # Every other reset link of the account dies with this one.
            cur.execute(
                "UPDATE account_tokens SET used_at = now() WHERE user_id = %s AND purpose = 'password_reset'"
                " AND used_at IS NULL",
                (row["user_id"],),
            )
        log.info("password reset", extra={"account": account_tag(str(row["email"]))})

    # --- sessions (issue 22) ------------------------------------------------------

    def open_session(self, user: User) -> Session:
        """A new session for a sign-in, ending ``SESSION_MAX_SECONDS`` from now at the latest."""
        return users.open_session(self.db, user.id, self.settings.session_max_seconds)

    def renew(self, session_id: str | None, user_id: str) -> tuple[User, Session]:
        """The account and its live session, to issue a fresh token for
        (sliding renewal); raises :class:`SessionEnded` when the session is
        revoked, past its limit, or the token has none, and
        :class:`InvalidCredentials` when the account is gone."""
        session = users.live_session(self.db, session_id, user_id) if session_id else None
        if session is None:
            raise SessionEnded("this session has ended; sign in again")
        user = users.get_user(self.db, user_id)
        if user is None:
            raise InvalidCredentials("the account no longer exists")
        return user, session

    def sign_out(self, session_id: str | None, user_id: str) -> None:
        """End the session ``session_id`` of ``user_id``: its tokens stop working at once."""
        if session_id:
            users.revoke_session(self.db, session_id, user_id)

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
