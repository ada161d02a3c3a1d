"""How a browser carries its credentials: the HttpOnly session cookie and the XSRF-TOKEN cookie."""

from __future__ import annotations

from flask import Request, Response

from ..config import Settings
from ..security import csrf
from ..security.signing import Signer
from ..security.tokens import token_hash
from ..sessions import OpenedSession, lifetimes


def session_token(request: Request, settings: Settings) -> str | None:
    return request.cookies.get(settings.session_cookie_name) or None


def csrf_binding(request: Request, settings: Settings) -> str:
    """What a CSRF token is bound to: the hash of the session cookie, or anonymity."""
    token = session_token(request, settings)
    return token_hash(token) if token else csrf.ANONYMOUS


def set_session_cookie(
    response: Response, settings: Settings, token: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=max_age,  # None: a browser-session cookie, gone when the browser closes
        path="/",
        secure=settings.secure_cookies,
        httponly=True,  # scripts, including injected ones, can never read the session
        samesite="Lax",  # not sent on cross-site subrequests or cross-site POSTs
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        settings.session_cookie_name,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="Lax",
    )


def set_csrf_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        settings.csrf_cookie,
        token,
        path="/",
        secure=settings.secure_cookies,
        httponly=False,  # the SPA must read it to echo it in X-XSRF-TOKEN
        samesite="Lax",
    )


def ensure_csrf_token(
    request: Request,
    response: Response,
    settings: Settings,
    signer: Signer,
    binding: str | None = None,
) -> str:
    """The valid CSRF token for ``binding``: the cookie's when it still fits, else a new one."""
    binding = binding if binding is not None else csrf_binding(request, settings)
    current = request.cookies.get(settings.csrf_cookie)
    if (
        binding == csrf_binding(request, settings)
        and current
        and csrf.is_valid_for(signer, binding, current)
    ):
        return current
    token = csrf.issue(signer, binding)
    set_csrf_cookie(response, settings, token)
    return token


def submitted_csrf_token(request: Request, settings: Settings) -> str | None:
    """The echoed token: from a header for scripts, or the ``csrf_token`` field of an HTML form."""
    for name in settings.csrf_headers:
        value = request.headers.get(name)
        if value:
            return value
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return request.form.get("csrf_token") or None
    return None


def start_session(
    response: Response, settings: Settings, signer: Signer, opened: OpenedSession
) -> str:
    """Set the session cookie and a CSRF token bound to the new session; return the token."""
    _, absolute = lifetimes(settings, opened.record.remember)
    set_session_cookie(
        response, settings, opened.token, max_age=absolute if opened.record.remember else None
    )
    token = csrf.issue(signer, token_hash(opened.token))
    set_csrf_cookie(response, settings, token)
    return token


def end_session(response: Response, settings: Settings, signer: Signer) -> None:
    """Clear the session cookie; the CSRF token rotates to an anonymous one."""
    clear_session_cookie(response, settings)
    set_csrf_cookie(response, settings, csrf.issue(signer, csrf.ANONYMOUS))
