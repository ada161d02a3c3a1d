"""Request and response bodies of the passkey API, named after their intent.

The WebAuthn options and credentials are the W3C's JSON forms (what
``PublicKeyCredential.parseCreationOptionsFromJSON`` reads and ``credential.toJSON()`` writes),
passed through as they are; the models below document them and bound what is parsed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from .schemas import Input, Output

PasskeyName = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]


class PasskeyRegisterInput(Input):
    """A new passkey: the browser's ``RegistrationResponseJSON`` and a name the user picks."""

    credential: dict[str, Any] = Field(
        description="The RegistrationResponseJSON of navigator.credentials.create() (toJSON())"
    )
    name: PasskeyName


class PasskeyLoginInput(Input):
    """A passkey sign-in: the browser's ``AuthenticationResponseJSON``."""

    credential: dict[str, Any] = Field(
        description="The AuthenticationResponseJSON of navigator.credentials.get() (toJSON())"
    )


class PasskeyPublic(Output):
    """One of your passkeys, as you named it."""

    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


class PasskeyList(Output):
    passkeys: list[PasskeyPublic]


class PasskeyCreationOptions(Output):
    """``PublicKeyCredentialCreationOptionsJSON``: give it to
    ``PublicKeyCredential.parseCreationOptionsFromJSON`` as it is."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    rp: dict[str, str]
    user: dict[str, str]
    challenge: str
    pub_key_cred_params: list[dict[str, Any]] = Field(alias="pubKeyCredParams")
    timeout: int
    exclude_credentials: list[dict[str, Any]] = Field(alias="excludeCredentials")
    authenticator_selection: dict[str, Any] = Field(alias="authenticatorSelection")
    attestation: str


class PasskeyRequestOptions(Output):
    """``PublicKeyCredentialRequestOptionsJSON``: give it to
    ``PublicKeyCredential.parseRequestOptionsFromJSON`` as it is."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    challenge: str
    timeout: int
    rp_id: str = Field(alias="rpId")
    allow_credentials: list[dict[str, Any]] = Field(alias="allowCredentials")
    user_verification: str = Field(alias="userVerification")
