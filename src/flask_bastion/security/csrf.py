"""CSRF double-submit tokens, signed and bound to the session they were issued for."""

from __future__ import annotations

import secrets

from .signing import Signer
from .tokens import equals

ANONYMOUS = "anonymous"


def issue(signer: Signer, binding: str) -> str:
    """A fresh token ``nonce.mac`` whose MAC covers the session binding and the nonce."""
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{signer.sign(f'{binding}|{nonce}')}"


def is_valid_for(signer: Signer, binding: str, token: str) -> bool:
    """True when ``token`` was issued by us for this session (or anonymity) binding."""
    nonce, _, mac = token.partition(".")
    if not nonce or not mac or len(token) > 200:
        return False
    return signer.verify(f"{binding}|{nonce}", mac)


def check(signer: Signer, binding: str, cookie: str | None, submitted: str | None) -> bool:
    """Double-submit: the echoed value must equal the cookie and be signed for this session.

    The equality proves the caller could read our cookie (same origin); the signature stops a
    token planted from a sibling domain, or minted for another session, from being accepted.
    """
    if not cookie or not submitted:
        return False
    return equals(cookie, submitted) and is_valid_for(signer, binding, submitted)
