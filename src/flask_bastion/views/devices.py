"""Signed-in devices: list and end sessions (browser and app alike), and re-authenticate.

Thin: parse, call a flow, render. Cookie callers pass the CSRF check like any unsafe request;
bearer callers are exempt from it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response

from ..access import auth_required, is_bearer_request, require_principal
from ..audit import AuditEvent
from ..errors import MfaRequired
from ..flows import devices
from ..freshness import fresh_login_required
from ..headers import no_store
from ..mfa_schemas import ReauthRefused
from ..openapi import responds
from ..schemas import ProblemDetails
from ..state import current_bastion
from ..token_schemas import (
    DeviceSession,
    Reauthenticated,
    ReauthInput,
    SessionList,
    SessionsEnded,
)
from ..transports import browser
from ..validation import auth_body, json_body
from .context import failures_recorded, flow_context, record
from .render import render

bp = Blueprint("bastion_devices", __name__)
bp.after_request(no_store)


@bp.get("/sessions")
@auth_required
@responds(200, SessionList, "Your live sessions, browser and app alike")
def list_sessions() -> Response:
    """List your signed-in devices, marking the one making this request."""
    principal = require_principal()
    found = devices.live_sessions(flow_context(), principal.user_id)
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
    devices.end_session(flow_context(), principal, session_id)
    record(AuditEvent.SESSION_ENDED, user_id=principal.user_id, session_id=session_id)
    if session_id == principal.session_id and not is_bearer_request():
        browser.end_session(state.settings, state.csrf_signer)
    return Response(status=204)


@bp.delete("/sessions")
@auth_required
@fresh_login_required
@responds(200, SessionsEnded, "Every other session ended")
@responds(401, ProblemDetails, "Not signed in, or reauth_required")
def end_other_sessions() -> Response:
    """Sign out everywhere else: end all your sessions except this one (needs a recent sign-in)."""
    principal = require_principal()
    ended = devices.end_other_sessions(flow_context(), principal)
    record(AuditEvent.OTHER_SESSIONS_ENDED, user_id=principal.user_id, ended=ended)
    return render(SessionsEnded(ended=ended))


@bp.post("/reauth")
@auth_required
@json_body(ReauthInput, max_body=auth_body)
@responds(200, Reauthenticated, "Password (and code) confirmed: the sign-in is recent again")
@responds(
    401,
    ReauthRefused,
    "Not signed in, wrong password (invalid_credentials), wrong code (invalid_mfa_code); "
    "mfa_required with methods when the user has a second factor and sent no code",
)
@responds(429, ProblemDetails, "Too many attempts")
def reauthenticate(body: ReauthInput) -> Response:
    """Confirm your password (and second factor) to unlock sensitive actions."""
    state = current_bastion()
    principal = require_principal()
    due: MfaRequired | None = None
    with failures_recorded(AuditEvent.REAUTH_FAILED, user_id=principal.user_id):
        try:
            done = devices.reauthenticate(
                flow_context(), principal, password=body.password, code=body.code
            )
        except MfaRequired as required:
            due = required  # the next step, as at sign-in: no failure to record
    if due is not None:
        raise due
    if done.factor == "recovery_code":
        record(
            AuditEvent.RECOVERY_CODE_USED,
            user_id=principal.user_id,
            session_id=principal.session_id,
        )
    record(AuditEvent.REAUTH_SUCCEEDED, user_id=principal.user_id, session_id=principal.session_id)
    at = done.at
    return render(
        Reauthenticated(
            authenticated_at=at,
            reauth_until=at + timedelta(seconds=state.settings.reauth_window),
        )
    )
