"""Second-factor primitives: TOTP (RFC 6238) codes, recovery codes, and the sealed TOTP secret.

The rules below are the whole policy, each with its reason; the flows in
:mod:`flask_bastion.flows.mfa` only store and look up what these compute.
"""

from __future__ import annotations

import base64
import hmac
import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

import pyotp

from .signing import Signer, derive_keys

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

# The TOTP parameters every authenticator app supports: 6 digits, 30-second steps, SHA-1.
TOTP_DIGITS = 6
TOTP_INTERVAL = 30
# One step either side: a phone whose clock is up to 30 seconds off still works, and a code
# typed just as it rolls over is not refused. Two steps would triple an attacker's chances.
TOTP_DRIFT_STEPS = 1
# A wrong second factor voids the pending sign-in after this many tries: with +-1 step, each try
# has 3 chances in 10^6, so five leave an attacker 15 in a million per password they know.
MFA_MAX_ATTEMPTS = 5
# Ten codes, shown once: enough for a lost phone and a few sign-ins until a new one is set up.
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/i/l or u: letters that read alike are left out, so a code copied by hand is right.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstvwxyz23456789"
RECOVERY_CODE_LENGTH = 10  # about 49 bits each: not guessable within any rate limit
# The key purposes (derived from SECRET_KEY, see security/signing.py).
TOTP_SECRET_PURPOSE = "totp-secrets"  # noqa: S105 (a key purpose, not a secret)
RECOVERY_HASH_PURPOSE = "recovery-codes"


@dataclass(frozen=True)
class MfaKeys:
    """The keys of the second factor, derived from ``SECRET_KEY`` and its fallbacks.

    TOTP secrets are stored encrypted (Fernet) rather than hashed: the server must read them
    back to compute codes. Encrypting under a key derived from ``SECRET_KEY`` means a database
    dump alone does not give anyone the codes; the fallbacks still decrypt across a rotation.
    """

    fernet_keys: tuple[bytes, ...]
    recovery: Signer

    @classmethod
    def derive(cls, secret_keys: Sequence[str | bytes]) -> MfaKeys:
        keys = derive_keys(secret_keys, TOTP_SECRET_PURPOSE)
        if not keys:
            raise ValueError("no secret key to derive from")
        fernet_keys = tuple(base64.urlsafe_b64encode(key) for key in keys)
        return cls(fernet_keys, Signer.for_purpose(secret_keys, RECOVERY_HASH_PURPOSE))

    @cached_property
    def box(self) -> MultiFernet:
        # Built on first use: cryptography (9 MiB) loads only in a process that reads or
        # writes a TOTP secret, not in every worker at start-up.
        from cryptography.fernet import Fernet, MultiFernet

        return MultiFernet([Fernet(key) for key in self.fernet_keys])

    def seal(self, secret: str) -> str:
        return self.box.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """The TOTP secret, or None when no key we hold sealed it (the secret key was replaced
        without a fallback): the credential is then unusable, never a crash."""
        from cryptography.fernet import InvalidToken

        try:
            return self.box.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None


def new_totp_secret() -> str:
    """160 random bits in base32 (RFC 4226's recommended length), what authenticator apps read."""
    return pyotp.random_base32(length=32)


def otpauth_uri(secret: str, *, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL).provisioning_uri(
        name=account, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The URI as a standalone SVG QR code: its own namespace (a client may show it as an
    ``<img>`` from a data URL) and a white ground with the quiet zone around it, so it scans on
    a dark page too; medium error correction reads well off screens."""
    import segno  # only a TOTP setup draws a code: no served worker holds the encoder until then

    out = io.BytesIO()
    segno.make(uri, error="m").save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        scale=4,
        light="#fff",
        title="Authenticator setup",
    )
    return out.getvalue().decode("ascii").strip()


def time_step(now: datetime) -> int:
    """The TOTP counter at ``now`` (from Bastion's clock, so tests can freeze it)."""
    return int(now.timestamp()) // TOTP_INTERVAL


def matching_step(secret: str, code: str, *, now: datetime, after: int | None) -> int | None:
    """The time step whose code is ``code``, within the drift and later than ``after``.

    ``after`` is the step of the last code accepted: a code (or an older one) is accepted once,
    so a code seen over a shoulder or in a log is useless once used. Every candidate is
    compared, in constant time, so the answer's timing does not say which step nearly matched.
    """
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL)
    current = time_step(now)
    found: int | None = None
    given = code.encode()
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        candidate = totp.generate_otp(step).encode()
        if hmac.compare_digest(candidate, given) and (after is None or step > after):
            found = step
    return found


def new_recovery_codes() -> list[str]:
    """Fresh recovery codes from the OS's CSPRNG, as shown to the user (``abcde-fghjk``)."""
    half = RECOVERY_CODE_LENGTH // 2
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        codes.append(f"{raw[:half]}-{raw[half:]}")
    return codes


def normalize_recovery_code(code: str) -> str:
    """What a person may type for a code: any case, with or without the dash or spaces."""
    return "".join(code.split()).replace("-", "").lower()


def recovery_code_hash(signer: Signer, user_id: int, code: str) -> str:
    """A keyed hash of a recovery code, bound to its user: the table alone gives no code away,
    and a code of one account is no code for another."""
    return signer.sign(f"{user_id}:{normalize_recovery_code(code)}")


def recovery_code_matches(signer: Signer, user_id: int, code: str, stored: str) -> bool:
    """Constant time, under every secret key (a rotation keeps codes working)."""
    return signer.verify(f"{user_id}:{normalize_recovery_code(code)}", stored)


def is_totp_code(code: str) -> bool:
    """Six digits is a TOTP code; anything else is tried as a recovery code."""
    return len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()
