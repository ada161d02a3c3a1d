"""How an app client carries its credentials: an access token in ``Authorization: Bearer``.

Only the header is read here; verifying the token is the key store's job
(:class:`~flask_bastion.signing_keys.AccessTokens`).
"""

from __future__ import annotations

from flask import Request


def bearer_credentials(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, '' for a malformed one, else None."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()
