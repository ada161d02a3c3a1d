"""Sign a browser in or out from any view: the JSON API and server-rendered forms share this."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, request

from .. import clock
from ..access import bearer_credentials, current_bastion, current_principal
from ..errors import BastionError
from ..flows import accounts
from ..logs import audit
from ..models import User
from ..sessions import OpenedSession
from ..transports import browser


@dataclass(frozen=True)
class BrowserSignIn:
    """A browser just signed in: who, the session opened, and the CSRF token now bound to it."""

    user: User
    opened: OpenedSession
    csrf_token: str


def request_client() -> accounts.Client:
    """The device of the current request, as the session record keeps it."""
    return accounts.Client(ip=request.remote_addr or "", user_agent=request.user_agent.string)


def start_browser_session(response: Response, opened: OpenedSession) -> str:
    """Set the session and CSRF cookies of a new session on ``response``; return the token."""
    state = current_bastion()
    return browser.start_session(response, state.settings, state.csrf_signer, opened)


def sign_in_browser(
    response: Response, *, identity: str, password: str, remember: bool
) -> BrowserSignIn:
    """Check the credentials, replace any session the browser held, and set its cookies.

    Raises the flow's errors (``InvalidCredentials``, ``AccountDisabled``, ``RateLimited``).
    """
    state = current_bastion()
    try:
        with state.db.transaction() as db:
            user, opened = accounts.log_in(
                db,
                state.passwords,
                state.settings,
                state.limits,
                identity=identity,
                password=password,
                remember=remember,
                kind="browser",
                client=request_client(),
                replacing=browser.session_token(request, state.settings),
                now=clock.now(),
            )
    except BastionError as error:
        audit("login_failed", reason=error.code)
        raise
    audit("login_succeeded", user_id=user.id, session_id=opened.record.id)
    return BrowserSignIn(user, opened, start_browser_session(response, opened))


def sign_out_browser(response: Response) -> None:
    """End the caller's session (bearer or cookie); a cookie caller also gets its cookies reset."""
    state = current_bastion()
    principal = current_principal() if bearer_credentials() is not None else None
    with state.db.transaction() as db:
        if principal is not None:
            accounts.sign_out(db, session_id=principal.session_id)
        else:
            accounts.sign_out(db, token=browser.session_token(request, state.settings))
    if bearer_credentials() is None:
        browser.end_session(response, state.settings, state.csrf_signer)
    audit("logout", session_id=principal.session_id if principal else None)
