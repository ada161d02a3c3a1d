"""Test helpers for apps built on Bastion: both client kinds, signed-in clients, errors, the clock.

Load it as a pytest plugin from your ``conftest.py``::

    pytest_plugins = ["flask_bastion.testing"]

and a test gets two fixtures:

``client_kind``
    ``"browser"`` or ``"app"``: a test that asks for it runs once per kind.
``clock``
    Bastion's clock (:mod:`flask_bastion.clock`), frozen for the test; move it with
    :meth:`Clock.advance` or :meth:`Clock.set`.

The helpers work without pytest and speak only HTTP, so they fit any app using Bastion::

    def test_only_members_read_drafts(app, client_kind):
        register(app.test_client(), email="ann@example.com", username="ann", password=PASSWORD)
        ann = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
        assert ann.get("/api/drafts").status_code == 200

The two kinds are the two ways a client proves who it is:

``browser``
    The session cookie, plus the ``XSRF-TOKEN`` cookie echoed in ``X-XSRF-TOKEN`` on unsafe
    requests (``POST {BASTION_URL_PREFIX}/login``).
``app``
    ``Authorization: Bearer <access token>`` from ``POST {BASTION_API_PREFIX}/token``, with a
    rotating refresh token and no cookies at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, overload

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

# Only the package's public names: the kit must not care where they live inside it.
from . import ClientKind, Settings, current_bastion
from . import clock as bastion_clock

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "CLIENT_KINDS",
    "ClientKind",
    "Clock",
    "SignedIn",
    "assert_problem",
    "create_user",
    "field_error",
    "frozen_clock",
    "invalid",
    "problem",
    "register",
    "signed_in",
]

CLIENT_KINDS: tuple[ClientKind, ...] = ("browser", "app")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# ---- problem+json bodies ---------------------------------------------------------------------


def problem(
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    **members: Any,
) -> dict[str, Any]:
    """The whole problem+json body Bastion renders for these values.

    ``members`` are the extra top-level members some problems carry (e.g. ``csrf_token``).
    """
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(members)
    return body


def field_error(name: str, code: str, message: str) -> dict[str, str]:
    """One entry of a problem's ``errors`` list."""
    return {"field": name, "code": code, "message": message}


def invalid(*errors: tuple[str, str, str]) -> dict[str, Any]:
    """The 422 body for these ``(field, code, message)`` errors, in this order."""
    return problem(
        422,
        "validation_failed",
        "Some fields are invalid.",
        errors=[field_error(name, code, message) for name, code, message in errors],
    )


@overload
def assert_problem(response: TestResponse, expected: Mapping[str, Any], /) -> None: ...
@overload
def assert_problem(
    response: TestResponse, status: int, code: str, /, *, detail: str, **members: Any
) -> None: ...
def assert_problem(
    response: TestResponse,
    expected: Mapping[str, Any] | int,
    code: str | None = None,
    /,
    **members: Any,
) -> None:
    """The response is problem+json and its body is exactly the expected one.

    Pass a whole body (from :func:`problem` or :func:`invalid`), or its parts:
    ``assert_problem(response, 401, "not_authenticated", detail="Sign in to continue.")``.
    """
    if isinstance(expected, Mapping):
        body = dict(expected)
    else:
        assert code is not None, "assert_problem(response, status, code, detail=...)"
        body = problem(expected, code, **members)
    assert response.status_code == body["status"], response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json() == body


# ---- signed-in clients -----------------------------------------------------------------------


def _settings(client: FlaskClient) -> Settings:
    with client.application.app_context():
        return current_bastion().settings


def _csrf_token(client: FlaskClient, settings: Settings) -> str:
    """A CSRF token fresh from the session endpoint, which also sets it as a cookie.

    Asking every time, as an SPA does when it starts, keeps the token bound to whatever session
    the jar holds now (one that was signed out or replaced gets a token that fits).
    """
    client.get(f"{settings.url_prefix}/session")
    cookie = client.get_cookie(settings.csrf_cookie_name)
    assert cookie is not None, (
        f"{settings.url_prefix}/session set no {settings.csrf_cookie_name} cookie"
    )
    return cookie.value


@dataclass
class SignedIn:
    """A client speaking for one signed-in user, as a browser or as an app.

    Its request methods add that kind's credentials, so a test reads the same for both kinds:
    a browser's cookie jar carries the session and unsafe requests echo the CSRF cookie in the
    first configured CSRF header; an app sends ``Authorization: Bearer`` and has no cookies.
    ``headers=`` adds to or overrides those headers.
    """

    kind: ClientKind
    client: FlaskClient
    user: dict[str, Any]
    settings: Settings = field(repr=False)
    access_token: str | None = None
    refresh_token: str | None = None

    @property
    def id(self) -> int:
        """The signed-in user's id."""
        return int(self.user["id"])

    @property
    def username(self) -> str:
        """The signed-in user's username."""
        return str(self.user["username"])

    def headers(self, method: str = "POST") -> dict[str, str]:
        """The credential headers this client adds to a ``method`` request."""
        if self.kind == "app":
            return {"Authorization": f"Bearer {self.access_token}"}
        if method.upper() in SAFE_METHODS:
            return {}
        return {self.settings.csrf_headers[0]: _csrf_token(self.client, self.settings)}

    def open(self, path: str, method: str = "GET", **kwargs: Any) -> TestResponse:
        """Send a request with this client's credentials; ``kwargs`` as for Flask's test client.

        ``post``, ``put`` and ``patch`` take the JSON body as their second argument.
        """
        kwargs["headers"] = {**self.headers(method), **dict(kwargs.get("headers") or {})}
        return self.client.open(path, method=method, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.open(path, "GET", **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        return self.open(path, "POST", json=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        return self.open(path, "PUT", json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        return self.open(path, "PATCH", json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.open(path, "DELETE", **kwargs)

    def sign_out(self) -> TestResponse:
        """End the session: logout for a browser; for an app, revoke its refresh token."""
        if self.kind == "app":
            return self.client.post(
                f"{self.settings.api_prefix}/token/revoke", json={"token": self.refresh_token}
            )
        return self.post(f"{self.settings.url_prefix}/logout")


def register(client: FlaskClient, *, email: str, username: str, password: str) -> SignedIn:
    """Create an account through the API; Bastion signs it in, so ``client`` is now its browser.

    This needs ``BASTION_EMAIL_CONFIRMATION`` ``optional`` or ``off``: with ``required`` (the
    default) registering signs nobody in until the mailed link is opened; use
    :func:`create_user` for a confirmed account instead. For an account that some other client
    will use, register from a throwaway ``app.test_client()``.
    """
    settings = _settings(client)
    response = client.post(
        f"{settings.url_prefix}/register",
        json={"email": email, "username": username, "password": password},
        headers={settings.csrf_headers[0]: _csrf_token(client, settings)},
    )
    assert response.status_code != 202, (
        "registering waits for email confirmation (BASTION_EMAIL_CONFIRMATION=required): "
        "use create_user() for a confirmed account, or set the mode to optional"
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return SignedIn("browser", client, response.get_json()["user"], settings)


def create_user(app: Flask, *, email: str, username: str, password: str) -> int:
    """Create an active account whose address counts as confirmed, as an admin would (no mail,
    no session), validated like a registration; its id. Sign it in with :func:`signed_in`."""
    from .flows.accounts import register as register_account
    from .flows.context import command_context
    from .schemas import RegisterInput
    from .validation import validate

    with app.app_context():
        state = current_bastion()
        data = validate(RegisterInput, {"email": email, "username": username, "password": password})
        with state.db.unit_of_work() as db:
            ctx = command_context(state, db, now=bastion_clock.now())
            return register_account(ctx, data, confirmed=True).id


def signed_in(client: FlaskClient, kind: ClientKind, identity: str, password: str) -> SignedIn:
    """Sign in as ``identity`` through the HTTP API, as a browser or an app client.

    A browser signs in within ``client``'s cookie jar; an app gets a fresh client of the same
    app without cookies, so only its bearer token can speak for it.
    """
    settings = _settings(client)
    credentials = {"identity": identity, "password": password}
    if kind == "browser":
        response = client.post(
            f"{settings.url_prefix}/login",
            json=credentials,
            headers={settings.csrf_headers[0]: _csrf_token(client, settings)},
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return SignedIn("browser", client, response.get_json()["user"], settings)
    app_client = client.application.test_client()
    issued = app_client.post(f"{settings.api_prefix}/token", json=credentials)
    assert issued.status_code == 200, issued.get_data(as_text=True)
    tokens = issued.get_json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    state = app_client.get(f"{settings.url_prefix}/session", headers=bearer)
    assert state.status_code == 200, state.get_data(as_text=True)
    return SignedIn(
        "app",
        app_client,
        state.get_json()["user"],
        settings,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )


# ---- the clock -------------------------------------------------------------------------------


class Clock:
    """Bastion's clock, frozen at :attr:`current` until a test moves it.

    Everything in Bastion that reads the time reads :func:`flask_bastion.clock.now`, so moving
    this clock expires sessions, tokens and signing keys. Rate-limit windows are the exception:
    the ``limits`` storage keeps its own time (Redis's, in production).
    """

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start if start is not None else bastion_clock.now()

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative number) by ``seconds``."""
        self.current += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        """Move the clock to ``when`` (timezone-aware)."""
        assert when.tzinfo is not None, "Bastion's clock is timezone-aware"
        self.current = when


@contextmanager
def frozen_clock(start: datetime | None = None) -> Iterator[Clock]:
    """Freeze Bastion's clock for the ``with`` block (the ``clock`` fixture, without pytest)."""
    frozen = Clock(start)
    original: Callable[[], datetime] = bastion_clock.now
    bastion_clock.now = frozen
    try:
        yield frozen
    finally:
        bastion_clock.now = original


# ---- pytest fixtures -------------------------------------------------------------------------

try:
    import pytest
except ModuleNotFoundError:  # the helpers above need no pytest; only the fixtures do
    pass
else:

    @pytest.fixture(params=CLIENT_KINDS)
    def client_kind(request: pytest.FixtureRequest) -> ClientKind:
        """Run the test once as a browser client and once as an app client."""
        kind: ClientKind = request.param
        return kind

    @pytest.fixture
    def clock() -> Iterator[Clock]:
        """Bastion's clock, frozen at the current time for this test."""
        with frozen_clock() as frozen:
            yield frozen
