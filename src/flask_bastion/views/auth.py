"""The browser auth API: session, register, login, logout. Thin: parse, call a flow, render."""

from __future__ import annotations

from flask import Blueprint, Response, request

from .. import clock
from ..access import bearer_credentials, current_bastion, current_principal
from ..errors import NotAuthenticated, Problem, problem_response
from ..flows import accounts
from ..headers import no_store
from ..logs import audit
from ..openapi import responds
from ..schemas import LoginInput, ProblemDetails, Registered, RegisterInput, SessionState, SignedIn
from ..transports import browser
from ..validation import json_body
from .browser import request_client, sign_in_browser, sign_out_browser, start_browser_session
from .render import session_public, user_public

bp = Blueprint("bastion_auth", __name__)
bp.after_request(no_store)


def _auth_body_limit() -> int:
    return current_bastion().settings.auth_max_body


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
            client=request_client(),
            replacing=browser.session_token(request, state.settings),
            now=now,
        )
    audit("user_registered", user_id=user.id)
    response = Response(status=201, mimetype="application/json")
    token = start_browser_session(response, opened)
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
    response = Response(mimetype="application/json")
    signed_in = sign_in_browser(
        response, identity=body.identity, password=body.password, remember=body.remember
    )
    response.set_data(
        SignedIn(
            user=user_public(signed_in.user),
            session=session_public(signed_in.opened.record),
            csrf_token=signed_in.csrf_token,
        ).model_dump_json()
    )
    return response


@bp.post("/logout")
@responds(204, None, "Signed out; cookies cleared")
def logout() -> Response:
    """Sign out: the server-side session is deleted and the cookies cleared."""
    response = Response(status=204)
    sign_out_browser(response)
    return response
