"""Request and response bodies of the token and devices API, named after their intent."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AliasChoices, ConfigDict, Field, RootModel, StringConstraints

from .schemas import Input, Output, PasswordText, ProblemDetails

OpaqueToken = Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class OAuthInput(Input):
    """Base of the token endpoints' bodies, which OAuth client libraries send.

    RFC 6749 3.2: the server ignores parameters it does not recognise (``client_id``,
    ``scope``, ...), so these bodies ignore unknown fields where other inputs refuse them.
    """

    model_config = ConfigDict(extra="ignore", json_schema_mode_override="validation")


class GrantType(OAuthInput):
    """Which grant a ``POST /api/token`` asks for; without one, the password grant."""

    grant_type: Annotated[str, StringConstraints(max_length=64)] = "password"


class TokenRequest(OAuthInput):
    """``POST /api/token``: the OAuth 2.0 password grant, as JSON or as a form.

    ``identity`` is an email or a username; ``email`` and ``username`` are accepted aliases
    (the OAuth form sends ``username``).
    """

    grant_type: Literal["password"] = "password"
    identity: Annotated[
        str, StringConstraints(min_length=1, max_length=320, strip_whitespace=True)
    ] = Field(validation_alias=AliasChoices("identity", "email", "username"))
    password: PasswordText


class CodeTokenRequest(OAuthInput):
    """``POST /api/token`` with an emailed sign-in code in place of the password (JSON or form).

    ``identity`` is an email or a username, as for the password grant.
    """

    grant_type: Literal["password"] = "password"
    identity: Annotated[
        str, StringConstraints(min_length=1, max_length=320, strip_whitespace=True)
    ] = Field(validation_alias=AliasChoices("identity", "email", "username"))
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class RefreshTokenGrant(OAuthInput):
    """``POST /api/token`` with ``grant_type=refresh_token`` (RFC 6749 6), as ``/token/refresh``."""

    grant_type: Literal["refresh_token"]
    refresh_token: OpaqueToken


class MfaTokenRequest(OAuthInput):
    """``POST /api/token`` finishing a sign-in that answered ``mfa_required``: its
    ``mfa_token`` and a TOTP or recovery code."""

    grant_type: Literal["password"] = "password"
    mfa_token: OpaqueToken
    code: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class TokenGrant(RootModel[TokenRequest | CodeTokenRequest | MfaTokenRequest | RefreshTokenGrant]):
    """The body of ``POST /api/token``: one of the grants it accepts, as JSON or as a form."""

    model_config = ConfigDict(json_schema_mode_override="validation")


class RefreshInput(OAuthInput):
    refresh_token: OpaqueToken


class RevokeInput(OAuthInput):
    """RFC 7009: the token to revoke, a refresh token or an access token."""

    token: OpaqueToken
    token_type_hint: Literal["refresh_token", "access_token"] | None = None


class TokenPair(Output):
    """A short-lived access token (a JWT) and the refresh token that renews it, once."""

    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int


class OAuthProblem(ProblemDetails):
    """A token endpoint's error: problem+json with the RFC 6749 5.2 members beside it."""

    error: str
    error_description: str


class DeviceSession(Output):
    """One signed-in device: a browser's cookie session or an app's token session."""

    id: str
    kind: Literal["browser", "token"]
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip: str
    user_agent: str
    current: bool


class SessionList(Output):
    sessions: list[DeviceSession]


class SessionsEnded(Output):
    ended: int


class ReauthInput(Input):
    password: PasswordText


class Reauthenticated(Output):
    """The sign-in is recent again until ``reauth_until``."""

    authenticated_at: datetime
    reauth_until: datetime
