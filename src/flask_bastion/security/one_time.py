"""One-time secrets mailed to a user: link tokens and six-digit sign-in codes.

The server keeps only a hash of each, an expiry, a purpose and the user (the table is
``account_tokens``); the rules below are the whole policy, each with its reason.
"""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum

from .signing import Signer
from .tokens import equals, new_token, token_hash


class Purpose(StrEnum):
    """What a token may do; a token found under another purpose is no token at all."""

    CONFIRM = "confirm"
    RESET = "reset"
    EMAIL_CHANGE = "email_change"
    SIGNIN_CODE = "signin_code"


# Six digits: what people can read from one device and type on another.
CODE_DIGITS = 6
# A code has 10^6 values: five wrong tries leave an attacker a 5-in-a-million chance per code,
# and a new code needs a new mail (rate limited per address).
CODE_MAX_ATTEMPTS = 5
# The signer purpose of the code hash (a key derived from SECRET_KEY, see signers.py).
CODE_HASH_PURPOSE = "signin-codes"


def new_link_token() -> str:
    """A 256-bit URL-safe secret for a mailed link: unguessable, so a plain sha256 suffices."""
    return new_token()


def link_token_hash(token: str) -> str:
    """What the table keeps of a link token: its sha256, enough to find it, useless to a reader."""
    return token_hash(token)


def new_code() -> str:
    """Six digits from the OS's CSPRNG, zero-padded (``random`` is predictable)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(signer: Signer, user_id: int, code: str) -> str:
    """A keyed hash (HMAC under a key derived from SECRET_KEY) of a code bound to its user.

    A plain hash of six digits is undone by hashing all 10^6 of them; without the key the
    table does not give the code away. Binding the user id means a code is only ever a code
    for that account.
    """
    return signer.sign(f"{user_id}:{code}")


def code_matches(signer: Signer, user_id: int, code: str, stored: str) -> bool:
    """Whether ``code`` is the one whose hash is ``stored``, under any of the secret keys
    (``SECRET_KEY_FALLBACKS`` keep codes in flight valid across a rotation); constant time."""
    return signer.verify(f"{user_id}:{code}", stored)


def dummy_code_check(signer: Signer, code: str) -> None:
    """Spend what a real check spends, for an unknown identity: timing must not tell them apart."""
    signer.verify(f"0:{code}", "0" * 43)


def password_fingerprint(password_hash: str) -> str:
    """What a reset token remembers of the password it may replace: when the password changes
    by any route (reset, change, an admin, a rehash), the fingerprint no longer matches and
    every reset link mailed before dies with it."""
    return hashlib.sha256(b"bastion-reset:" + password_hash.encode()).hexdigest()


def same_fingerprint(a: str | None, b: str) -> bool:
    return a is not None and equals(a, b)
