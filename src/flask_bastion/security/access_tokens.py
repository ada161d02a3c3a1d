"""Access tokens: short-lived JWTs (RFC 9068 profile) signed with Ed25519, and their checks.

Pure functions over explicit keys and an explicit ``now``; the key store and the clock live
elsewhere. Every refusal is the same :class:`~flask_bastion.errors.InvalidToken`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import InvalidToken

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

# PyJWT, and the cryptography it loads (9 MiB in every process), are imported by the functions
# that sign or verify: a worker serving only browsers, whose sessions are cookies, never does.

# Exactly one algorithm: a verifier that lets the token pick its algorithm can be fooled
# into "none" or into HMAC keyed with our public key.
ALGORITHM = "EdDSA"
# RFC 9068's type: a refresh, reset or ID token (other "typ") is never taken as an access token.
JWT_TYPE = "at+jwt"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "sid", "exp", "iat", "jti")
# Header parameters that point at or carry a key: honouring them lets the sender pick the key.
KEY_BEARING_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit"})
# Clocks of our own instances drift a little; a token is never early or "from the future" by more.
CLOCK_SKEW = 60
# A real token is ~400 bytes; refusing huge ones before parsing bounds the work per request.
MAX_TOKEN_LENGTH = 4096

_DECODE_OPTIONS: Any = {
    "require": list(REQUIRED_CLAIMS),
    # Time is judged against Bastion's one clock below, not PyJWT's own.
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
}


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """The claims Bastion relies on, once the token has passed every check."""

    subject: str
    session_id: str
    expires_at: int
    issued_at: int
    token_id: str


def issue(
    *,
    private_key: Ed25519PrivateKey,
    kid: str,
    issuer: str,
    audience: str,
    subject: str,
    session_id: str,
    lifetime: int,
    now: datetime,
) -> str:
    """Sign an access token for ``subject`` (a stable user id) in session ``session_id``."""
    import jwt

    issued_at = int(now.timestamp())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "sid": session_id,
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(
        claims, private_key, algorithm=ALGORITHM, headers={"kid": kid, "typ": JWT_TYPE}
    )


def verify(
    token: str,
    *,
    key_for: Callable[[str], Ed25519PublicKey | None],
    issuer: str,
    audience: str,
    now: datetime,
    max_lifetime: int | None = None,
) -> AccessClaims:
    """The claims of a valid access token; :class:`InvalidToken` for anything else.

    ``max_lifetime`` caps ``exp - iat``: a token we would never have issued (a key that leaked
    into a tool minting year-long tokens) is refused even though its signature holds.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken()
    import jwt

    try:
        header = jwt.get_unverified_header(token)
        if header.get("typ") != JWT_TYPE or header.get("alg") != ALGORITHM:
            raise InvalidToken()
        if KEY_BEARING_HEADERS.intersection(header):
            raise InvalidToken()
        kid = header.get("kid")
        key = key_for(kid) if isinstance(kid, str) and kid else None
        if key is None:  # only keys we published ourselves verify anything
            raise InvalidToken()
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            options=_DECODE_OPTIONS,
        )
    except jwt.PyJWTError:
        raise InvalidToken() from None
    return _checked(claims, now, audience=audience, max_lifetime=max_lifetime)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked(
    claims: dict[str, Any], now: datetime, *, audience: str, max_lifetime: int | None
) -> AccessClaims:
    exp, iat, nbf = claims["exp"], claims["iat"], claims.get("nbf", claims["iat"])
    sub, sid, jti = claims["sub"], claims["sid"], claims["jti"]
    # PyJWT accepts a list that contains our audience; a token meant for several resource
    # servers can be replayed by any of them, so ours must name us alone.
    if claims["aud"] != audience or not isinstance(claims["aud"], str):
        raise InvalidToken()
    if not all(_is_int(v) for v in (exp, iat, nbf)):
        raise InvalidToken()
    if not all(isinstance(v, str) and v for v in (sub, sid, jti)):
        raise InvalidToken()
    if exp <= iat or (max_lifetime is not None and exp - iat > max_lifetime):
        raise InvalidToken()
    timestamp = now.timestamp()
    if timestamp >= exp or iat > timestamp + CLOCK_SKEW or nbf > timestamp + CLOCK_SKEW:
        raise InvalidToken()
    return AccessClaims(subject=sub, session_id=sid, expires_at=exp, issued_at=iat, token_id=jti)
