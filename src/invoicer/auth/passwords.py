"""Password hashing with Argon2id (RFC 9106) via argon2-cffi.

argon2-cffi's defaults follow RFC 9106's second recommended option
(argon2id, t=3, m=64 MiB, p=4); hashes are PHC strings that carry their own
parameters, so stronger defaults later still verify old hashes.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["hash_password", "needs_rehash", "verify_password"]

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so that a login for a missing
# account takes as long as one with a wrong password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("invoicer-timing-equaliser")


def hash_password(password: str) -> str:
    """The Argon2id PHC string for ``password`` (random salt)."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash``. With ``None`` (unknown
    user) it still spends one verification and returns False."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
