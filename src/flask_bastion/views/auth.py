"""The browser auth API: session, register, login, logout. Thin: parse, call a flow, render."""

from __future__ import annotations

from flask import Blueprint, Response, request

from .. import clock, sessions
from ..access import current_principal, is_bearer_request
from ..account_schemas import Accepted
from ..audit import AuditEvent
from ..errors import MfaRequired, NotAuthenticated
from ..flows import accounts, confirmation, signin
from ..headers import no_store
from ..mfa_schemas import SignedInOrMfa
from ..openapi import responds
from ..schemas import (
    LoginInput,
    ProblemDetails,
    Registered,
    RegisterInput,
    SessionPublic,
    SessionState,
    SignedIn,
    UserPublic,
)
from ..state import current_bastion
from ..throttle import rate_limited
from ..transports import browser
from ..uniform_time import uniform_duration
from ..validation import auth_body, json_body
from .context import flow_context, record
from .mfa import challenge_answer
from .render import render
from .signin import complete, password_sign_in, replaced_session, sign_out

bp = Blueprint("bastion_auth", __name__)
bp.after_request(no_store)


@bp.get("/session")
@responds(200, SessionState, "Signed in")
@responds(401, ProblemDetails, "Not signed in; the body still carries a csrf_token")
def get_session() -> Response:
    """Who is signed in, and the CSRF token to echo in X-XSRF-TOKEN.

    Always sets the XSRF-TOKEN cookie, so an SPA can start here whether or not anyone is signed in.
    """
    state = current_bastion()
    principal = current_principal()
    token = (
        ""
        if is_bearer_request()
        else browser.ensure_csrf_token(request, state.settings, state.csrf_signer)
    )
    if principal is None:
        raise NotAuthenticated(extra={"csrf_token": token})
    return render(
        SessionState(
            user=UserPublic.model_validate(principal),
            session=SessionPublic.model_validate(principal.session),
            csrf_token=token,
        )
    )


@bp.get("/check")
@responds(204, None, "A browser session is signed in")
@responds(401, None, "No live browser session (no body)")
def check_session() -> Response:
    """Whether the session cookie is signed in: 204 or 401, no body (nginx's auth_request).

    Only the cookie is read, with one session lookup: this guards static files at the edge
    on every request, so it does no CSRF, no bearer token and no rendering.
    """
    state = current_bastion()
    cookie = browser.session_token(request, state.settings)
    signed_in = cookie is not None and (
        sessions.lookup(state.db, cookie, settings=state.settings, now=clock.now()) is not None
    )
    return Response(status=204 if signed_in else 401)


@bp.post("/register")
@browser.issues_cookies
@json_body(RegisterInput, max_body=auth_body)
@rate_limited("register_limit_per_ip", scope="register-ip")
@responds(201, Registered, "Account created and signed in (confirmation optional or off)")
@responds(202, Accepted, "Confirmation required: a link was mailed (the same answer if taken)")
@responds(409, ProblemDetails, "Username taken (or, unless confirmation is required, email)")
@responds(429, ProblemDetails, "Too many attempts")
@uniform_duration
def register(body: RegisterInput) -> Response:
    """Create an account: with confirmation required, mail a link; otherwise also sign in."""
    ctx = flow_context()
    mode = ctx.settings.email_confirmation
    if mode == "required":
        created = confirmation.register_unconfirmed(ctx, body)
        if created is not None:
            record(AuditEvent.USER_REGISTERED, user_id=created.id)
        return render(Accepted(status="confirmation_sent"), status=202)
    user = accounts.register(ctx, body)
    if mode == "optional":
        confirmation.send_link(ctx, user)
    result = signin.sign_in(
        ctx, user, kind="browser", method="registration", replacing=replaced_session()
    )
    record(AuditEvent.USER_REGISTERED, user_id=user.id)
    done = complete(result)
    return render(
        Registered(
            user=UserPublic.model_validate(user),
            session=SessionPublic.model_validate(done.signed_in.session),
            csrf_token=done.csrf_token,
        ),
        status=201,
    )


@bp.post("/login")
@browser.issues_cookies
@json_body(LoginInput, max_body=auth_body)
@responds(200, SignedInOrMfa, "Signed in; or, with a second factor, mfa_required")
@responds(401, ProblemDetails, "Wrong identity or password (one answer for both)")
@responds(403, ProblemDetails, "email_unconfirmed: confirm the address first; account_disabled")
@responds(429, ProblemDetails, "Too many attempts")
def login(body: LoginInput) -> Response:
    """Sign in with an email or username and a password.

    For a user with a second factor the answer is ``{"mfa_required": true, "methods"}`` and a
    pending-sign-in cookie: finish at ``POST /mfa/verify``.
    """
    try:
        done = password_sign_in(
            "browser", identity=body.identity, password=body.password, remember=body.remember
        )
    except MfaRequired as required:
        return challenge_answer(required.methods)
    return render(
        SignedIn(
            user=UserPublic.model_validate(done.signed_in.user),
            session=SessionPublic.model_validate(done.signed_in.session),
            csrf_token=done.csrf_token,
        )
    )


@bp.post("/logout")
@responds(204, None, "Signed out; cookies cleared")
def logout() -> Response:
    """Sign out: the server-side session is deleted and the cookies cleared."""
    sign_out()
    return Response(status=204)
