"""The token API for app clients: issue, refresh, revoke, and the public keys (JWKS).

These endpoints take no cookie credentials, so there is nothing for a cross-site request to
ride on: they are CSRF-exempt and never set a cookie.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from .. import clock
from ..access import csrf_exempt
from ..audit import AuditEvent
from ..errors import FamilyRevoked, RefreshRaceLost, UnsupportedMediaType
from ..flows import tokens
from ..flows.tokens import IssuedTokens
from ..headers import no_store
from ..openapi import describe, responds
from ..schemas import ProblemDetails
from ..state import current_bastion
from ..token_schemas import RefreshInput, RevokeInput, TokenPair, TokenRequest
from ..validation import auth_body, json_body, read_json, validate
from .context import flow_context, record
from .render import render, render_json
from .signin import password_sign_in

bp = Blueprint("bastion_tokens", __name__)
bp.after_request(no_store)  # RFC 6749 5.1: token responses must not be cached
wellknown = Blueprint("bastion_wellknown", __name__)

FORM = "application/x-www-form-urlencoded"


def _token_request() -> TokenRequest:
    """JSON, or the OAuth 2.0 form: the one endpoint that takes a form (RFC 6749 4.3)."""
    limit = auth_body()
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


def _tokens(issued: IssuedTokens | None) -> Response:
    assert issued is not None
    return render(TokenPair.model_validate(issued))


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
    done = password_sign_in("app", identity=body.identity, password=body.password)
    return _tokens(done.signed_in.tokens)


describe(issue_token, body=TokenRequest)


@bp.post("/token/refresh")
@csrf_exempt  # the refresh token in the body is the credential; no cookie is consulted
@json_body(RefreshInput, max_body=auth_body)
@responds(200, TokenPair, "A new pair; the presented refresh token is now used up")
@responds(401, ProblemDetails, "Unknown, expired, used or revoked refresh token")
def refresh_token(body: RefreshInput) -> Response:
    """Exchange a refresh token for a new access token and refresh token (rotation).

    Presenting an already used refresh token after the grace period revokes its whole family.
    """
    try:
        issued = tokens.refresh(flow_context(), refresh_token=body.refresh_token)
    except RefreshRaceLost as lost:
        record(AuditEvent.REFRESH_TOKEN_RACE_LOST, session_id=lost.session_id, user_id=lost.user_id)
        raise
    except FamilyRevoked as revoked:
        if revoked.replay:
            record(
                AuditEvent.REFRESH_TOKEN_REUSED,
                session_id=revoked.session_id,
                user_id=revoked.user_id,
            )
        raise
    return _tokens(issued)


@bp.post("/token/revoke")
@csrf_exempt  # RFC 7009: possession of the token is the authority to revoke it
@json_body(RevokeInput, max_body=auth_body)
@responds(200, None, "Revoked, or the token was not valid (RFC 7009: same answer)")
def revoke_token(body: RevokeInput) -> Response:
    """Revoke a refresh or access token: its whole session and token family end."""
    session_id = tokens.revoke(flow_context(), token=body.token)
    if session_id is not None:
        record(AuditEvent.TOKEN_REVOKED, session_id=session_id)
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
