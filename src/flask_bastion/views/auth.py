"""The browser auth API: session, register, login, logout. Thin: parse, call a flow, render."""

from __future__ import annotations

from flask import Blueprint, Response, request

from .. import clock
from ..access import bearer_credentials, current_bastion, current_principal
from ..errors import BastionError, NotAuthenticated, Problem, problem_response
from ..flows import accounts
from ..headers import no_store
from ..logs import audit
from ..openapi import responds
from ..schemas import LoginInput, ProblemDetails, Registered, RegisterInput, SessionState, SignedIn
from ..security import csrf
from ..security.tokens import token_hash
from ..sessions import OpenedSession, lifetimes
from ..transports import browser
from ..validation import json_body
from .render import session_public, user_public

bp = Blueprint("bastion_auth", __name__)
bp.after_request(no_store)


def _auth_body_limit() -> int:
    return current_bastion().settings.auth_max_body


def _client() -> accounts.Client:
    return accounts.Client(ip=request.remote_addr or "", user_agent=request.user_agent.string)


def _start_browser_session(response: Response, opened: OpenedSession) -> str:
    """Set the session cookie and a CSRF token bound to the new session; return the token."""
    state = current_bastion()
    settings = state.settings
    _, absolute = lifetimes(settings, opened.record.remember)
    browser.set_session_cookie(
        response, settings, opened.token, max_age=absolute if opened.record.remember else None
    )
    token = csrf.issue(state.csrf_signer, token_hash(opened.token))
    browser.set_csrf_cookie(response, settings, token)
    return token


@bp.get("/session")
@responds(200, SessionState, "Signed in")
@responds(401, ProblemDetails, "Not signed in; the body still carries a csrf_token")
def get_session() -> Response:
    """Who is signed in, and the CSRF token to echo in X-XSRF-TOKEN.

    Always sets the XSRF-TOKEN cookie, so an SPA can start here whether or not anyone is signed in.
    """
    state = current_bastion()
    principal = current_principal()
    response = Response(mimetype="application/json")
    is_bearer = bearer_credentials() is not None
    token = (
        ""
        if is_bearer
        else browser.ensure_csrf_token(request, response, state.settings, state.csrf_signer)
    )
    if principal is None:
        error = NotAuthenticated()
        problem = problem_response(
            Problem(error.status, error.code, error.detail, extra={"csrf_token": token})
        )
        for header in response.headers.getlist("Set-Cookie"):
            problem.headers.add("Set-Cookie", header)
        return problem
    body = SessionState(
        user=user_public(principal), session=session_public(principal), csrf_token=token
    )
    response.set_data(body.model_dump_json())
    return response


@bp.post("/register")
@json_body(RegisterInput, max_body=_auth_body_limit)
@responds(201, Registered, "Account created and signed in")
@responds(409, ProblemDetails, "Email or username taken")
def register(body: RegisterInput) -> Response:
    """Create an account and sign in."""
    state = current_bastion()
    now = clock.now()
    state.limits.hit(state.settings.register_limit_per_ip, "register-ip", request.remote_addr or "")
    with state.db.transaction() as db:
        user = accounts.register(db, state.passwords, state.settings, body, now=now)
        opened = accounts.sign_in(
            db,
            user,
            state.settings,
            kind="browser",
            remember=False,
            client=_client(),
            replacing=browser.session_token(request, state.settings),
            now=now,
        )
    audit("user_registered", user_id=user.id)
    response = Response(status=201, mimetype="application/json")
    token = _start_browser_session(response, opened)
    response.set_data(
        Registered(
            user=user_public(user), session=session_public(opened.record), csrf_token=token
        ).model_dump_json()
    )
    return response


@bp.post("/login")
@json_body(LoginInput, max_body=_auth_body_limit)
@responds(200, SignedIn, "Signed in")
@responds(401, ProblemDetails, "Wrong identity or password (one answer for both)")
@responds(429, ProblemDetails, "Too many attempts")
def login(body: LoginInput) -> Response:
    """Sign in with an email or username and a password."""
    state = current_bastion()
    now = clock.now()
    try:
        with state.db.transaction() as db:
            user = accounts.authenticate(
                db,
                state.passwords,
                state.settings,
                state.limits,
                identity=body.identity,
                password=body.password,
                ip=request.remote_addr or "",
                now=now,
            )
            opened = accounts.sign_in(
                db,
                user,
                state.settings,
                kind="browser",
                remember=body.remember,
                client=_client(),
                replacing=browser.session_token(request, state.settings),
                now=now,
            )
    except BastionError as error:
        audit("login_failed", reason=error.code)
        raise
    audit("login_succeeded", user_id=user.id, session_id=opened.record.id)
    response = Response(mimetype="application/json")
    token = _start_browser_session(response, opened)
    response.set_data(
        SignedIn(
            user=user_public(user), session=session_public(opened.record), csrf_token=token
        ).model_dump_json()
    )
    return response


@bp.post("/logout")
@responds(204, None, "Signed out; cookies cleared")
def logout() -> Response:
    """Sign out: the server-side session is deleted and the cookies cleared."""
    state = current_bastion()
    response = Response(status=204)
    principal = current_principal() if bearer_credentials() is not None else None
    with state.db.transaction() as db:
        if principal is not None:
            accounts.sign_out(db, session_id=principal.session_id)
        else:
            accounts.sign_out(db, token=browser.session_token(request, state.settings))
    if bearer_credentials() is None:
        browser.clear_session_cookie(response, state.settings)
        browser.set_csrf_cookie(
            response, state.settings, csrf.issue(state.csrf_signer, csrf.ANONYMOUS)
        )
    audit("logout", session_id=principal.session_id if principal else None)
    return response
