"""Who is calling: cookies vs ``Authorization: Bearer``, and the access decorators.

The bearer tests hold whatever the token verifier does: a garbage token is refused, the cookie is
never consulted when a bearer header is present, and such a request is never CSRF-checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, jsonify
from sqlalchemy import insert, select

from flask_bastion import (
    Role,
    User,
    auth_required,
    current_bastion,
    current_user,
    roles_accepted,
    roles_required,
)
from flask_bastion.models import user_roles
from tests.conftest import Auth, make_app
from tests.problems import CSRF_FAILED, assert_problem, problem

GARBAGE = "Bearer not-a-real-token"
NOT_AUTHENTICATED = problem(401, "not_authenticated", "Sign in to continue.")
MISSING_ROLE = problem(403, "forbidden", "Your roles do not allow this.")


class AnyText:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)


def assert_invalid_token(response: Any) -> None:
    # The detail may change with the token implementation; the contract is the rest.
    assert_problem(response, problem(401, "invalid_token", AnyText()))  # type: ignore[arg-type]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = make_app(database_url)

    @app.get("/api/test/me")
    @auth_required
    def me() -> Any:
        return jsonify(username=current_user.username, roles=sorted(current_user.roles))

    @app.get("/api/test/editors")
    @roles_required("editor", "reviewer")
    def editors() -> Any:
        return jsonify(ok=True)

    @app.get("/api/test/staff")
    @roles_accepted("editor", "admin")
    def staff() -> Any:
        return jsonify(ok=True)

    @app.get("/api/test/whoami")
    def whoami() -> Any:
        return jsonify(authenticated=current_user.is_authenticated)

    yield app
    app.extensions["bastion"].db.engine.dispose()


def grant(app: Flask, username: str, *roles: str) -> None:
    with app.app_context(), current_bastion().db.unit_of_work() as db:
        user_id = db.execute(select(User.id).where(User.username == username)).scalar_one()
        for name in roles:
            role_id = db.execute(select(Role.id).where(Role.name == name)).scalar()
            if role_id is None:
                role = Role(name=name, description="")
                db.add(role)
                db.flush()
                role_id = role.id
            db.execute(insert(user_roles).values(user_id=user_id, role_id=role_id))


@pytest.mark.parametrize(
    "path", ["/api/auth/session", "/api/test/me", "/api/test/editors", "/api/test/staff"]
)
def test_a_valid_cookie_with_a_garbage_bearer_is_refused(auth: Auth, path: str) -> None:
    auth.register()
    assert auth.client.get(path, headers={"Authorization": GARBAGE}).status_code == 401
    assert_invalid_token(auth.client.get(path, headers={"Authorization": GARBAGE}))


@pytest.mark.parametrize(
    "header", [GARBAGE, "bearer not-a-real-token", "Bearer ", "Bearer", "BEARER x.y.z"]
)
def test_bearer_spellings_never_fall_back_to_the_cookie(auth: Auth, header: str) -> None:
    auth.register()
    response = auth.client.get("/api/test/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert auth.client.get("/api/test/me").status_code == 200  # control: the cookie alone works


@pytest.mark.parametrize(
    "header", ["Basic YWxpY2U6cGFzc3dvcmQ=", "Token abc", "Bearerx abc", "Bearer\tx"]
)
def test_other_authorization_schemes_leave_the_cookie_in_charge(auth: Auth, header: str) -> None:
    auth.register()
    assert auth.client.get("/api/test/me", headers={"Authorization": header}).status_code == 200
    # ...and so the cookie's CSRF rule applies to them: no scheme but Bearer skips it.
    response = auth.client.post("/api/auth/logout", headers={"Authorization": header})
    assert_problem(response, CSRF_FAILED)


def test_a_bearer_post_is_not_csrf_checked(auth: Auth) -> None:
    auth.register()
    # No X-XSRF-TOKEN, a cross-site Origin even: the answer is about the token, never CSRF.
    response = auth.client.post(
        "/api/auth/logout",
        headers={
            "Authorization": GARBAGE,
            "Origin": "https://evil.example",
            "Sec-Fetch-Site": "cross-site",
        },
    )
    assert response.status_code == 401
    assert response.json["code"] != "csrf_failed"
    assert_invalid_token(response)
    # The cookie was not used to sign out: the session is still there.
    assert auth.client.get("/api/auth/session").status_code == 200
    # Control: without the bearer header, the same request is a CSRF failure.
    assert auth.client.post("/api/auth/logout").json["code"] == "csrf_failed"


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/register"])
def test_bearer_requests_to_body_endpoints_skip_csrf(auth: Auth, path: str) -> None:
    response = auth.client.post(path, json={}, headers={"Authorization": GARBAGE})
    assert response.json["code"] != "csrf_failed"
    assert response.status_code in (401, 422)


def test_auth_required_anonymous_gets_401(client: Any) -> None:
    assert_problem(client.get("/api/test/me"), NOT_AUTHENTICATED)
    assert client.get("/api/test/whoami").json == {"authenticated": False}


def test_auth_required_signed_in_passes(auth: Auth) -> None:
    auth.register()
    assert auth.client.get("/api/test/me").json == {"username": "alice", "roles": []}
    assert auth.client.get("/api/test/whoami").json == {"authenticated": True}


@pytest.mark.parametrize(
    ("roles", "editors", "staff"),
    [
        ((), 403, 403),
        (("reviewer",), 403, 403),
        (("editor",), 403, 200),
        (("admin",), 403, 200),
        (("editor", "reviewer"), 200, 200),
    ],
)
def test_role_decorators(
    app: Flask, auth: Auth, roles: tuple[str, ...], editors: int, staff: int
) -> None:
    assert_problem(auth.client.get("/api/test/editors"), NOT_AUTHENTICATED)
    assert_problem(auth.client.get("/api/test/staff"), NOT_AUTHENTICATED)
    auth.register()
    grant(app, "alice", *roles)
    for path, expected in (("/api/test/editors", editors), ("/api/test/staff", staff)):
        response = auth.client.get(path)
        if expected == 403:
            assert_problem(response, MISSING_ROLE)
        else:
            assert response.status_code == 200
    assert auth.client.get("/api/auth/session").json["user"]["roles"] == sorted(roles)


def test_roles_are_read_fresh_on_every_request(app: Flask, auth: Auth) -> None:
    auth.register()
    assert auth.client.get("/api/test/staff").status_code == 403
    grant(app, "alice", "admin")
    assert auth.client.get("/api/test/staff").status_code == 200
