"""The account lifecycle API: confirm, reset, change password or email, sign-in codes.

Thin: parse, call a flow, render. The endpoints that mail something answer 202 with the same
body whether or not an account exists. The GET views behind mailed links are in
:mod:`flask_bastion.views.links`.
"""

from __future__ import annotations

from flask import Blueprint, Response

from ..access import auth_required, csrf_exempt, require_principal
from ..account_schemas import (
    Accepted,
    CodeRequestInput,
    CodeVerifyInput,
    Confirmed,
    ConfirmInput,
    Done,
    EmailChangeInput,
    EmailInput,
    PasswordChangeInput,
    ResetInput,
)
from ..audit import AuditEvent
from ..errors import MfaRequired
from ..flows import codes, confirmation, credentials, recovery
from ..headers import no_store
from ..mfa_schemas import SignedInOrMfa
from ..openapi import responds
from ..schemas import ProblemDetails, SessionPublic, SignedIn, UserPublic
from ..transports import browser
from ..uniform_time import uniform_duration
from ..validation import auth_body, json_body
from .context import failures_recorded, flow_context, record
from .mfa import challenge_answer
from .render import render
from .signin import code_sign_in

bp = Blueprint("bastion_accounts", __name__)
bp.after_request(no_store)

# The endpoints below marked csrf_exempt read no cookie credential: the secret in the body, or
# nothing at all, is the whole authority, so a forged cross-site request gains nothing, and
# app clients (which hold no CSRF cookie) can call them too.


@bp.post("/confirm/resend")
@csrf_exempt
@json_body(EmailInput, max_body=auth_body)
@responds(202, Accepted, "A new link was mailed if the address awaits confirmation")
@responds(429, ProblemDetails, "Too many requests from this address or for this email")
@uniform_duration
def resend_confirmation(body: EmailInput) -> Response:
    """Mail a new confirmation link (the same answer whether or not the account exists)."""
    confirmation.resend(flow_context(), email=body.email)
    return render(Accepted(status="confirmation_sent"), status=202)


@bp.post("/confirm")
@csrf_exempt
@json_body(ConfirmInput, max_body=auth_body)
@responds(200, Confirmed, "Confirmed (or it already was)")
@responds(400, ProblemDetails, "token_invalid or token_expired")
def confirm_email(body: ConfirmInput) -> Response:
    """Confirm an email address with the token of the mailed link (for clients that open the
    link themselves)."""
    done = confirmation.confirm(flow_context(), body.token)
    if not done.already:
        record(AuditEvent.EMAIL_CONFIRMED, user_id=done.user.id)
    return render(Confirmed(user=UserPublic.model_validate(done.user)))


@bp.post("/password/forgot")
@csrf_exempt
@json_body(EmailInput, max_body=auth_body)
@responds(202, Accepted, "A reset link was mailed if the account exists")
@responds(429, ProblemDetails, "Too many requests from this address or for this email")
@uniform_duration
def forgot_password(body: EmailInput) -> Response:
    """Mail a password reset link (the same answer whether or not the account exists)."""
    recovery.forgot(flow_context(), email=body.email)
    return render(Accepted(status="reset_sent"), status=202)


@bp.post("/password/reset")
@csrf_exempt
@json_body(ResetInput, max_body=auth_body)
@responds(200, Done, "Password set; every session of the account ended (sign in again)")
@responds(400, ProblemDetails, "token_invalid or token_expired")
def reset_password(body: ResetInput) -> Response:
    """Set a new password with the token of a reset link; it signs every device out."""
    user = recovery.reset(flow_context(), token=body.token, password=body.password)
    record(AuditEvent.PASSWORD_RESET, user_id=user.id)
    return render(Done(status="password_reset"))


@bp.post("/password/change")
@auth_required
@json_body(PasswordChangeInput, max_body=auth_body)
@responds(200, Done, "Password changed; every other session ended, this one stays")
@responds(401, ProblemDetails, "Not signed in, or a wrong current password (invalid_credentials)")
@responds(429, ProblemDetails, "Too many attempts")
def change_password(body: PasswordChangeInput) -> Response:
    """Change your password (the current one is needed); your other devices are signed out."""
    principal = require_principal()
    with failures_recorded(AuditEvent.REAUTH_FAILED, user_id=principal.user_id):
        ended = credentials.change_password(
            flow_context(),
            principal,
            current_password=body.current_password,
            new_password=body.new_password,
        )
    record(AuditEvent.PASSWORD_CHANGED, user_id=principal.user_id, ended=ended)
    return render(Done(status="password_changed"))


@bp.post("/email/change")
@auth_required
@json_body(EmailChangeInput, max_body=auth_body)
@responds(202, Accepted, "A link was mailed to the new address, a notice to the current one")
@responds(401, ProblemDetails, "Not signed in, or a wrong password (invalid_credentials)")
@responds(429, ProblemDetails, "Too many attempts")
def change_email(body: EmailChangeInput) -> Response:
    """Change your email address: it changes when the link mailed to the new one is opened."""
    principal = require_principal()
    with failures_recorded(AuditEvent.REAUTH_FAILED, user_id=principal.user_id):
        credentials.request_email_change(
            flow_context(), principal, email=body.email, password=body.password
        )
    record(AuditEvent.EMAIL_CHANGE_REQUESTED, user_id=principal.user_id)
    return render(Accepted(status="email_change_sent"), status=202)


@bp.post("/code/request")
@csrf_exempt
@json_body(CodeRequestInput, max_body=auth_body)
@responds(202, Accepted, "A code was mailed if the account exists")
@responds(429, ProblemDetails, "Too many requests from this address or for this identity")
@uniform_duration
def request_code(body: CodeRequestInput) -> Response:
    """Mail a six-digit sign-in code to the account's address (same answer if unknown)."""
    codes.request_code(flow_context(), identity=body.identity)
    return render(Accepted(status="code_sent"), status=202)


@bp.post("/code/verify")
@browser.issues_cookies
@json_body(CodeVerifyInput, max_body=auth_body)
@responds(200, SignedInOrMfa, "Signed in; or, with a second factor, mfa_required")
@responds(401, ProblemDetails, "Wrong, expired or used code (invalid_code)")
@responds(403, ProblemDetails, "Account deactivated")
@responds(429, ProblemDetails, "Too many attempts")
def verify_code(body: CodeVerifyInput) -> Response:
    """Sign in with an emailed code, exactly like a password sign-in (new session, cookies)."""
    try:
        done = code_sign_in(
            "browser", identity=body.identity, code=body.code, remember=body.remember
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
