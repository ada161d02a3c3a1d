"""A WebAuthn authenticator in Python, for API tests that need real signatures without a browser.

It does what a platform authenticator does for a discoverable credential (an ES256 key pair,
``none`` attestation, user presence and verification, a sign counter) and writes the JSON that
``credential.toJSON()`` writes in a browser. The browser tests use Chromium's own authenticator.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64u(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftCredential:
    """One discoverable credential: its id, key, user handle and counter."""

    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def clone(self) -> SoftCredential:
        """A copy of the credential (same key), as a cloned authenticator would hold it."""
        return SoftCredential(
            self.credential_id, self.key, self.rp_id, self.user_handle, self.sign_count
        )


@dataclass
class SoftAuthenticator:
    """Creates credentials and signs assertions like ``navigator.credentials`` would."""

    origin: str
    user_verified: bool = True
    credentials: list[SoftCredential] = field(default_factory=list)

    def _client_data(self, kind: str, challenge: str, origin: str | None = None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": False,
            }
        ).encode()

    def _flags(self) -> int:
        return UP | (UV if self.user_verified else 0)

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        reuse: SoftCredential | None = None,
    ) -> dict[str, Any]:
        """The ``RegistrationResponseJSON`` of a new credential for ``options`` (or of
        ``reuse``, attested again, as a misbehaving authenticator would)."""
        rp_id = options["rp"]["id"]
        credential = reuse or SoftCredential(
            credential_id=secrets.token_bytes(16),
            key=ec.generate_private_key(ec.SECP256R1()),
            rp_id=rp_id,
            user_handle=unb64u(options["user"]["id"]),
        )
        if reuse is None:
            self.credentials.append(credential)
        attested = (
            bytes(16)  # AAGUID: none
            + len(credential.credential_id).to_bytes(2, "big")
            + credential.credential_id
            + credential.cose_public_key()
        )
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags() | AT])
            + credential.sign_count.to_bytes(4, "big")
            + attested
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": b64u(credential.credential_id),
            "rawId": b64u(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64u(client_data),
                "attestationObject": b64u(attestation),
                "transports": ["internal"],
            },
        }

    def get(
        self,
        options: dict[str, Any],
        credential: SoftCredential | None = None,
        *,
        origin: str | None = None,
        advance: int = 1,
    ) -> dict[str, Any]:
        """The ``AuthenticationResponseJSON`` of ``credential`` (the newest by default) for
        ``options``; its counter moves by ``advance`` first (0: a counter that stands still)."""
        credential = credential or self.credentials[-1]
        credential.sign_count += advance
        auth_data = (
            hashlib.sha256(options["rpId"].encode()).digest()
            + bytes([self._flags()])
            + credential.sign_count.to_bytes(4, "big")
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = credential.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64u(credential.credential_id),
            "rawId": b64u(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64u(client_data),
                "authenticatorData": b64u(auth_data),
                "signature": b64u(signature),
                "userHandle": b64u(credential.user_handle),
            },
        }
