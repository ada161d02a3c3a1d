"""Request and response bodies of the auth API, named after their intent."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from .identity import USERNAME_PATTERN, identity_key


class Input(BaseModel):
    """Base of request bodies: unknown fields are refused, so typos never pass silently.

    Strict: each field takes only its own JSON type. Lax parsing turns ``"false"`` or ``0``
    into ``False`` and ``"yes"`` into ``True``, so a client's mistake changes an account.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, strict=True)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


EMAIL_KEY_MAX_LENGTH = 320  # the users.email_key column


def _email(value: str) -> str:
    try:
        # No DNS lookup: deliverability is proven by the confirmation email, not here.
        normalized = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    if len(identity_key(normalized)) > EMAIL_KEY_MAX_LENGTH:  # NFKC can expand a character 18x
        raise ValueError("The email address is too long.")
    return normalized


USERNAME_MAX_LENGTH = 32


def _username(value: str) -> str:
    value = unicodedata.normalize("NFKC", value)
    if len(value) > USERNAME_MAX_LENGTH:  # NFKC can expand one character into up to 18
        raise ValueError(f"Use at most {USERNAME_MAX_LENGTH} characters.")
    if "@" in value:
        raise ValueError("A username cannot contain '@' (it would look like an email address).")
    if not USERNAME_PATTERN.match(value):
        raise ValueError("Use a-z, digits, '.', '_' or '-', starting with a letter or digit.")
    return value


Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]
Username = Annotated[
    str,
    StringConstraints(min_length=3, max_length=USERNAME_MAX_LENGTH, strip_whitespace=True),
    AfterValidator(_username),
]
# The policy's own limits are checked in the flow; this cap only bounds what we parse.
PasswordText = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class RegisterInput(Input):
    email: Email
    username: Username
    password: PasswordText


class LoginInput(Input):
    """Sign in with an email or a username; ``email`` and ``username`` are accepted aliases."""

    identity: Annotated[
        str, StringConstraints(min_length=1, max_length=320, strip_whitespace=True)
    ] = Field(validation_alias=AliasChoices("identity", "email", "username"))
    password: PasswordText
    remember: bool = False


class UserPublic(Output):
    id: int
    email: str
    username: str
    roles: list[str]
    created_at: datetime

    @field_validator("roles", mode="before")
    @classmethod
    def _role_names(cls, value: Any) -> list[str]:
        # A user's Role rows or a principal's set of names: either way, names in a stable order.
        return sorted(getattr(role, "name", role) for role in value)


class SessionPublic(Output):
    id: str
    kind: Literal["browser", "token"]
    created_at: datetime
    expires_at: datetime
    remember: bool


class SessionState(Output):
    """``GET /session``: who is signed in, and the CSRF token to echo."""

    user: UserPublic
    session: SessionPublic
    csrf_token: str


class SignedIn(Output):
    user: UserPublic
    session: SessionPublic
    csrf_token: str


class Registered(Output):
    user: UserPublic
    session: SessionPublic
    csrf_token: str


class ProblemField(Output):
    field: str
    code: str
    message: str


class ProblemDetails(Output):
    """RFC 9457 problem document; ``code`` is stable, ``detail`` is for people."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[ProblemField] | None = None
    request_id: str | None = None
