"""Server-rendered sign-in and sign-out: HTML forms that work without JavaScript.

They share flask_bastion's flows and cookie helpers with the JSON API; the CSRF rule is the
same too (the app-wide hook checks the ``csrf_token`` form field against the XSRF-TOKEN cookie).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from pydantic import ValidationError

from flask_bastion import current_bastion
from flask_bastion.access import current_principal
from flask_bastion.account_schemas import CodeVerifyInput, EmailInput
from flask_bastion.errors import (
    AccountDisabled,
    BastionError,
    CsrfFailed,
    EmailUnconfirmed,
    InvalidCode,
    InvalidCredentials,
    InvalidMfaCode,
    MfaChallengeInvalid,
    MfaRequired,
    RateLimited,
)
from flask_bastion.flows import codes, recovery
from flask_bastion.headers import no_store
from flask_bastion.schemas import LoginInput
from flask_bastion.security.origin import is_same_origin_request, origin_of
from flask_bastion.security.redirects import safe_next
from flask_bastion.transports import browser
from flask_bastion.uniform_time import uniform_duration
from flask_bastion.views.context import flow_context
from flask_bastion.views.signin import code_sign_in, mfa_sign_in, password_sign_in, sign_out

bp = Blueprint("signin", __name__)
bp.after_request(no_store)  # the pages carry a CSRF token and say who is signed in

APP_HOME = "/app/"
FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
IDENTITY_FIELDS = ("identity", "username", "email")  # the JSON login's aliases
TRUE_VALUES = frozenset({"on", "true", "1", "yes"})
MESSAGES = {
    InvalidCredentials: "The email, username or password is wrong.",
    AccountDisabled: "This account has been deactivated.",
    EmailUnconfirmed: "Confirm your email address first: follow the link we mailed you.",
    RateLimited: "Too many attempts. Wait a minute and try again.",
    CsrfFailed: "This form expired. Please try again.",
    InvalidCode: "The code is wrong or has expired. Ask for a new one if you need to.",
    InvalidMfaCode: "The code is wrong or was already used. Wait for the next one and try again.",
    MfaChallengeInvalid: "This sign-in has expired or was used up. Please sign in again.",
}
# The same words whether or not an account exists: the page must not tell.
CODE_SENT = "If an account matches, we mailed it a six-digit code. It works for 10 minutes."
RESET_SENT = "If an account has this address, we mailed it a link to choose a new password."


def see_other(location: str) -> Response:
    """303: after a form POST (or for any GET) the browser follows with a GET."""
    return Response(status=303, headers={"Location": location})


def _csrf_token() -> str:
    state = current_bastion()
    return browser.ensure_csrf_token(request, state.settings, state.csrf_signer)


def _page(
    template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> Response:
    response = Response(status=status, mimetype="text/html")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    html = render_template(template, csrf_token=_csrf_token(), **context)
    response.set_data(html)
    return response


def _next_target() -> str:
    return safe_next(request.values.get("next"), APP_HOME)


def _login_page(
    status: int = 200,
    error: str | None = None,
    *,
    identity: str = "",
    remember: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    return _page(
        "login.html",
        status,
        headers,
        error=error,
        next=_next_target(),
        identity=identity,
        remember=remember,
    )


@bp.get("/login")
@browser.issues_cookies
def login_form() -> Response:
    """The sign-in form; a signed-in browser goes straight on to ``next``."""
    if current_principal() is not None:
        return see_other(_next_target())
    return _login_page()


@bp.post("/login")
@browser.issues_cookies
def login() -> Response:
    """Sign in from the HTML form, then go to ``next`` when it is a local path, else /app/."""
    if request.mimetype not in FORM_MIMETYPES:
        return _login_page(415, "Send the form as a web form.")
    if (request.content_length or 0) > current_bastion().settings.auth_max_body:
        return _login_page(413, "The form is too large.")
    identity = next((request.form[f] for f in IDENTITY_FIELDS if request.form.get(f)), "")
    remember = request.form.get("remember", "").lower() in TRUE_VALUES
    try:
        body = LoginInput.model_validate(
            {"identity": identity, "password": request.form.get("password", "")}
        )
    except ValidationError:
        return _login_page(
            422, "Enter your email or username and your password.", identity=identity
        )
    try:
        password_sign_in(
            "browser", identity=body.identity, password=body.password, remember=remember
        )
    except MfaRequired:
        return _mfa_page()
    except (InvalidCredentials, AccountDisabled, EmailUnconfirmed, RateLimited) as error:
        return _login_page(
            error.status,
            next(text for kind, text in MESSAGES.items() if isinstance(error, kind)),
            headers=error.headers,
            identity=identity,
            remember=remember,
        )
    return see_other(_next_target())


def _form_refusal() -> Response | None:
    """The page's answer to a body that is not a small web form, else None."""
    if request.mimetype not in FORM_MIMETYPES:
        return _login_page(415, "Send the form as a web form.")
    if (request.content_length or 0) > current_bastion().settings.auth_max_body:
        return _login_page(413, "The form is too large.")
    return None


def _code_page(
    status: int = 200,
    *,
    identity: str = "",
    notice: str | None = None,
    error: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return _page(
        "login_code.html",
        status,
        headers,
        identity=identity,
        notice=notice,
        error=error,
        next=_next_target(),
    )


@bp.get("/login/code")
@browser.issues_cookies
def login_code_form() -> Response:
    """The form that asks for a sign-in code, without JavaScript."""
    if current_principal() is not None:
        return see_other(_next_target())
    return _code_page()


@bp.post("/login/code")
@browser.issues_cookies
@uniform_duration
def login_code() -> Response:
    """Sign in with an emailed code, without JavaScript: a form without ``code`` asks for one
    (the same page whether or not the account exists), a form with it signs in."""
    refused = _form_refusal()
    if refused is not None:
        return refused
    identity = request.form.get("identity", "").strip()
    if "code" not in request.form:
        if not identity or len(identity) > 320:
            return _code_page(422, error="Enter your email or username to get a code.")
        try:
            codes.request_code(flow_context(), identity=identity)
        except RateLimited as error:
            return _code_page(429, error=MESSAGES[RateLimited], headers=error.headers)
        return _code_page(identity=identity, notice=CODE_SENT)
    try:
        body = CodeVerifyInput.model_validate(
            {"identity": identity, "code": request.form.get("code", "").strip()}
        )
    except ValidationError:
        return _code_page(422, identity=identity, error="Enter the six digits from the mail.")
    try:
        code_sign_in("browser", identity=body.identity, code=body.code)
    except MfaRequired:
        return _mfa_page()
    except (InvalidCode, AccountDisabled, RateLimited) as error:
        return _code_page(
            error.status,
            identity=identity,
            error=next(text for kind, text in MESSAGES.items() if isinstance(error, kind)),
            headers=error.headers,
        )
    return see_other(_next_target())


def _mfa_page(
    status: int = 200, error: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    return _page("login_mfa.html", status, headers, error=error, next=_next_target())


@bp.post("/login/mfa")
@browser.issues_cookies
def login_mfa() -> Response:
    """Finish a sign-in with a code from the authenticator app or a recovery code, without
    JavaScript; the pending step is the one this browser's password or code started."""
    refused = _form_refusal()
    if refused is not None:
        return refused
    code = request.form.get("code", "").strip()
    if not code or len(code) > 64:
        return _mfa_page(422, "Enter the code from your authenticator app or a recovery code.")
    state = current_bastion()
    try:
        state.limits.hit(state.settings.mfa_limit_per_ip, "mfa-ip", request.remote_addr or "")
        mfa_sign_in(
            "browser", token=browser.mfa_challenge_token(request, state.settings), code=code
        )
    except MfaChallengeInvalid as error:
        return _login_page(error.status, MESSAGES[MfaChallengeInvalid])
    except (InvalidMfaCode, AccountDisabled, RateLimited) as error:
        return _mfa_page(
            error.status,
            next(text for kind, text in MESSAGES.items() if isinstance(error, kind)),
            headers=error.headers,
        )
    return see_other(_next_target())


@bp.get("/forgot-password")
@browser.issues_cookies
def forgot_password_form() -> Response:
    """Ask for a password reset link, without JavaScript."""
    return _page("forgot_password.html", email="")


@bp.post("/forgot-password")
@browser.issues_cookies
@uniform_duration
def forgot_password() -> Response:
    """Mail a reset link; the same page whether or not the address has an account."""
    refused = _form_refusal()
    if refused is not None:
        return refused
    email = request.form.get("email", "").strip()
    try:
        body = EmailInput.model_validate({"email": email})
    except ValidationError:
        return _page("forgot_password.html", 422, email=email, error="Enter an email address.")
    try:
        recovery.forgot(flow_context(), email=body.email)
    except RateLimited as error:
        return _page(
            "forgot_password.html", 429, error.headers, email=email, error=MESSAGES[RateLimited]
        )
    return _page("forgot_password.html", email="", notice=RESET_SENT)


def _is_same_origin() -> bool:
    return is_same_origin_request(
        request.headers.get("Sec-Fetch-Site"),
        request.headers.get("Origin"),
        request.headers.get("Referer"),
        {origin_of(request.host_url), current_bastion().settings.public_origin},
    )


@bp.get("/logout")
@browser.issues_cookies  # its confirm page carries a CSRF token
def logout_link() -> Response:
    """Sign out from our own pages; a link from elsewhere only gets a confirm button."""
    if current_principal() is None:
        return see_other("/login")
    if not _is_same_origin():  # a cross-site link or image must not sign anyone out
        return _page("logout.html")
    sign_out()
    return see_other("/login")


@bp.post("/logout")
def logout() -> Response:
    """Sign out (the form of the confirm page, or any page of ours)."""
    sign_out()
    return see_other("/login")


@bp.errorhandler(CsrfFailed)
def csrf_failed(error: BastionError) -> Response:
    """A stale or forged form: show the form again with a fresh token instead of JSON."""
    if request.path == "/logout":
        return _page("logout.html", 403, error=MESSAGES[CsrfFailed])
    return _login_page(403, MESSAGES[CsrfFailed])
