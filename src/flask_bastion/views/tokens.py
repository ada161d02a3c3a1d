"""The token API for app clients: issue, refresh, revoke, and the public keys (JWKS).

These endpoints take no cookie credentials, so there is nothing for a cross-site request to
ride on: they are CSRF-exempt and never set a cookie.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from .. import clock
from ..access import csrf_exempt, current_bastion
from ..errors import BastionError, UnsupportedMediaType
from ..flows import accounts, tokens
from ..headers import no_store
from ..logs import audit
from ..openapi import describe, responds
from ..schemas import ProblemDetails
from ..token_schemas import RefreshInput, RevokeInput, TokenPair, TokenRequest
from ..validation import json_body, read_json, validate
from .render import render, render_json

bp = Blueprint("bastion_tokens", __name__)
bp.after_request(no_store)  # RFC 6749 5.1: token responses must not be cached
wellknown = Blueprint("bastion_wellknown", __name__)

FORM = "application/x-www-form-urlencoded"


def _auth_body_limit() -> int:
    return current_bastion().settings.auth_max_body


def _token_request() -> TokenRequest:
    """JSON, or the OAuth 2.0 form: the one endpoint that takes a form (RFC 6749 4.3)."""
    limit = _auth_body_limit()
    if request.mimetype != FORM:
        if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
            raise UnsupportedMediaType(
                "Send the body as application/json or application/x-www-form-urlencoded."
            )
        return validate(TokenRequest, read_json(limit))
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    data: dict[str, Any] = {
        key: values if len(values) > 1 else values[0] for key, values in request.form.lists()
    }
    return validate(TokenRequest, data)


def _tokens(issued: tokens.IssuedTokens) -> Response:
    return render(
        TokenPair(
            access_token=issued.access_token,
            refresh_token=issued.refresh_token,
            expires_in=issued.expires_in,
        )
    )


@bp.post("/token")
@csrf_exempt  # no cookie is read or set here: a forged cross-site request carries nothing
@responds(200, TokenPair, "Signed in: a token pair")
@responds(401, ProblemDetails, "Wrong identity or password (one answer for both)")
@responds(403, ProblemDetails, "Account deactivated")
@responds(429, ProblemDetails, "Too many attempts")
def issue_token() -> Response:
    """Sign in an app client and get an access token and a refresh token.

    JSON ``{"identity" | "username" | "email", "password"}`` or the OAuth 2.0 form
    ``grant_type=password&username=...&password=...``. No cookie is set.
    """
    body = _token_request()
    state = current_bastion()
    now = clock.now()
    # Resolved before the transaction: creating the first key must not wait on our own lock.
    signing_key = state.keys.signing_key(now)
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
            issued = tokens.open_token_session(
                db,
                signing_key,
                state.settings,
                user,
                client=accounts.Client(request.remote_addr or "", request.user_agent.string),
                now=now,
            )
    except BastionError as error:
        audit("login_failed", reason=error.code, client="token")
        raise
    audit("login_succeeded", user_id=user.id, session_id=issued.session_id, client="token")
    return _tokens(issued)


describe(issue_token, body=TokenRequest)


@bp.post("/token/refresh")
@csrf_exempt  # the refresh token in the body is the credential; no cookie is consulted
@json_body(RefreshInput, max_body=_auth_body_limit)
@responds(200, TokenPair, "A new pair; the presented refresh token is now used up")
@responds(401, ProblemDetails, "Unknown, expired, used or revoked refresh token")
def refresh_token(body: RefreshInput) -> Response:
    """Exchange a refresh token for a new access token and refresh token (rotation).

    Presenting an already used refresh token after the grace period revokes its whole family.
    """
    state = current_bastion()
    now = clock.now()
    signing_key = state.keys.signing_key(now)
    with state.db.transaction() as db:
        issued = tokens.refresh(
            db, signing_key, state.settings, refresh_token=body.refresh_token, now=now
        )
    return _tokens(issued)


@bp.post("/token/revoke")
@csrf_exempt  # RFC 7009: possession of the token is the authority to revoke it
@json_body(RevokeInput, max_body=_auth_body_limit)
@responds(200, None, "Revoked, or the token was not valid (RFC 7009: same answer)")
def revoke_token(body: RevokeInput) -> Response:
    """Revoke a refresh or access token: its whole session and token family end."""
    state = current_bastion()
    with state.db.transaction() as db:
        tokens.revoke(db, state.keys, state.settings, token=body.token, now=clock.now())
    return Response(status=200)


@wellknown.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The public keys that verify our access tokens (JWKS, RFC 7517)."""
    state = current_bastion()
    now = clock.now()
    state.keys.signing_key(now)  # publish the first key before anyone can be given a token
    response = render_json(state.keys.jwks(now))
    response.headers["Cache-Control"] = f"public, max-age={state.settings.signing_key_cache_ttl}"
    return response
