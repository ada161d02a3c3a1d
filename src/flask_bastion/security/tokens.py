"""Opaque random tokens and the hashes the server keeps of them."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# 32 bytes = 256 bits of entropy; the brief's floor is 128.
TOKEN_BYTES = 32


def new_token(nbytes: int = TOKEN_BYTES) -> str:
    """A URL-safe random secret."""
    return secrets.token_urlsafe(nbytes)


def new_public_id() -> str:
    """A random identifier that is safe to show (it grants nothing on its own)."""
    return secrets.token_hex(12)


def token_hash(token: str) -> str:
    """sha256 of a high-entropy token: enough to look it up, useless to whoever reads the table."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def equals(a: str, b: str) -> bool:
    """Constant-time comparison, so response timing does not leak how much of a secret matched."""
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )
