"""Password hashing with argon2id (RFC 9106 low-memory profile), one hasher for staff and patrons.

Verification never says why it failed, and an unknown account is checked against a dummy hash so that the
time taken does not reveal which user names exist.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

PASSWORD_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_DUMMY_HASH = PASSWORD_HASHER.hash("shoka-dummy-password-for-constant-time")
MINIMUM_PASSWORD_LENGTH = 8


class WeakPassword(Exception):
    """A new password does not meet the password rules; the message says which rule."""


def check_password_rules(password: str) -> None:
    if len(password) < MINIMUM_PASSWORD_LENGTH:
        raise WeakPassword(f"password must have at least {MINIMUM_PASSWORD_LENGTH} characters")
    if password.strip() != password:
        raise WeakPassword("password must not start or end with a space")


def hash_password(password: str) -> str:
    return PASSWORD_HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return PASSWORD_HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return PASSWORD_HASHER.check_needs_rehash(stored_hash)
