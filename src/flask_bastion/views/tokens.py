"""The token API for app clients: issue, refresh, revoke, and the public keys (JWKS).

These endpoints take no cookie credentials, so there is nothing for a cross-site request to
ride on: they are CSRF-exempt and never set a cookie.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, request

from .. import clock
from ..access import csrf_exempt
from ..audit import AuditEvent
from ..errors import FamilyRevoked, RefreshRaceLost
from ..flows import tokens
from ..flows.tokens import IssuedTokens
from ..headers import no_store
from ..mfa_schemas import TokenRefused
from ..oauth import FORM, UnsupportedGrantType, add_oauth_error_members, read_oauth_body
from ..openapi import describe, responds
from ..state import current_bastion
from ..token_schemas import (
    CodeTokenRequest,
    GrantType,
    MfaTokenRequest,
    OAuthProblem,
    RefreshInput,
    RefreshTokenGrant,
    RevokeInput,
    TokenGrant,
    TokenPair,
    TokenRequest,
)
from ..validation import auth_body, validate
from .context import flow_context, record
from .render import render, render_json
from .signin import code_sign_in, mfa_sign_in, password_sign_in

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("bastion_tokens", __name__)
bp.after_request(no_store)  # RFC 6749 5.1: token responses must not be cached
bp.after_request(add_oauth_error_members)  # OAuth clients read RFC 6749 5.2 errors
wellknown = Blueprint("bastion_wellknown", __name__)


def _oauth_endpoint(view: F) -> F:
    """Document what every token endpoint shares: JSON or form bodies, OAuth error members."""
    describe(view, body_media=("application/json", FORM))
    for status, description in (
        (400, "Malformed body, or an unsupported grant type"),
        (413, "Body too large"),
        (415, "Neither JSON nor a form"),
        (422, "Invalid fields"),
    ):
        responds(status, OAuthProblem, description)(view)
    return view


def _tokens(issued: IssuedTokens | None) -> Response:
    assert issued is not None
    return render(TokenPair.model_validate(issued))


def _password_grant(data: dict[str, Any]) -> Response:
    if "mfa_token" in data:  # finishing a sign-in that answered mfa_required
        finish = validate(MfaTokenRequest, data)
        state = current_bastion()
        state.limits.hit(state.settings.mfa_limit_per_ip, "mfa-ip", request.remote_addr or "")
        done = mfa_sign_in("app", token=finish.mfa_token, code=finish.code)
        return _tokens(done.signed_in.tokens)
    if "code" in data and "password" not in data:  # an emailed sign-in code instead
        by_code = validate(CodeTokenRequest, data)
        done = code_sign_in("app", identity=by_code.identity, code=by_code.code)
        return _tokens(done.signed_in.tokens)
    body = validate(TokenRequest, data)
    done = password_sign_in("app", identity=body.identity, password=body.password)
    return _tokens(done.signed_in.tokens)


def _refresh_grant(data: dict[str, Any]) -> Response:
    return _refreshed(validate(RefreshTokenGrant, data).refresh_token)


def _refreshed(refresh_token: str) -> Response:
    """Rotate a refresh token: the one exchange behind both refresh paths."""
    try:
        issued = tokens.refresh(flow_context(), refresh_token=refresh_token)
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


# The grants of POST /api/token, by their ``grant_type``. A new way to obtain tokens (say, a
# sign-in code exchanged as ``authorization_code``) is one entry here; any other value is
# ``unsupported_grant_type``.
GRANTS: dict[str, Callable[[dict[str, Any]], Response]] = {
    "password": _password_grant,
    "refresh_token": _refresh_grant,
}


@bp.post("/token")
@csrf_exempt  # no cookie is read or set here: a forged cross-site request carries nothing
@responds(200, TokenPair, "A token pair")
@responds(
    401,
    TokenRefused,
    "Wrong identity, password or code, a bad refresh token, or a client secret; "
    "mfa_required (send mfa_token and a code next)",
)
@responds(403, OAuthProblem, "Account deactivated, or email_unconfirmed")
@responds(429, OAuthProblem, "Too many attempts")
@_oauth_endpoint
def issue_token() -> Response:
    """Get an access token and a refresh token: sign in, or renew with a refresh token.

    JSON ``{"identity" | "username" | "email", "password"}`` (or ``"code"``, an emailed sign-in
    code, in place of the password) or the OAuth 2.0 form
    ``grant_type=password&username=...&password=...``; or ``grant_type=refresh_token`` with
    ``refresh_token``, as ``/token/refresh`` does. Unknown parameters are ignored. No cookie is
    set.

    A user with a second factor gets 401 ``mfa_required`` with ``mfa_token`` and ``methods``;
    send ``{"mfa_token", "code"}`` (a TOTP or recovery code) within five minutes to finish.
    """
    data = read_oauth_body(auth_body())
    grant = GRANTS.get(validate(GrantType, data).grant_type)
    if grant is None:
        raise UnsupportedGrantType()
    return grant(data)


describe(issue_token, body=TokenGrant)


@bp.post("/token/refresh")
@csrf_exempt  # the refresh token in the body is the credential; no cookie is consulted
@responds(200, TokenPair, "A new pair; the presented refresh token is now used up")
@responds(401, OAuthProblem, "Unknown, expired, used or revoked refresh token")
@_oauth_endpoint
def refresh_token() -> Response:
    """Exchange a refresh token for a new access token and refresh token (rotation).

    Presenting an already used refresh token after the grace period revokes its whole family.
    """
    body = validate(RefreshInput, read_oauth_body(auth_body()))
    return _refreshed(body.refresh_token)


describe(refresh_token, body=RefreshInput)


@bp.post("/token/revoke")
@csrf_exempt  # RFC 7009: possession of the token is the authority to revoke it
@responds(200, None, "Revoked, or the token was not valid (RFC 7009: same answer)")
@responds(401, OAuthProblem, "A client secret was sent (no client is registered)")
@_oauth_endpoint
def revoke_token() -> Response:
    """Revoke a refresh or access token: its whole session and token family end."""
    body = validate(RevokeInput, read_oauth_body(auth_body()))
    revoked = tokens.revoke(flow_context(), token=body.token)
    if revoked is not None:
        record(AuditEvent.TOKEN_REVOKED, session_id=revoked.session_id, user_id=revoked.user_id)
    return Response(status=200)


describe(revoke_token, body=RevokeInput)


@wellknown.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The public keys that verify our access tokens (JWKS, RFC 7517)."""
    state = current_bastion()
    now = clock.now()
    state.keys.signing_key(now)  # publish the first key before anyone can be given a token
    response = render_json(state.keys.jwks(now))
    response.headers["Cache-Control"] = f"public, max-age={state.settings.signing_key_cache_ttl}"
    return response
