"""Password hashing (Argon2id) and the password policy."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import FieldError


class Passwords:
    """Argon2id hashing with a dummy verification for accounts that do not exist."""

    def __init__(self, *, time_cost: int, memory_cost: int, parallelism: int) -> None:
        self.hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )
        self._dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        return self.hasher.hash(_normalise(password))

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, _normalise(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)

    def verify_dummy(self, password: str) -> None:
        """Spend one real verification, so an unknown account costs what a known one does."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash("bastion-dummy-password")
        self.verify(self._dummy_hash, password)


def _normalise(password: str) -> str:
    # NFKC so the same password typed on two keyboards (composed vs decomposed) still matches.
    return unicodedata.normalize("NFKC", password)


@cache
def common_passwords(top: int) -> frozenset[str]:
    """The ``top`` most common passwords of zxcvbn's leaked-password list, lower-cased."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"][:top])


def policy_errors(
    password: str, *, min_length: int, max_length: int, common_top: int, personal: Iterable[str]
) -> list[FieldError]:
    """Why a new password is refused; empty when it is acceptable."""
    length = len(_normalise(password))
    if length < min_length:
        return [FieldError("password", "too_short", f"Use at least {min_length} characters.")]
    if length > max_length:  # checked before hashing: a huge input must not buy CPU time
        return [FieldError("password", "too_long", f"Use at most {max_length} characters.")]
    lowered = password.lower()
    if lowered in common_passwords(common_top):
        return [
            FieldError(
                "password", "too_common", "This password is among the most common; choose another."
            )
        ]
    if any(p and lowered == p.lower() for p in personal):
        return [
            FieldError(
                "password", "too_personal", "The password must not be your email or username."
            )
        ]
    return []
