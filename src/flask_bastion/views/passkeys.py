"""The passkey API: register, list and remove passkeys, and sign in with one.

Thin: parse, call a flow, render. A ceremony is two requests from one browser: the options
set an HttpOnly cookie whose handle the answer must bring back; the answer clears it, right or
wrong. Browser clients only for the ceremonies (the cookie is the binding); listing and
removing take a bearer token too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, Response, request

from ..access import auth_required, require_principal
from ..audit import AuditEvent
from ..errors import PasskeyCloned
from ..flows import passkeys, signin
from ..freshness import fresh_login_required
from ..headers import no_store
from ..models import Passkey
from ..openapi import responds
from ..passkey_schemas import (
    PasskeyCreationOptions,
    PasskeyList,
    PasskeyLoginInput,
    PasskeyPublic,
    PasskeyRegisterInput,
    PasskeyRequestOptions,
)
from ..schemas import ProblemDetails, SessionPublic, SignedIn, UserPublic
from ..security.passkeys import CHALLENGE_LIFETIME
from ..state import current_bastion
from ..throttle import rate_limited
from ..transports import browser
from ..validation import json_body
from .context import failures_recorded, flow_context, record
from .render import render
from .signin import complete, replaced_session

bp = Blueprint("bastion_passkeys", __name__)
bp.after_request(no_store)

# A registration answer carries an attestation object, which may hold a certificate chain of
# a few kilobytes: more than the auth endpoints' default limit, far less than this.
PASSKEY_MAX_BODY = 16 * 1024


def _options(options: str) -> Response:
    return Response(options, status=200, mimetype="application/json")


def _start_ceremony(ceremony: passkeys.Ceremony) -> Response:
    browser.start_passkey_ceremony(
        current_bastion().settings, ceremony.handle, int(CHALLENGE_LIFETIME.total_seconds())
    )
    return _options(ceremony.options)


@contextmanager
def _ceremony_handle() -> Iterator[str | None]:
    """This browser's ceremony handle; its cookie is cleared however the answer ends."""
    settings = current_bastion().settings
    try:
        yield browser.passkey_handle(request, settings)
    finally:
        browser.end_passkey_ceremony(settings)


def _public(passkey: Passkey) -> PasskeyPublic:
    return PasskeyPublic(
        id=passkey.id,
        name=passkey.name,
        created_at=passkey.created_at,
        last_used_at=passkey.last_used_at,
    )


@bp.post("/register/options")
@browser.issues_cookies
@auth_required
@fresh_login_required
@responds(200, PasskeyCreationOptions, "Creation options for navigator.credentials.create()")
@responds(401, ProblemDetails, "Not signed in, or reauth_required")
def registration_options() -> Response:
    """Start adding a passkey: the WebAuthn creation options (needs a recent sign-in)."""
    principal = require_principal()
    return _start_ceremony(passkeys.begin_registration(flow_context(), principal.user_id))


@bp.post("/register")
@browser.issues_cookies
@auth_required
@fresh_login_required
@json_body(PasskeyRegisterInput, max_body=PASSKEY_MAX_BODY)
@responds(201, PasskeyPublic, "The passkey was added")
@responds(400, ProblemDetails, "passkey_invalid, challenge_invalid or challenge_expired")
@responds(401, ProblemDetails, "Not signed in, or reauth_required")
@responds(409, ProblemDetails, "passkey_exists: this passkey is registered already")
def register_passkey(body: PasskeyRegisterInput) -> Response:
    """Add a passkey: the browser's answer to the creation options, and a name for it."""
    principal = require_principal()
    with _ceremony_handle() as handle:
        passkey = passkeys.finish_registration(
            flow_context(),
            principal.user_id,
            handle=handle,
            credential=body.credential,
            name=body.name,
        )
    record(AuditEvent.PASSKEY_ADDED, user_id=principal.user_id, passkey_id=passkey.id)
    return render(_public(passkey), status=201)


@bp.get("")
@auth_required
@responds(200, PasskeyList, "Your passkeys, oldest first")
def list_passkeys() -> Response:
    """List your passkeys."""
    principal = require_principal()
    found = passkeys.list_passkeys(flow_context(), principal.user_id)
    return render(PasskeyList(passkeys=[_public(p) for p in found]))


@bp.delete("/<passkey_id>")
@auth_required
@fresh_login_required
@responds(204, None, "Removed; it signs nobody in any more")
@responds(401, ProblemDetails, "Not signed in, or reauth_required")
@responds(404, ProblemDetails, "No such passkey of yours")
def remove_passkey(passkey_id: str) -> Response:
    """Remove one of your passkeys (needs a recent sign-in)."""
    principal = require_principal()
    passkeys.remove_passkey(flow_context(), principal.user_id, passkey_id)
    record(AuditEvent.PASSKEY_REMOVED, user_id=principal.user_id, passkey_id=passkey_id)
    return Response(status=204)


@bp.post("/login/options")
@browser.issues_cookies
@rate_limited("passkey_limit_per_ip", scope="passkey-ip")
@responds(200, PasskeyRequestOptions, "Request options for navigator.credentials.get()")
@responds(429, ProblemDetails, "Too many attempts")
def login_options() -> Response:
    """Start a passkey sign-in: WebAuthn request options for any passkey of this site."""
    return _start_ceremony(passkeys.begin_login(flow_context()))


@bp.post("/login")
@browser.issues_cookies
@rate_limited("passkey_limit_per_ip", scope="passkey-ip")
@json_body(PasskeyLoginInput, max_body=PASSKEY_MAX_BODY)
@responds(200, SignedIn, "Signed in")
@responds(
    400, ProblemDetails, "challenge_invalid (none, used or another browser's), challenge_expired"
)
@responds(401, ProblemDetails, "passkey_invalid; passkey_cloned (its counter did not advance)")
@responds(403, ProblemDetails, "email_unconfirmed: confirm the address first; account_disabled")
@responds(429, ProblemDetails, "Too many attempts")
def login_with_passkey(body: PasskeyLoginInput) -> Response:
    """Sign in with a passkey, exactly like a password sign-in (new session, cookies).

    A user-verified passkey is two factors in one: no second factor is asked for after it.
    """
    ctx = flow_context()
    with (
        failures_recorded(AuditEvent.LOGIN_FAILED, client="browser", method="passkey"),
        _clones_recorded(),
        _ceremony_handle() as handle,
    ):
        user = passkeys.finish_login(ctx, handle=handle, credential=body.credential)
        result = signin.sign_in(
            ctx, user, kind="browser", method="passkey", replacing=replaced_session()
        )
        done = complete(result)
    session = done.signed_in.session
    record(
        AuditEvent.LOGIN_SUCCEEDED,
        user_id=user.id,
        session_id=session.id,
        client="browser",
        method="passkey",
    )
    return render(
        SignedIn(
            user=UserPublic.model_validate(done.signed_in.user),
            session=SessionPublic.model_validate(done.signed_in.session),
            csrf_token=done.csrf_token,
        )
    )


@contextmanager
def _clones_recorded() -> Iterator[None]:
    """A cloned passkey is worth an alert of its own, beside the failed sign-in."""
    try:
        yield
    except PasskeyCloned as error:
        record(
            AuditEvent.PASSKEY_CLONE_DETECTED,
            user_id=error.user_id,
            passkey_id=error.passkey_id,
        )
        raise
