"""CSRF double-submit tokens, signed and bound to the session they were issued for."""

from __future__ import annotations

import secrets

from .signing import Signer
from .tokens import equals


def anonymous_binding(presession_hash: str) -> str:
    """The binding of a token issued before sign-in: the hash of the browser's pre-session
    cookie, so a token from one browser fails in another (and never matches a session's)."""
    return f"anonymous|{presession_hash}"


def issue(signer: Signer, binding: str) -> str:
    """A fresh token ``nonce.mac`` whose MAC covers the session binding and the nonce."""
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{signer.sign(f'{binding}|{nonce}')}"


def is_valid_for(signer: Signer, binding: str, token: str) -> bool:
    """True when ``token`` was issued by us for this binding (a session, or a pre-session)."""
    nonce, _, mac = token.partition(".")
    if not nonce or not mac or len(token) > 200:
        return False
    return signer.verify(f"{binding}|{nonce}", mac)


def check(signer: Signer, binding: str | None, cookie: str | None, submitted: str | None) -> bool:
    """Double-submit: the echoed value must equal the cookie and be signed for this session.

    The equality proves the caller could read our cookie (same origin); the signature stops a
    token planted from a sibling domain, or minted for another session, from being accepted.
    """
    if binding is None or not cookie or not submitted:  # no session, no pre-session: no token
        return False
    return equals(cookie, submitted) and is_valid_for(signer, binding, submitted)
