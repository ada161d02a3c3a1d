"""How a browser carries its credentials: the HttpOnly session cookie and the XSRF-TOKEN cookie.

Cookies are recorded while the request runs and written when its response is finished (as
Flask's own ``save_session`` does), after the unit of work has committed: a view never needs a
response object before its body exists, and a sign-in whose commit failed sets no cookie.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Request, Response, g

from ..config import Settings
from ..models import AuthSession
from ..security import csrf
from ..security.signing import Signer
from ..security.tokens import token_hash

_PENDING = "_bastion_cookies"


def session_token(request: Request, settings: Settings) -> str | None:
    return request.cookies.get(settings.session_cookie_name) or None


def csrf_binding(request: Request, settings: Settings) -> str:
    """What a CSRF token is bound to: the hash of the session cookie, or anonymity."""
    token = session_token(request, settings)
    return token_hash(token) if token else csrf.ANONYMOUS


def submitted_csrf_token(request: Request, settings: Settings) -> str | None:
    """The echoed token: from a header for scripts, or the ``csrf_token`` field of an HTML form."""
    for name in settings.csrf_headers:
        value = request.headers.get(name)
        if value:
            return value
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return request.form.get("csrf_token") or None
    return None


@dataclass(frozen=True)
class Cookie:
    value: str | None  # None: delete it
    max_age: int | None
    httponly: bool


def _record(name: str, cookie: Cookie) -> None:
    pending: dict[str, Cookie] = g.setdefault(_PENDING, {})
    pending[name] = cookie  # the last word on a cookie wins


def take_cookies() -> dict[str, Cookie]:
    """The cookies this request recorded, taken: a second call (an error page) gets none."""
    pending: dict[str, Cookie] = g.pop(_PENDING, {})
    return pending


def write_cookies(response: Response, settings: Settings, cookies: dict[str, Cookie]) -> None:
    """Write recorded cookies onto a finished response."""
    for name, cookie in cookies.items():
        options: dict[str, Any] = {
            "path": "/",
            "secure": settings.secure_cookies,
            # The session cookie is HttpOnly so scripts, injected ones included, never read it;
            # the XSRF-TOKEN cookie is not, because the SPA must echo it in X-XSRF-TOKEN.
            "httponly": cookie.httponly,
            "samesite": "Lax",  # not sent on cross-site subrequests or cross-site POSTs
        }
        if cookie.value is None:
            response.delete_cookie(name, **options)
        else:
            # max_age None: a browser-session cookie, gone when the browser closes.
            response.set_cookie(name, cookie.value, max_age=cookie.max_age, **options)


def _set_csrf_cookie(settings: Settings, token: str) -> None:
    _record(settings.csrf_cookie, Cookie(token, None, httponly=False))


def ensure_csrf_token(request: Request, settings: Settings, signer: Signer) -> str:
    """The valid CSRF token for this browser: the cookie's when it still fits, else a new one."""
    binding = csrf_binding(request, settings)
    current = request.cookies.get(settings.csrf_cookie)
    if current and csrf.is_valid_for(signer, binding, current):
        return current
    token = csrf.issue(signer, binding)
    _set_csrf_cookie(settings, token)
    return token


def start_session(settings: Settings, signer: Signer, token: str, record: AuthSession) -> str:
    """Record the cookies of a new session and a CSRF token bound to it; return the token."""
    lifetime = int((record.expires_at - record.created_at).total_seconds())
    _record(
        settings.session_cookie_name,
        Cookie(token, lifetime if record.remember else None, httponly=True),
    )
    csrf_token = csrf.issue(signer, token_hash(token))
    _set_csrf_cookie(settings, csrf_token)
    return csrf_token


def end_session(settings: Settings, signer: Signer) -> None:
    """Record clearing the session cookie; the CSRF token rotates to an anonymous one."""
    _record(settings.session_cookie_name, Cookie(None, None, httponly=True))
    _set_csrf_cookie(settings, csrf.issue(signer, csrf.ANONYMOUS))
