"""Domain errors and the one renderer that turns every error into RFC 9457 problem+json."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, g, json
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("flask_bastion.errors")

PROBLEM_MIMETYPE = "application/problem+json"


@dataclass(frozen=True)
class FieldError:
    """One invalid input field: a dotted path, a stable code and a message for people."""

    field: str
    code: str
    message: str


class BastionError(Exception):
    """Base of every error Bastion raises on purpose; each subclass fixes status and code.

    ``extra`` adds members to the problem document (say, the CSRF token of an anonymous
    ``/session`` answer). A class with ``keep_writes = True`` is a failure whose writes must
    stand (a refresh-token replay revokes the family, then refuses): the request's unit of work
    commits instead of rolling back.
    """

    status: int = 400
    code: str = "bad_request"
    detail: str = "The request could not be processed."
    keep_writes: bool = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.detail)
        if detail is not None:
            self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}
        self.extra = extra or {}


class MalformedBody(BastionError):
    status, code, detail = 400, "malformed_json", "The request body is not valid JSON."


class ValidationFailed(BastionError):
    status, code, detail = 422, "validation_failed", "Some fields are invalid."


class NotAuthenticated(BastionError):
    status, code, detail = 401, "not_authenticated", "Sign in to continue."


class InvalidCredentials(BastionError):
    status, code, detail = 401, "invalid_credentials", "The identity or password is wrong."


class AccountDisabled(BastionError):
    status, code, detail = 403, "account_disabled", "This account has been deactivated."


class Forbidden(BastionError):
    status, code, detail = 403, "forbidden", "You are not allowed to do this."


class CsrfFailed(BastionError):
    status, code, detail = 403, "csrf_failed", "The CSRF token is missing or invalid."


class BearerNotAccepted(BastionError):
    status, code = 400, "bearer_not_accepted"
    detail = (
        "This endpoint signs a browser in with cookies and takes no Authorization: Bearer "
        "header; app clients sign in at the token endpoint."
    )


class UntrustedHost(BastionError):
    status, code, detail = 400, "untrusted_host", "This server does not answer for that host."


class DevelopmentServer(BastionError):
    status, code = 500, "development_server"
    detail = (
        "Refusing to answer outside development from Flask's development server or in debug "
        "mode; serve the app with a production server (newsroom serve, gunicorn, Granian)."
    )


class InvalidToken(BastionError):
    status, code, detail = 401, "invalid_token", "The access token is invalid or expired."

    def __init__(self, detail: str | None = None) -> None:
        # RFC 6750: a bearer failure names itself, so clients know to refresh or sign in again.
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


class InvalidGrant(BastionError):
    status, code, detail = 401, "invalid_grant", "The refresh token is invalid, expired or used."


class RefreshRaceLost(InvalidGrant):
    """A concurrent exchange of the same refresh token won; the family lives on."""

    def __init__(self, *, session_id: str, user_id: int) -> None:
        super().__init__()
        self.session_id, self.user_id = session_id, user_id


class FamilyRevoked(InvalidGrant):
    """A replayed or dead refresh token: its family was revoked, and that revocation stands."""

    keep_writes = True

    def __init__(self, *, session_id: str, user_id: int, replay: bool) -> None:
        super().__init__()
        self.session_id, self.user_id, self.replay = session_id, user_id, replay


class SignInPending(BastionError):
    """The credentials were right, but a step remains before a session opens (``pending``
    names it)."""

    status, code, detail = 401, "sign_in_pending", "Another step is needed to sign in."


class EmailUnconfirmed(BastionError):
    """The password was right, but the address is not confirmed yet (and must be)."""

    status, code = 403, "email_unconfirmed"
    detail = "Confirm your email address first: follow the link we mailed you."


class TokenInvalid(BastionError):
    """A mailed link's token is unknown, used up, for another purpose, or voided."""

    status, code, detail = 400, "token_invalid", "This link is invalid or was already used."


class TokenExpired(TokenInvalid):
    code, detail = "token_expired", "This link has expired; ask for a new one."
    email: str | None = None  # whom the link was for: the error view can offer a new one


class InvalidCode(BastionError):
    """A wrong, expired or used sign-in code. Its writes stand: the failed try was counted."""

    status, code, detail = 401, "invalid_code", "The code is wrong or has expired."
    keep_writes = True


class MfaRequired(BastionError):
    """The first factor passed; a second is needed. A challenge was stored (its writes stand):
    ``extra`` carries ``methods`` and, for an app, the ``mfa_token`` to finish with."""

    status, code, detail = 401, "mfa_required", "Enter a code from your authenticator app."
    keep_writes = True

    def __init__(self, *, methods: list[str], mfa_token: str | None = None) -> None:
        extra: dict[str, Any] = {"methods": methods}
        if mfa_token is not None:
            extra["mfa_token"] = mfa_token
        super().__init__(extra=extra)
        self.methods = methods


class InvalidMfaCode(BastionError):
    """A wrong, used or stale second-factor code. Its writes stand: the failed try counts."""

    status, code, detail = 401, "invalid_mfa_code", "The code is wrong or was already used."
    keep_writes = True

    def __init__(self, *, user_id: int | None = None) -> None:
        super().__init__()
        self.audit_fields = {"user_id": user_id} if user_id is not None else {}


class MfaChallengeInvalid(BastionError):
    """No pending two-step sign-in for this client: none, expired, used, or out of tries."""

    status, code, detail = (
        401,
        "mfa_challenge_invalid",
        "This sign-in has expired or was used up: sign in again.",
    )


class TotpAlreadyEnabled(BastionError):
    status, code, detail = (
        409,
        "totp_already_enabled",
        "An authenticator app is already set up: turn it off first to set up another.",
    )


class TotpSetupRequired(BastionError):
    status, code, detail = (
        409,
        "totp_setup_required",
        "Start the authenticator setup first.",
    )


class MfaNotEnabled(BastionError):
    status, code, detail = 409, "mfa_not_enabled", "Two-step sign-in is not turned on."


class EmailTaken(BastionError):
    status, code = 409, "email_taken"
    detail = "Another account uses this email address now."


class PasskeyInvalid(BastionError):
    """A passkey registration that does not verify (bad signature, origin, RP id, challenge,
    or no user verification). Its writes stand: the ceremony's challenge is used up."""

    status, code, detail = 400, "passkey_invalid", "The passkey could not be verified."
    keep_writes = True


class PasskeySignInFailed(PasskeyInvalid):
    """A passkey sign-in that does not verify, or names no passkey we know (one answer)."""

    status = 401

    def __init__(self, *, user_id: int | None = None) -> None:
        super().__init__()
        # A known passkey's failure is its owner's to see; the answer is the same either way.
        self.audit_fields = {"user_id": user_id} if user_id is not None else {}


class PasskeyCloned(PasskeyInvalid):
    """A valid signature whose sign counter did not advance: another copy of the credential
    signed after the one presented. Refused; the audit trail names the passkey."""

    status, code = 401, "passkey_cloned"
    detail = "This passkey's counter went backwards, so a copy of it exists; it was refused."

    def __init__(self, *, user_id: int, passkey_id: str) -> None:
        super().__init__()
        self.user_id, self.passkey_id = user_id, passkey_id
        self.audit_fields = {"user_id": user_id, "passkey_id": passkey_id}


class PasskeyExists(BastionError):
    """The credential is registered already (to this account or another). Its writes stand:
    the ceremony's challenge is used up."""

    status, code, detail = 409, "passkey_exists", "This passkey is already registered."
    keep_writes = True


class ChallengeInvalid(BastionError):
    """No live WebAuthn ceremony for this browser: never started here, already used (a
    replay), or started in another browser. Writes stand (a use is a use)."""

    status, code = 400, "challenge_invalid"
    detail = "This passkey request is unknown or was already used; start again."
    keep_writes = True


class ChallengeExpired(ChallengeInvalid):
    code, detail = "challenge_expired", "This passkey request has expired; start again."


class ReauthRequired(BastionError):
    status, code, detail = (
        401,
        "reauth_required",
        "This needs a recent sign-in: confirm your password at the reauth endpoint first.",
    )


class NotFound(BastionError):
    status, code, detail = 404, "not_found", "The resource does not exist."


class Conflict(BastionError):
    status, code, detail = 409, "conflict", "The request conflicts with existing data."


class PreconditionFailed(BastionError):
    status, code, detail = 412, "precondition_failed", "The resource changed since you read it."


class UnsupportedMediaType(BastionError):
    status, code, detail = 415, "unsupported_media_type", "Send the body as application/json."


class RateLimited(BastionError):
    status, code, detail = 429, "rate_limited", "Too many attempts; wait and try again."

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        scope: str = "",
        user_id: int | None = None,
    ) -> None:
        super().__init__(detail, headers=headers)
        self.scope = scope  # the policy that refused ("login-ip"), for the audit trail
        self.user_id = user_id  # the account the refused attempt was on, when known
        # So the refused sign-in's login_failed row is the account's too (its owner sees it).
        self.audit_fields = {"user_id": user_id} if user_id is not None else {}
        # Only the first refusal of a key in its window is audited (ratelimit.first_refusal).
        self.first_refusal = False


@dataclass
class Problem:
    """An RFC 9457 problem document."""

    status: int
    code: str
    detail: str
    title: str = ""
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title or _title(self.status),
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.errors:
            body["errors"] = [
                {"field": e.field, "code": e.code, "message": e.message} for e in self.errors
            ]
        body.update(self.extra)
        return body


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response:
    """Render a problem as a Flask response with the problem+json media type."""
    response = Response(
        json.dumps(problem.to_dict()), status=problem.status, mimetype=PROBLEM_MIMETYPE
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# werkzeug's exceptions keep their status; these give them stable codes.
_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    412: "precondition_failed",
    413: "body_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    428: "precondition_required",
    429: "rate_limited",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
}

_HTTP_DETAILS = {
    404: "Nothing is found at this address.",
    405: "This method is not allowed here.",
    413: "The request body is too large.",
}


# The challenge of a 401 that names no scheme of its own (a missing or ended session, wrong
# credentials), added by flask_bastion.headers.SharedHeaders. RFC 9110 requires one on every
# 401; Bearer, because the API takes bearer tokens, and browsers show their password dialog
# only for schemes they know (Basic, Digest, ...).
DEFAULT_CHALLENGE = 'Bearer realm="api"'


def failed_request_error() -> BaseException | None:
    """The error this request's answer was rendered from, if any (the unit of work asks)."""
    return g.get(_FAILED)  # type: ignore[no-any-return]


def keeps_writes(error: BaseException | None) -> bool:
    """Whether the request's writes stand: no error, or one whose class says they must."""
    return error is None or getattr(error, "keep_writes", False) is True


_FAILED = "_bastion_failed_with"


def _render_bastion_error(error: BastionError) -> Response:
    setattr(g, _FAILED, error)
    return problem_response(
        Problem(error.status, error.code, error.detail, errors=error.errors, extra=error.extra),
        error.headers,
    )


def _render_http_exception(error: HTTPException) -> Response:
    setattr(g, _FAILED, error)
    status = error.code or 500
    # Keep werkzeug's meaningful headers (Allow on 405, Retry-After on 429/503).
    headers = {k: v for k, v in error.get_headers() if k in ("Allow", "Retry-After")}
    detail = _HTTP_DETAILS.get(status) or error.description or _title(status)
    return problem_response(Problem(status, _HTTP_CODES.get(status, "http_error"), detail), headers)


# How long a client should wait before retrying when the database is unreachable: about
# what a restart or a failover takes, and short enough that nobody gives up.
OUTAGE_RETRY_AFTER = 5

# SQLite reports a missing table as an OperationalError too; only these primary result
# codes mean the file cannot be used right now (locked, unreadable, full), not a bug.
_SQLITE_OUTAGE_CODES = frozenset({5, 6, 10, 13, 14, 15})  # BUSY LOCKED IOERR FULL CANTOPEN PROTOCOL


def is_outage(error: BaseException) -> bool:
    """Whether an error means the database is unreachable or overloaded, not that we erred.

    Constraint violations and SQL mistakes stay bugs (500) or conflicts; only a lost or
    refused connection, an exhausted pool or a timed-out statement is worth retrying.
    """
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if not isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError)):
            return False  # IntegrityError, ProgrammingError, DataError: the request or the code
        driver_error: BaseException | None = error.orig
    elif _is_driver_outage_class(error):
        driver_error = error  # reads on a raw pooled connection (fast_reads) see these
    else:
        return False
    code = getattr(driver_error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_OUTAGE_CODES
    return True


def _is_driver_outage_class(error: BaseException) -> bool:
    # PEP 249 names the driver classes, not their module: OperationalError and InterfaceError
    # are what every driver raises for a connection it cannot make or keep.
    return any(
        cls.__name__ in ("OperationalError", "InterfaceError") for cls in type(error).__mro__
    )


def _render_outage(error: BaseException) -> Response:
    setattr(g, _FAILED, error)
    request_id = getattr(g, "request_id", None)
    # One line, no traceback: an outage is the operator's news, not a defect to debug.
    log.warning(
        "database unavailable: %s: %s",
        type(error).__name__,
        (str(getattr(error, "orig", None) or error).strip().splitlines() or [""])[0],
        extra={"request_id": request_id},
    )
    return problem_response(
        Problem(
            503,
            "service_unavailable",
            "The service is briefly unavailable. Try again in a few seconds.",
            extra={"request_id": request_id},
        ),
        {"Retry-After": str(OUTAGE_RETRY_AFTER)},
    )


def _render_server_error(error: InternalServerError) -> Response:
    # Flask wraps what fails after the view (the unit of work's commit) in a 500 of its own.
    if error.original_exception is not None and is_outage(error.original_exception):
        return _render_outage(error.original_exception)
    return _render_http_exception(error)


def _render_unexpected(error: Exception) -> Response:
    if is_outage(error):
        return _render_outage(error)
    setattr(g, _FAILED, error)
    request_id = getattr(g, "request_id", None)
    log.exception("unhandled error", extra={"request_id": request_id})
    return problem_response(
        Problem(
            500,
            "internal_error",
            "Something went wrong on our side. Quote the request id if you report it.",
            extra={"request_id": request_id},
        )
    )


def register_error_handlers(app: Flask) -> None:
    """Route every error, ours and werkzeug's, through the problem+json renderer."""
    app.register_error_handler(BastionError, _render_bastion_error)
    app.register_error_handler(HTTPException, _render_http_exception)
    app.register_error_handler(InternalServerError, _render_server_error)
    app.register_error_handler(Exception, _render_unexpected)
