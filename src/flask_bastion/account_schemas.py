"""Request and response bodies of the account lifecycle: confirm, reset, change, codes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from .schemas import Email, Input, Output, PasswordText, UserPublic

# A mailed link token (43 URL-safe characters today); the cap only bounds what we parse.
LinkToken = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Identity = Annotated[str, StringConstraints(min_length=1, max_length=320, strip_whitespace=True)]
SignInCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class EmailInput(Input):
    """``{"email"}``: resend the confirmation, or ask for a password reset."""

    email: Email


class ConfirmInput(Input):
    token: LinkToken


class ResetInput(Input):
    token: LinkToken
    password: PasswordText


class PasswordChangeInput(Input):
    current_password: PasswordText
    new_password: PasswordText


class EmailChangeInput(Input):
    """The new address, and the current password: a borrowed session cannot take the account."""

    email: Email
    password: PasswordText


class CodeRequestInput(Input):
    """An email or a username to mail a sign-in code to."""

    identity: Identity


class CodeVerifyInput(Input):
    identity: Identity
    code: SignInCode
    remember: bool = False


class Accepted(Output):
    """The request was taken; what follows arrives by mail. The same body whether or not an
    account exists."""

    status: Literal[
        "confirmation_sent",
        "reset_sent",
        "code_sent",
        "email_change_sent",
    ]


class Done(Output):
    status: Literal["password_reset", "password_changed"]


class Confirmed(Output):
    user: UserPublic
