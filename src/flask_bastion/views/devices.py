"""Signed-in devices: list and end sessions (browser and app alike), and re-authenticate.

Thin: parse, call a flow, render. Cookie callers pass the CSRF check like any unsafe request;
bearer callers are exempt from it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, request

from .. import clock
from ..access import auth_required, bearer_credentials, current_bastion, require_principal
from ..errors import BastionError
from ..flows import devices
from ..headers import no_store
from ..logs import audit
from ..openapi import responds
from ..schemas import ProblemDetails
from ..security import csrf
from ..token_schemas import (
    DeviceSession,
    Reauthenticated,
    ReauthInput,
    SessionList,
    SessionsEnded,
)
from ..transports import browser
from ..validation import json_body
from .render import render

bp = Blueprint("bastion_devices", __name__)
bp.after_request(no_store)


def _auth_body_limit() -> int:
    return current_bastion().settings.auth_max_body


@bp.get("/sessions")
@auth_required
@responds(200, SessionList, "Your live sessions, browser and app alike")
def list_sessions() -> Response:
    """List your signed-in devices, marking the one making this request."""
    state = current_bastion()
    principal = require_principal()
    found = devices.live_sessions(state.db.session, principal.user_id, now=clock.now())
    return render(
        SessionList(
            sessions=[
                DeviceSession(
                    id=s.id,
                    kind=s.kind,
                    created_at=s.created_at,
                    last_seen_at=s.last_seen_at,
                    expires_at=s.expires_at,
                    ip=s.ip,
                    user_agent=s.user_agent,
                    current=s.id == principal.session_id,
                )
                for s in found
            ]
        )
    )


@bp.delete("/sessions/<session_id>")
@auth_required
@responds(204, None, "Ended; that device is signed out on its next request")
@responds(401, ProblemDetails, "Not signed in, or reauth_required for another session")
@responds(404, ProblemDetails, "No such session of yours")
def end_session(session_id: str) -> Response:
    """End one of your sessions; ending another than this one needs a recent sign-in."""
    state = current_bastion()
    principal = require_principal()
    with state.db.transaction() as db:
        devices.end_session(db, principal, session_id, state.settings, now=clock.now())
    audit("session_ended", user_id=principal.user_id, session_id=session_id)
    response = Response(status=204)
    if session_id == principal.session_id and bearer_credentials() is None:
        browser.clear_session_cookie(response, state.settings)
        browser.set_csrf_cookie(
            response, state.settings, csrf.issue(state.csrf_signer, csrf.ANONYMOUS)
        )
    return response


@bp.delete("/sessions")
@auth_required
@responds(200, SessionsEnded, "Every other session ended")
@responds(401, ProblemDetails, "Not signed in, or reauth_required")
def end_other_sessions() -> Response:
    """Sign out everywhere else: end all your sessions except this one (needs a recent sign-in)."""
    state = current_bastion()
    principal = require_principal()
    with state.db.transaction() as db:
        ended = devices.end_other_sessions(db, principal, state.settings, now=clock.now())
    audit("other_sessions_ended", user_id=principal.user_id, ended=ended)
    return render(SessionsEnded(ended=ended))


@bp.post("/reauth")
@auth_required
@json_body(ReauthInput, max_body=_auth_body_limit)
@responds(200, Reauthenticated, "Password confirmed: the sign-in is recent again")
@responds(401, ProblemDetails, "Not signed in, or wrong password (invalid_credentials)")
@responds(429, ProblemDetails, "Too many attempts")
def reauthenticate(body: ReauthInput) -> Response:
    """Confirm your password to unlock sensitive actions (such as ending other sessions)."""
    state = current_bastion()
    principal = require_principal()
    try:
        with state.db.transaction() as db:
            at = devices.reauthenticate(
                db,
                state.passwords,
                state.settings,
                state.limits,
                principal,
                password=body.password,
                ip=request.remote_addr or "",
                now=clock.now(),
            )
    except BastionError as error:
        audit("reauth_failed", user_id=principal.user_id, reason=error.code)
        raise
    audit("reauth_succeeded", user_id=principal.user_id, session_id=principal.session_id)
    return render(
        Reauthenticated(
            authenticated_at=at,
            reauth_until=at + timedelta(seconds=state.settings.reauth_window),
        )
    )
