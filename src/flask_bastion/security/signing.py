"""Keys derived from SECRET_KEY, one per purpose, with rotation through SECRET_KEY_FALLBACKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def derive_key(secret: str | bytes, purpose: str) -> bytes:
    """The 32-byte key for one purpose: HMAC-SHA256 of ``"bastion:" + purpose`` under ``secret``.

    One key per purpose, so a MAC made for CSRF never verifies as a cursor, and a leaked cursor
    key opens nothing else. The formula is fixed: changing it would void every CSRF token and
    cursor in flight and every signing key stored encrypted under it.
    """
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, b"bastion:" + purpose.encode(), hashlib.sha256).digest()


def derive_keys(secrets: Sequence[str | bytes], purpose: str) -> tuple[bytes, ...]:
    """:func:`derive_key` for each non-empty secret, in order: the current key first."""
    return tuple(derive_key(s, purpose) for s in secrets if s)


@dataclass(frozen=True)
class Signer:
    """HMAC-SHA256 under one purpose; signs with the newest key, verifies with every key."""

    keys: tuple[bytes, ...]

    @classmethod
    def for_purpose(cls, secrets: Sequence[str | bytes], purpose: str) -> Signer:
        """A signer for ``purpose`` from ``SECRET_KEY`` followed by its fallbacks."""
        derived = derive_keys(secrets, purpose)
        if not derived:
            raise ValueError("no secret key to derive from")
        return cls(derived)

    def sign(self, message: str) -> str:
        return _b64(hmac.new(self.keys[0], message.encode(), hashlib.sha256).digest())

    def verify(self, message: str, signature: str) -> bool:
        given = signature.encode("ascii", "replace")
        return any(
            # Constant time: a timing side channel must not reveal a valid MAC byte by byte.
            hmac.compare_digest(
                _b64(hmac.new(key, message.encode(), hashlib.sha256).digest()).encode(), given
            )
            for key in self.keys
        )
