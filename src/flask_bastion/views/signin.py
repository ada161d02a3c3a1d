"""Sign a client in or out from any view: the JSON API, the token endpoint and server-rendered
forms share these, so every way in passes the same pipeline, audit and transport."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from flask import request

from ..access import current_principal, is_bearer_request
from ..audit import AuditEvent
from ..errors import EmailUnconfirmed, MfaChallengeInvalid, MfaRequired, SignInPending
from ..flows import accounts, codes, mfa, signin
from ..flows.context import FlowContext
from ..flows.signin import (
    EMAIL_UNCONFIRMED,
    SECOND_FACTOR,
    ClientKind,
    Method,
    Pending,
    SignedIn,
    SignInResult,
)
from ..models import User
from ..state import current_bastion
from ..transports import browser
from .context import failures_recorded, flow_context, record


@dataclass(frozen=True)
class Completed:
    """A sign-in handed to its transport: for a browser, the CSRF token now bound to it."""

    signed_in: SignedIn
    csrf_token: str = ""


def complete(result: SignInResult) -> Completed:
    """Hand a pipeline result to its transport: a browser gets its cookies recorded."""
    if isinstance(result, Pending):
        if result.step == EMAIL_UNCONFIRMED:
            raise EmailUnconfirmed()
        raise SignInPending(extra={"pending": result.step})
    if result.kind == "app":
        return Completed(result)
    assert result.session_token is not None
    state = current_bastion()
    token = browser.start_session(
        state.settings, state.csrf_signer, result.session_token, result.session
    )
    return Completed(result, token)


def password_sign_in(
    kind: ClientKind, *, identity: str, password: str, remember: bool = False
) -> Completed:
    """Check a password, then sign in through the pipeline as a ``kind`` client.

    Raises the flows' errors (``InvalidCredentials``, ``AccountDisabled``, ``RateLimited``), and
    :class:`MfaRequired` when a second factor is due (a challenge is then stored).
    """
    ctx = flow_context()
    with failures_recorded(AuditEvent.LOGIN_FAILED, client=kind):
        user = accounts.authenticate(ctx, identity=identity, password=password)
        result = _pipeline(ctx, user, kind, "password", remember)
    return _completed(ctx, result, kind, "password", remember)


def code_sign_in(
    kind: ClientKind, *, identity: str, code: str, remember: bool = False
) -> Completed:
    """Check an emailed sign-in code, then sign in through the pipeline as a ``kind`` client.

    Raises the flows' errors (``InvalidCode``, ``AccountDisabled``, ``RateLimited``), and
    :class:`MfaRequired` when a second factor is due.
    """
    ctx = flow_context()
    with failures_recorded(AuditEvent.LOGIN_FAILED, client=kind, method="code"):
        user = codes.verify_code(ctx, identity=identity, code=code)
        result = _pipeline(ctx, user, kind, "code", remember)
    return _completed(ctx, result, kind, "code", remember)


def mfa_sign_in(kind: ClientKind, *, token: str | None, code: str) -> Completed:
    """Finish a pending sign-in with a TOTP or recovery code, as the ``kind`` client that began
    it: a new session (a browser's replaces the one it held), as the first factor would have.

    Raises ``MfaChallengeInvalid`` (no such pending sign-in for this client) and
    ``InvalidMfaCode`` (counted; five void the challenge).
    """
    ctx = flow_context()
    if kind == "app":
        # Resolve the signing key before the challenge is written off (see AccessTokens.issue).
        ctx.access_tokens.keys.signing_key(ctx.now)
    with failures_recorded(AuditEvent.MFA_FAILED, client=kind):
        try:
            passed = mfa.finish_challenge(ctx, token=token, kind=kind, code=code)
        except MfaChallengeInvalid:
            if kind == "browser":
                browser.end_mfa_challenge(current_bastion().settings)
            raise
        method = cast(Method, passed.method)
        replacing = replaced_session() if kind == "browser" else None
        result = signin.sign_in(
            ctx,
            passed.user,
            kind=kind,
            method=method,
            remember=passed.remember,
            replacing=replacing,
            second_factor=True,
        )
        done = complete(result)
    user_id, session_id = passed.user.id, done.signed_in.session.id
    if kind == "browser":
        browser.end_mfa_challenge(current_bastion().settings)
    if passed.factor == "recovery_code":
        record(AuditEvent.RECOVERY_CODE_USED, user_id=user_id, session_id=session_id)
    record(
        AuditEvent.LOGIN_SUCCEEDED,
        user_id=user_id,
        session_id=session_id,
        client=kind,
        method=method,
        mfa=True,
    )
    return done


def _pipeline(
    ctx: FlowContext, user: User, kind: ClientKind, method: Method, remember: bool
) -> SignInResult:
    """Run the pipeline; any pending step but the second factor is refused here (inside the
    caller's failure record, as before)."""
    replacing = replaced_session() if kind == "browser" else None
    result = signin.sign_in(
        ctx, user, kind=kind, method=method, remember=remember, replacing=replacing
    )
    if isinstance(result, Pending) and result.step != SECOND_FACTOR:
        complete(result)
    return result


def _completed(
    ctx: FlowContext, result: SignInResult, kind: ClientKind, method: Method, remember: bool
) -> Completed:
    """A signed-in result to its transport; a second factor due becomes a stored challenge and
    :class:`MfaRequired` (a browser gets the challenge's cookie, an app its ``mfa_token``)."""
    if isinstance(result, Pending):
        token = mfa.start_challenge(ctx, result.user, kind=kind, method=method, remember=remember)
        methods = mfa.state(ctx, result.user.id).methods
        if kind == "browser":
            browser.start_mfa_challenge(ctx.settings, token)
            raise MfaRequired(methods=methods)
        raise MfaRequired(methods=methods, mfa_token=token)
    done = complete(result)
    session = done.signed_in.session
    extra = {"method": method} if method != "password" else {}
    record(
        AuditEvent.LOGIN_SUCCEEDED,
        user_id=result.user.id,
        session_id=session.id,
        client=kind,
        **extra,
    )
    return done


def replaced_session() -> str | None:
    """The session token this browser holds, which a new sign-in ends."""
    if is_bearer_request():
        return None
    return browser.session_token(request, current_bastion().settings)


def sign_out() -> None:
    """End the caller's session (bearer or cookie); a cookie caller also gets its cookies reset."""
    state = current_bastion()
    ctx = flow_context()
    # Whose session ends, for the security log (None: the cookie was already dead).
    principal = current_principal()
    session_id = principal.session_id if principal else None
    if is_bearer_request():
        signin.sign_out(ctx, session_id=session_id)
    else:
        signin.sign_out(ctx, token=browser.session_token(request, state.settings))
        browser.end_session(state.settings, state.csrf_signer)
    record(
        AuditEvent.LOGOUT, user_id=principal.user_id if principal else None, session_id=session_id
    )
