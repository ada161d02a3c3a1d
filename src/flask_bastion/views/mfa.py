"""The second-factor API: set up and turn off an authenticator app, recovery codes, and the
step that finishes a browser sign-in waiting for a code. Thin: parse, call a flow, render."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..access import auth_required, require_principal
from ..audit import AuditEvent
from ..errors import NotAuthenticated
from ..flows import mails, mfa
from ..freshness import fresh_login_required
from ..headers import no_store
from ..mfa_schemas import (
    MfaChallengeStarted,
    MfaCodeInput,
    MfaMethods,
    RecoveryCodes,
    TotpSetupStarted,
)
from ..models import User
from ..openapi import responds
from ..schemas import ProblemDetails, SessionPublic, SignedIn, UserPublic
from ..state import current_bastion
from ..throttle import rate_limited
from ..transports import browser
from ..validation import auth_body, json_body
from .context import failures_recorded, flow_context, record
from .render import render
from .signin import mfa_sign_in

bp = Blueprint("bastion_mfa", __name__)
bp.after_request(no_store)


def _me() -> User:
    user = flow_context().db.get(User, require_principal().user_id)
    if user is None:  # deleted while signed in
        raise NotAuthenticated()
    return user


@bp.get("/mfa")
@auth_required
@responds(200, MfaMethods, "Your second factors")
def get_mfa() -> Response:
    """List the ways you can finish a two-step sign-in, and the recovery codes left."""
    found = mfa.state(flow_context(), require_principal().user_id)
    return render(MfaMethods.model_validate(found, from_attributes=True))


@bp.post("/mfa/totp/setup")
@auth_required
@fresh_login_required
@responds(200, TotpSetupStarted, "A new secret to scan; nothing is enabled until confirmed")
@responds(401, ProblemDetails, "Not signed in, or reauth_required")
@responds(409, ProblemDetails, "totp_already_enabled: turn it off first")
def setup_totp() -> Response:
    """Start setting up an authenticator app: its secret, otpauth URI and QR code (SVG)."""
    setup = mfa.start_setup(flow_context(), _me())
    return render(TotpSetupStarted.model_validate(setup, from_attributes=True))


@bp.post("/mfa/totp/confirm")
@auth_required
@json_body(MfaCodeInput, max_body=auth_body)
@responds(200, RecoveryCodes, "Enabled; the recovery codes, shown this once")
@responds(401, ProblemDetails, "Not signed in, or invalid_mfa_code")
@responds(409, ProblemDetails, "totp_setup_required: no setup under way")
def confirm_totp(body: MfaCodeInput) -> Response:
    """Turn the authenticator app on with a code from it; answers ten recovery codes."""
    user = _me()
    with failures_recorded(AuditEvent.MFA_FAILED, user_id=user.id, step="confirm"):
        codes = mfa.confirm_setup(flow_context(), user, body.code)
    record(AuditEvent.MFA_ENABLED, user_id=user.id, method="totp")
    return render(RecoveryCodes(recovery_codes=codes))


@bp.delete("/mfa/totp")
@auth_required
@fresh_login_required
@responds(204, None, "Turned off, with its recovery codes; a notice was mailed")
@responds(401, ProblemDetails, "Not signed in, or reauth_required")
@responds(409, ProblemDetails, "mfa_not_enabled")
def disable_totp() -> Response:
    """Turn the authenticator app off (needs a recent sign-in); its recovery codes die too."""
    ctx = flow_context()
    user = _me()
    mfa.disable(ctx, user)
    mails.mfa_disabled(ctx, user)
    record(AuditEvent.MFA_DISABLED, user_id=user.id, method="totp")
    return Response(status=204)


@bp.post("/mfa/recovery-codes")
@auth_required
@fresh_login_required
@responds(200, RecoveryCodes, "New codes, shown this once; the old ones no longer work")
@responds(401, ProblemDetails, "Not signed in, or reauth_required")
@responds(409, ProblemDetails, "mfa_not_enabled")
def regenerate_recovery_codes() -> Response:
    """Replace your recovery codes (needs a recent sign-in)."""
    user = _me()
    codes = mfa.regenerate_recovery_codes(flow_context(), user)
    record(AuditEvent.RECOVERY_CODES_REGENERATED, user_id=user.id)
    return render(RecoveryCodes(recovery_codes=codes))


@bp.post("/mfa/verify")
@browser.issues_cookies
@json_body(MfaCodeInput, max_body=auth_body)
@rate_limited("mfa_limit_per_ip", scope="mfa-ip")
@responds(200, SignedIn, "Signed in: a new session")
@responds(401, ProblemDetails, "invalid_mfa_code, or mfa_challenge_invalid: sign in again")
@responds(403, ProblemDetails, "Account deactivated")
@responds(429, ProblemDetails, "Too many attempts")
def verify_mfa(body: MfaCodeInput) -> Response:
    """Finish this browser's sign-in with a code from the authenticator app or a recovery code.

    The pending sign-in is the one this browser started (its HttpOnly cookie), for five minutes
    and five wrong codes.
    """
    token = browser.mfa_challenge_token(request, current_bastion().settings)
    done = mfa_sign_in("browser", token=token, code=body.code)
    return render(
        SignedIn(
            user=UserPublic.model_validate(done.signed_in.user),
            session=SessionPublic.model_validate(done.signed_in.session),
            csrf_token=done.csrf_token,
        )
    )


def challenge_answer(methods: list[str]) -> Response:
    """The browser's 200 when a password or code was right and a second factor is due."""
    return render(MfaChallengeStarted.model_validate({"methods": methods}))
