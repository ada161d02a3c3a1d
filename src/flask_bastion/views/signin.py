"""Sign a client in or out from any view: the JSON API, the token endpoint and server-rendered
forms share these, so every way in passes the same pipeline, audit and transport."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from ..access import current_principal, is_bearer_request
from ..audit import AuditEvent
from ..errors import EmailUnconfirmed, SignInPending
from ..flows import accounts, codes, signin
from ..flows.signin import EMAIL_UNCONFIRMED, ClientKind, Pending, SignedIn, SignInResult
from ..security.devices import DeviceClaim, with_claim
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
    remember_device(result.device)
    return Completed(result, token)


def remember_device(claim: DeviceClaim | None) -> None:
    """Put this sign-in's known-device claim into the browser's cookie, beside the claims it
    holds for other accounts."""
    if claim is None:
        return
    state = current_bastion()
    held = browser.device_claims(request, state.settings, state.device_signer)
    browser.remember_device(state.settings, state.device_signer, with_claim(held, claim))


def password_sign_in(
    kind: ClientKind, *, identity: str, password: str, remember: bool = False
) -> Completed:
    """Check a password, then sign in through the pipeline as a ``kind`` client.

    Raises the flows' errors (``InvalidCredentials``, ``AccountDisabled``, ``RateLimited``).
    """
    ctx = flow_context()
    with failures_recorded(AuditEvent.LOGIN_FAILED, client=kind):
        user = accounts.authenticate(ctx, identity=identity, password=password)
        replacing = replaced_session() if kind == "browser" else None
        result = signin.sign_in(
            ctx, user, kind=kind, method="password", remember=remember, replacing=replacing
        )
        done = complete(result)
    session = done.signed_in.session
    record(AuditEvent.LOGIN_SUCCEEDED, user_id=user.id, session_id=session.id, client=kind)
    return done


def code_sign_in(
    kind: ClientKind, *, identity: str, code: str, remember: bool = False
) -> Completed:
    """Check an emailed sign-in code, then sign in through the pipeline as a ``kind`` client.

    Raises the flows' errors (``InvalidCode``, ``AccountDisabled``, ``RateLimited``).
    """
    ctx = flow_context()
    with failures_recorded(AuditEvent.LOGIN_FAILED, client=kind, method="code"):
        user = codes.verify_code(ctx, identity=identity, code=code)
        replacing = replaced_session() if kind == "browser" else None
        result = signin.sign_in(
            ctx, user, kind=kind, method="code", remember=remember, replacing=replacing
        )
        done = complete(result)
    session = done.signed_in.session
    record(
        AuditEvent.LOGIN_SUCCEEDED,
        user_id=user.id,
        session_id=session.id,
        client=kind,
        method="code",
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
