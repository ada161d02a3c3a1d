"""Known-device cookies (OWASP's "device cookie"): which accounts signed in from this browser.

The cookie names up to :data:`MAX_ACCOUNTS` pairs of an account id and a random device id,
signed under their own purpose, so a browser cannot claim to be another account's known device
without having signed in to it. Only a hash of a device id is stored server-side.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from .signing import Signer

PURPOSE = "known-device"
# A browser shared by a household keeps each account's claim; more would only grow the cookie.
MAX_ACCOUNTS = 5
VERSION = "d1"
_ENTRY = re.compile(r"^(\d{1,18}):([A-Za-z0-9_-]{22,64})$")


@dataclass(frozen=True)
class DeviceClaim:
    """This browser says it is ``device_id`` of account ``user_id`` (the signature checked)."""

    user_id: int
    device_id: str


def new_device_id() -> str:
    return secrets.token_urlsafe(16)


def device_hash(device_id: str) -> str:
    # A plain hash suffices: the id is 128 random bits, there is nothing to guess from it.
    return hashlib.sha256(device_id.encode()).hexdigest()


def encode(signer: Signer, claims: Sequence[DeviceClaim]) -> str:
    entries = "~".join(f"{c.user_id}:{c.device_id}" for c in claims[:MAX_ACCOUNTS])
    return f"{VERSION}.{entries}.{signer.sign(VERSION + '.' + entries)}"


def decode(signer: Signer, value: str | None) -> tuple[DeviceClaim, ...]:
    """The claims of a cookie value; none when it is absent, malformed or its MAC is wrong."""
    if not value or len(value) > 2048:
        return ()
    version, _, rest = value.partition(".")
    entries, _, signature = rest.rpartition(".")
    if version != VERSION or not signature or not signer.verify(f"{version}.{entries}", signature):
        return ()
    claims = []
    for entry in entries.split("~")[:MAX_ACCOUNTS]:
        match = _ENTRY.match(entry)
        if match:
            claims.append(DeviceClaim(int(match[1]), match[2]))
    return tuple(claims)


def with_claim(claims: Sequence[DeviceClaim], claim: DeviceClaim) -> tuple[DeviceClaim, ...]:
    """``claim`` first, then the other accounts' claims (the oldest falls off past the cap)."""
    others = [c for c in claims if c.user_id != claim.user_id]
    return (claim, *others)[:MAX_ACCOUNTS]
