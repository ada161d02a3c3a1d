"""Keys derived from SECRET_KEY, one per purpose, with rotation through SECRET_KEY_FALLBACKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Signer:
    """HMAC-SHA256 under one purpose; signs with the newest key, verifies with every key."""

    keys: tuple[bytes, ...]

    @classmethod
    def for_purpose(cls, secrets: Sequence[str | bytes], purpose: str) -> Signer:
        # One derived key per purpose, so a MAC made for CSRF never verifies as anything else.
        derived = tuple(
            hmac.new(
                s.encode() if isinstance(s, str) else s, b"bastion:" + purpose.encode(), "sha256"
            ).digest()
            for s in secrets
            if s
        )
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
