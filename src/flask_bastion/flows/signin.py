"""The one sign-in pipeline, for both client kinds.

Every way in (a password, a fresh registration, the token grant; later a code, a passkey or an
OpenID provider) first proves who the user is, then hands the user here. The pipeline runs the
gates every sign-in must pass, then the stages that may still stand between the user and a
session, and only then opens one:

- ``browser``: a server-side session whose secret travels in the HttpOnly cookie;
- ``app``: an app session with its first access token and refresh token.

A stage that needs the user to do something first (confirm an email, enter a code, a second
factor) answers :class:`Pending` instead of :class:`SignedIn`. No HTTP here: the browser and
token views hand the result to their transport.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .. import sessions
from ..errors import AccountDisabled
from ..models import AuthSession, User
from . import mfa
from .context import FlowContext
from .tokens import IssuedTokens, open_app_session

ClientKind = Literal["browser", "app"]
# How the user proved who they are. A registration's own first session is not a return visit,
# so it leaves the trackable fields alone.
Method = Literal["password", "registration", "code", "passkey"]
EMAIL_UNCONFIRMED = "email_unconfirmed"
SECOND_FACTOR = "mfa"
# Ways in that are already two factors (a user-verified passkey: the device held, and the PIN
# or biometric that unlocked it) or that start an account (no second factor to ask for yet).
SKIPS_SECOND_FACTOR: frozenset[str] = frozenset({"passkey", "registration"})


@dataclass(frozen=True)
class SignedIn:
    """A new session is open. The secret of a browser session (for its cookie) or the app's
    token pair are shown to the client once, and never again."""

    user: User
    session: AuthSession
    kind: ClientKind
    session_token: str | None = None  # browser
    tokens: IssuedTokens | None = None  # app


@dataclass(frozen=True)
class Pending:
    """The credentials were right, but the user has a step to take before a session opens."""

    user: User
    step: str


@dataclass(frozen=True)
class Attempt:
    """What the stages know of the sign-in under way."""

    kind: ClientKind
    method: Method
    second_factor: bool = False  # a second factor was verified for this sign-in already


SignInResult = SignedIn | Pending
Stage = Callable[[FlowContext, User, Attempt], Pending | None]


def email_confirmation(ctx: FlowContext, user: User, attempt: Attempt) -> Pending | None:
    """With ``BASTION_EMAIL_CONFIRMATION=required``, an address nobody proved is not yet a way
    in: whoever registered with someone else's email cannot sign in as them."""
    if ctx.settings.email_confirmation == "required" and user.confirmed_at is None:
        return Pending(user, EMAIL_UNCONFIRMED)
    return None


def second_factor(ctx: FlowContext, user: User, attempt: Attempt) -> Pending | None:
    """A user with a second factor is not signed in by a password or a code alone, on any
    path (browser, app, form): a stolen password must not be enough."""
    if attempt.second_factor or attempt.method in SKIPS_SECOND_FACTOR:
        return None
    if mfa.has_second_factor(ctx, user):
        return Pending(user, SECOND_FACTOR)
    return None


# The steps that may stand between verified credentials and a session, in order.
STAGES: tuple[Stage, ...] = (email_confirmation, second_factor)


def track(ctx: FlowContext, user: User) -> None:
    """Trackable: the previous sign-in moves to ``last_*``, this one becomes ``current_*``."""
    user.last_login_at = user.current_login_at or ctx.now
    user.last_login_ip = user.current_login_ip or ctx.client.ip
    user.current_login_at = ctx.now
    user.current_login_ip = ctx.client.ip
    user.login_count = (user.login_count or 0) + 1


def sign_in(
    ctx: FlowContext,
    user: User,
    *,
    kind: ClientKind,
    method: Method,
    remember: bool = False,
    replacing: str | None = None,
    second_factor: bool = False,
) -> SignInResult:
    """Sign in ``user``, whose credentials were just verified, as a ``kind`` client.

    ``replacing`` is the session token the browser held before: it ends, and the new session
    gets a new id, so a session id planted before sign-in (fixation) is useless.
    ``second_factor`` says the user also passed a second factor in this sign-in.
    """
    if not user.active:
        raise AccountDisabled()
    attempt = Attempt(kind, method, second_factor)
    for stage in STAGES:
        pending = stage(ctx, user, attempt)
        if pending is not None:
            return pending
    if method != "registration":
        track(ctx, user)
    if kind == "app":
        issued, record = open_app_session(ctx, user)
        return SignedIn(user, record, kind, tokens=issued)
    if replacing:
        sessions.revoke_token(ctx.db, replacing)
    opened = sessions.open_session(
        ctx.db,
        user_id=user.id,
        kind=sessions.BROWSER_KIND,
        remember=remember,
        ip=ctx.client.ip,
        user_agent=ctx.client.user_agent,
        settings=ctx.settings,
        now=ctx.now,
    )
    return SignedIn(user, opened.record, kind, session_token=opened.token)


def sign_out(ctx: FlowContext, *, session_id: str | None = None, token: str | None = None) -> None:
    """End a session, known by its id or by its raw token; ending an absent one is no error."""
    if session_id is not None:
        sessions.revoke(ctx.db, session_id)
    elif token:
        sessions.revoke_token(ctx.db, token)
