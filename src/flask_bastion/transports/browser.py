"""How a browser carries its credentials: the HttpOnly session cookie and the XSRF-TOKEN cookie.

Before sign-in, a random HttpOnly pre-session cookie stands in for the session: the anonymous
CSRF token is bound to its hash, so a token copied from one browser fails in another.

Cookies are recorded while the request runs and written when its response is finished (as
Flask's own ``save_session`` does), after the unit of work has committed: a view never needs a
response object before its body exists, and a sign-in whose commit failed sets no cookie.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Request, Response, g

from ..config import Settings
from ..models import AuthSession
from ..security import csrf
from ..security import devices as device_cookies
from ..security.devices import DeviceClaim
from ..security.signing import Signer
from ..security.tokens import token_hash

F = TypeVar("F", bound=Callable[..., Any])

_PENDING = "_bastion_cookies"
_NEW_PRESESSION = "_bastion_new_presession"
_CLEAR_SITE_DATA = "_bastion_clear_site_data"
WORK_KEYS = (_PENDING, _CLEAR_SITE_DATA)  # what the extension's hooks look for on ``g``


def issues_cookies(view: F) -> F:
    """Mark a view that signs a browser in with cookies: a request with a bearer header is
    refused before it runs (see :func:`refuses_bearer`)."""
    view._bastion_issues_cookies = True  # type: ignore[attr-defined]
    return view


def refuses_bearer(view: Callable[..., Any] | None) -> bool:
    """Whether ``view`` issues cookies, so must never run for a bearer request: the caller is
    an app (or a script that says so), and a session cookie it did not ask for would outlive
    the token it sent."""
    return view is not None and getattr(view, "_bastion_issues_cookies", False) is True


def session_token(request: Request, settings: Settings) -> str | None:
    return request.cookies.get(settings.session_cookie_name) or None


def presession_cookie_name(settings: Settings) -> str:
    """The pre-session cookie: named after the session cookie (so ``__Host-`` over https)."""
    return settings.session_cookie_name + "_pre"


def csrf_cookie(request: Request, settings: Settings) -> str | None:
    return request.cookies.get(settings.csrf_cookie_name) or None


def _presession(request: Request, settings: Settings) -> str | None:
    """This browser's pre-session value: minted earlier in this request, or its cookie's."""
    minted: str | None = g.get(_NEW_PRESESSION)
    return minted or request.cookies.get(presession_cookie_name(settings)) or None


def _new_presession(settings: Settings) -> str:
    value: str = g.get(_NEW_PRESESSION) or secrets.token_urlsafe(32)
    setattr(g, _NEW_PRESESSION, value)
    # HttpOnly: a script (an injected one too) must not copy the binding to another browser.
    _record(presession_cookie_name(settings), Cookie(value, None, httponly=True))
    return value


def csrf_binding(request: Request, settings: Settings) -> str | None:
    """What a CSRF token is bound to: the session cookie's hash, else the pre-session's.

    None when the browser holds neither: no token can be valid for it.
    """
    token = session_token(request, settings)
    if token:
        return token_hash(token)
    presession = _presession(request, settings)
    return csrf.anonymous_binding(token_hash(presession)) if presession else None


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
    _record(settings.csrf_cookie_name, Cookie(token, None, httponly=False))


def ensure_csrf_token(request: Request, settings: Settings, signer: Signer) -> str:
    """The valid CSRF token for this browser: the cookie's when it still fits, else a new one.

    A browser with neither a session nor a pre-session cookie gets a pre-session cookie first.
    """
    binding = csrf_binding(request, settings)
    if binding is None:
        binding = csrf.anonymous_binding(token_hash(_new_presession(settings)))
    current = csrf_cookie(request, settings)
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


def mfa_cookie_name(settings: Settings) -> str:
    """The pending second-factor cookie: named after the session cookie (``__Host-`` over
    https), apart from it, so a half-finished sign-in never passes for a session."""
    return settings.session_cookie_name + "_mfa"


def mfa_challenge_token(request: Request, settings: Settings) -> str | None:
    return request.cookies.get(mfa_cookie_name(settings)) or None


def start_mfa_challenge(settings: Settings, token: str) -> None:
    """Record the cookie that binds a pending second-factor step to this browser: HttpOnly, so
    no script can carry it to another browser, and gone when the step expires."""
    _record(
        mfa_cookie_name(settings),
        Cookie(token, settings.mfa_challenge_lifetime, httponly=True),
    )


def end_mfa_challenge(settings: Settings) -> None:
    _record(mfa_cookie_name(settings), Cookie(None, None, httponly=True))


def end_session(settings: Settings, signer: Signer | None = None) -> None:
    """Record clearing this browser's cookies: the session, its CSRF token, the pre-session.

    The answer also asks the browser to clear the site's cookies and storage (see
    :func:`clear_site_data`); cookies set beside that could be cleared with the rest, so the
    next page starts afresh from ``/session`` (or the sign-in form), which mints new ones.
    ``signer`` is accepted for older callers; no token is issued here any more.
    """
    for name in (settings.session_cookie_name, presession_cookie_name(settings)):
        _record(name, Cookie(None, None, httponly=True))
    _record(settings.csrf_cookie_name, Cookie(None, None, httponly=False))
    setattr(g, _CLEAR_SITE_DATA, True)


def take_clear_site_data() -> bool:
    """Whether this request ended a browser session, taken (an error page gets no header)."""
    return bool(g.pop(_CLEAR_SITE_DATA, False))


def clear_site_data(response: Response) -> None:
    """After sign-out: the browser drops what the signed-in user left in it.

    "storage" (data the SPA kept in localStorage or IndexedDB). Not "cookies": that would also
    drop the known-device cookie, and every sign-in after a sign-out would be a new device (a
    new-device mail each time, and the sign-in delay of strangers); the session, CSRF and
    pre-session cookies are deleted one by one instead (:func:`end_session`). Not "cache":
    private answers are never stored (no-store) and private chunks are revalidated, so the cache
    holds nothing of the user's, and clearing it would refetch every public asset.
    """
    response.headers["Clear-Site-Data"] = '"storage"'


def passkey_cookie_name(settings: Settings) -> str:
    """The cookie of a passkey ceremony in flight (``__Host-`` over https, like the session's)."""
    return settings.session_cookie_name + "_passkey"


def passkey_handle(request: Request, settings: Settings) -> str | None:
    """The handle of this browser's passkey ceremony, if it started one."""
    return request.cookies.get(passkey_cookie_name(settings)) or None


def start_passkey_ceremony(settings: Settings, handle: str, lifetime: int) -> None:
    """Record the ceremony's cookie: HttpOnly, so no script (an injected one too) can carry the
    challenge to another browser; it dies with the challenge."""
    _record(passkey_cookie_name(settings), Cookie(handle, lifetime, httponly=True))


def end_passkey_ceremony(settings: Settings) -> None:
    """Record deleting the ceremony's cookie: its challenge is used up."""
    _record(passkey_cookie_name(settings), Cookie(None, None, httponly=True))


def device_cookie_name(settings: Settings) -> str:
    """The known-device cookie: named after the session cookie (so ``__Host-`` over https)."""
    return settings.session_cookie_name + "_device"


def device_claims(request: Request, settings: Settings, signer: Signer) -> tuple[DeviceClaim, ...]:
    """The accounts this browser signed in to, as its known-device cookie says (MAC checked)."""
    return device_cookies.decode(signer, request.cookies.get(device_cookie_name(settings)))


def remember_device(settings: Settings, signer: Signer, claims: tuple[DeviceClaim, ...]) -> None:
    """Record the known-device cookie: long-lived and HttpOnly (no script needs it, and one
    that read it could make another browser pass for this one). Sign-out leaves it."""
    value = device_cookies.encode(signer, claims)
    _record(device_cookie_name(settings), Cookie(value, settings.known_device_lifetime, True))
