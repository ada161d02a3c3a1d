"""Request and response bodies of the second-factor API, named after their intent."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import RootModel, StringConstraints

from .schemas import Input, Output, SignedIn
from .token_schemas import OAuthProblem

# A TOTP code (six digits) or a recovery code (``abcde-fghjk``, any case, spaces allowed).
MfaCodeText = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MfaMethod = Literal["totp", "recovery_code"]


class TotpSetupStarted(Output):
    """A new authenticator secret, not enabled until confirmed with a code from it."""

    secret: str
    otpauth_uri: str
    qr_svg: str


class MfaCodeInput(Input):
    code: MfaCodeText


class RecoveryCodes(Output):
    """Single-use recovery codes, shown this once: only their hashes are kept."""

    recovery_codes: list[str]


class MfaMethods(Output):
    """The ways that can finish a second-factor step, and the recovery codes left."""

    methods: list[MfaMethod]
    recovery_codes_remaining: int


class MfaChallengeStarted(Output):
    """The first factor was right; finish at ``POST /mfa/verify`` with one of ``methods``."""

    mfa_required: Literal[True] = True
    methods: list[MfaMethod]


class SignedInOrMfa(RootModel[SignedIn | MfaChallengeStarted]):
    """A sign-in's 200: signed in, or the first factor passed and a second is due."""


class MfaRequiredProblem(OAuthProblem):
    """401 ``mfa_required`` of the token endpoint: send ``mfa_token`` and a ``code`` next."""

    methods: list[MfaMethod]
    mfa_token: str


class TokenRefused(RootModel[MfaRequiredProblem | OAuthProblem]):
    """A 401 of ``POST /api/token``: a second factor is due, or the credentials were refused."""
