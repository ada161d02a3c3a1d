"""Passkeys (WebAuthn) as pure functions over py_webauthn: the relying party, the ceremony's
challenge and its binding to one browser, and the checks an assertion must pass.

Every rule of the passkey feature lives here, each with its reason; the flow
(:mod:`flask_bastion.flows.passkeys`) only stores and looks up.
"""

from __future__ import annotations

import binascii
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from ..config import Settings
from ..errors import PasskeyInvalid, PasskeySignInFailed
from .tokens import equals, token_hash

# The bound on a ceremony: long enough to find a security key, short enough that a
# captured options page is soon worthless.
CHALLENGE_LIFETIME = timedelta(minutes=5)
# What the browser is told (a hint, in milliseconds): the same five minutes.
TIMEOUT_MS = int(CHALLENGE_LIFETIME.total_seconds() * 1000)
# Domain separation: the challenge is a hash of the cookie's handle under its own label, so
# neither the stored handle hash nor the public challenge gives the other away.
_CHALLENGE_LABEL = b"bastion-passkey-challenge:"
# A user handle of 32 random bytes (the spec allows 64): unlinkable to the account's id.
USER_HANDLE_BYTES = 32
# WebAuthn caps a credential id at 1023 bytes; anything longer is not worth a query.
MAX_CREDENTIAL_ID_BYTES = 1023
# py_webauthn (with pyOpenSSL, pyasn1 and cbor2 behind it) is imported by the functions that
# run a ceremony, not with this module: every served worker would otherwise hold its 5 MiB for
# the few requests that register or sign in with a passkey.


@cache
def _known_transports() -> frozenset[str]:
    from webauthn.helpers.structs import AuthenticatorTransport

    return frozenset(t.value for t in AuthenticatorTransport)


class Purpose(StrEnum):
    """What a ceremony may do; a challenge of one purpose is no challenge for the other."""

    REGISTER = "register"
    LOGIN = "login"


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys are for: ``id`` (a host name), the exact ``origin`` pages run on, and
    the ``name`` an authenticator shows."""

    id: str
    origin: str
    name: str


def relying_party(settings: Settings) -> RelyingParty:
    """The relying party of ``PUBLIC_URL``: its host name is the RP id (a passkey works on that
    host and its subdomains only), its origin (with the port) the one origin accepted."""
    return RelyingParty(
        id=urlsplit(settings.public_url).hostname or "localhost",
        origin=settings.public_origin,
        name=settings.app_name,
    )


def new_handle() -> str:
    """The random secret of one ceremony, kept in the browser's HttpOnly cookie (256 bits)."""
    return secrets.token_urlsafe(32)


def handle_hash(handle: str) -> str:
    """What the table keeps of a handle: its sha256, enough to find the row, useless alone."""
    return token_hash(handle)


def challenge_for(handle: str) -> bytes:
    """The ceremony's challenge, derived from the handle: random because the handle is, and
    never stored, so only the browser holding the cookie can complete the ceremony."""
    return hashlib.sha256(_CHALLENGE_LABEL + handle.encode()).digest()


def new_user_handle() -> bytes:
    """A new account's WebAuthn user handle: random, never the numeric id or the email."""
    return secrets.token_bytes(USER_HANDLE_BYTES)


def creation_options(
    rp: RelyingParty,
    *,
    user_handle: bytes,
    user_name: str,
    display_name: str,
    challenge: bytes,
    existing: list[tuple[bytes, list[str]]],
) -> str:
    """The JSON of ``PublicKeyCredentialCreationOptions`` for a new passkey.

    A discoverable credential (resident key required) so sign-in needs no identity; user
    verification required so the passkey alone is a second factor too; the user's existing
    passkeys excluded so one authenticator is not registered twice.
    """
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        AuthenticatorTransport,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_name=user_name,
        user_id=user_handle,
        user_display_name=display_name,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(
                id=credential_id,
                transports=[AuthenticatorTransport(t) for t in transports] or None,
            )
            for credential_id, transports in existing
        ],
    )
    return options_to_json(options)


def request_options(rp: RelyingParty, *, challenge: bytes) -> str:
    """The JSON of ``PublicKeyCredentialRequestOptions`` for a sign-in: no allowed credentials
    (the authenticator offers its discoverable ones, so nobody says who they are first) and
    user verification required."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement

    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=[],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options)


@dataclass(frozen=True)
class NewCredential:
    """What a verified registration leaves to store."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: list[str]


def verify_registration(
    rp: RelyingParty, credential: dict[str, Any], *, challenge: bytes
) -> NewCredential:
    """Check a ``RegistrationResponseJSON`` against this ceremony, or raise ``PasskeyInvalid``.

    The library parses bytes the client chose (JSON, base64url, CBOR, COSE keys, certificates),
    and each parser has its own exceptions: any failure there is the client's bad credential,
    never our 500.
    """
    from webauthn import verify_registration_response

    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except Exception:  # untrusted input through many parsers: see the docstring
        raise PasskeyInvalid() from None
    if len(verified.credential_id) > MAX_CREDENTIAL_ID_BYTES:
        raise PasskeyInvalid()
    return NewCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=_transports(credential),
    )


def _transports(credential: dict[str, Any]) -> list[str]:
    """The transports the browser reported: only hints for ``excludeCredentials``, so unknown
    or malformed values are dropped rather than refused."""
    response = credential.get("response")
    found = response.get("transports") if isinstance(response, dict) else None
    if not isinstance(found, list):
        return []
    return sorted({t for t in found if isinstance(t, str) and t in _known_transports()})


def _bytes_field(value: Any) -> bytes | None:
    if not isinstance(value, str) or not value or len(value) > 2 * MAX_CREDENTIAL_ID_BYTES:
        return None
    from webauthn import base64url_to_bytes

    try:
        return base64url_to_bytes(value)
    except (binascii.Error, ValueError):
        return None


def credential_id_of(credential: dict[str, Any]) -> bytes | None:
    """The credential id an assertion names (its ``rawId``), or None when it names none."""
    return _bytes_field(credential.get("rawId"))


def user_handle_of(credential: dict[str, Any]) -> bytes | None:
    """The user handle a discoverable credential returns with its assertion, if any."""
    response = credential.get("response")
    return _bytes_field(response.get("userHandle")) if isinstance(response, dict) else None


def same_user_handle(stored: bytes, presented: bytes | None) -> bool:
    """An assertion that names a user handle must name the credential's own (constant time);
    one that names none is judged by its signature alone."""
    return presented is None or equals(stored.hex(), presented.hex())


def verify_assertion(
    rp: RelyingParty, credential: dict[str, Any], *, challenge: bytes, public_key: bytes
) -> int:
    """Check an ``AuthenticationResponseJSON`` (challenge, origin, RP id, user presence and
    verification, signature); its sign counter, or ``PasskeySignInFailed``.

    The counter is judged afterwards by :func:`is_cloned`, so only a correctly signed
    assertion can ever be evidence of a clone (a forged one must not raise that alarm).
    """
    from webauthn import verify_authentication_response

    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=public_key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except Exception:  # untrusted input through many parsers, as in verify_registration
        raise PasskeySignInFailed() from None
    return verified.new_sign_count


def is_cloned(stored: int, presented: int) -> bool:
    """The WebAuthn counter rule: when either count is non-zero, a genuine authenticator's
    count only grows; one that does not is a copy of the credential (or the original after a
    copy signed)."""
    return (stored > 0 or presented > 0) and presented <= stored
