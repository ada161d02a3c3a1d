"""Who is calling: cookies vs ``Authorization: Bearer``, and the access decorators.

The bearer tests hold whatever the token verifier does: a garbage token is refused, the cookie is
never consulted when a bearer header is present, and such a request is never CSRF-checked.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from flask_bastion.testing import ClientKind, SignedIn, register, signed_in
from tests.conftest import PASSWORD, Auth
from tests.problems import CSRF_FAILED, MISSING_ROLE, NOT_AUTHENTICATED, assert_problem, problem
from tests.roles import grant_roles

# The routes under /api/test are tests/minimal_app.py's: a protected read, and role-guarded ones.
pytestmark = pytest.mark.minimal_app

GARBAGE = "Bearer not-a-real-token"


class AnyText:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)


def assert_invalid_token(response: Any) -> None:
    # The detail may change with the token implementation; the contract is the rest.
    assert_problem(response, problem(401, "invalid_token", AnyText()))  # type: ignore[arg-type]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.fixture
def alice(app: Flask, client_kind: ClientKind) -> SignedIn:
    """alice, signed in as each kind of client in turn."""
    register(app.test_client(), email="alice@example.com", username="alice", password=PASSWORD)
    return signed_in(app.test_client(), client_kind, "alice", PASSWORD)


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
def test_bearer_requests_to_cookie_issuing_endpoints_are_refused(auth: Auth, path: str) -> None:
    response = auth.client.post(path, json={}, headers={"Authorization": GARBAGE})
    assert response.status_code == 400
    assert response.json["code"] == "bearer_not_accepted"
    assert "Set-Cookie" not in response.headers


def test_auth_required_anonymous_gets_401(client: Any) -> None:
    assert_problem(client.get("/api/test/me"), NOT_AUTHENTICATED)
    assert client.get("/api/test/whoami").json == {"authenticated": False}


def test_auth_required_signed_in_passes(alice: SignedIn) -> None:
    assert alice.get("/api/test/me").json == {"username": "alice", "roles": []}
    assert alice.get("/api/test/whoami").json == {"authenticated": True}


def test_role_guarded_routes_refuse_anonymous_callers(client: Any) -> None:
    assert_problem(client.get("/api/test/editors"), NOT_AUTHENTICATED)
    assert_problem(client.get("/api/test/staff"), NOT_AUTHENTICATED)


# /api/test/editors is roles_required("editor", "reviewer"): every one of the roles.
@pytest.mark.parametrize("roles", [("editor", "reviewer")])
def test_roles_required_passes_with_every_role(
    app: Flask, alice: SignedIn, roles: tuple[str, ...]
) -> None:
    grant_roles(app, alice.id, *roles)
    assert alice.get("/api/test/editors").status_code == 200
    assert alice.get("/api/auth/session").json["user"]["roles"] == sorted(roles)


@pytest.mark.parametrize("roles", [(), ("reviewer",), ("editor",), ("admin",)])
def test_roles_required_refuses_without_every_role(
    app: Flask, alice: SignedIn, roles: tuple[str, ...]
) -> None:
    grant_roles(app, alice.id, *roles)
    assert_problem(alice.get("/api/test/editors"), MISSING_ROLE)
    assert alice.get("/api/auth/session").json["user"]["roles"] == sorted(roles)


# /api/test/staff is roles_accepted("editor", "admin"): any one of the roles.
@pytest.mark.parametrize("roles", [("editor",), ("admin",), ("editor", "reviewer")])
def test_roles_accepted_passes_with_any_one_role(
    app: Flask, alice: SignedIn, roles: tuple[str, ...]
) -> None:
    grant_roles(app, alice.id, *roles)
    assert alice.get("/api/test/staff").status_code == 200
    assert alice.get("/api/auth/session").json["user"]["roles"] == sorted(roles)


@pytest.mark.parametrize("roles", [(), ("reviewer",)])
def test_roles_accepted_refuses_without_any_of_them(
    app: Flask, alice: SignedIn, roles: tuple[str, ...]
) -> None:
    grant_roles(app, alice.id, *roles)
    assert_problem(alice.get("/api/test/staff"), MISSING_ROLE)
    assert alice.get("/api/auth/session").json["user"]["roles"] == sorted(roles)


def test_roles_are_read_fresh_on_every_request(app: Flask, alice: SignedIn) -> None:
    assert alice.get("/api/test/staff").status_code == 403
    grant_roles(app, alice.id, "admin")
    assert alice.get("/api/test/staff").status_code == 200


# The API's word for an app client's session stays "token"; only the tests say "app".
SESSION_KIND = {"browser": "browser", "app": "token"}


def test_who_am_i_names_the_user_and_how_they_signed_in(
    alice: SignedIn, client_kind: ClientKind
) -> None:
    response = alice.get("/api/auth/session")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert (body["user"]["id"], body["user"]["username"]) == (alice.id, "alice")
    assert body["session"]["kind"] == SESSION_KIND[client_kind]


# Logout answers 204; revoking a token answers 200, as RFC 7009 asks.
SIGN_OUT_STATUS = {"browser": 204, "app": 200}


def test_signing_out_ends_the_session_for_either_kind(
    alice: SignedIn, client_kind: ClientKind
) -> None:
    assert alice.get("/api/test/me").status_code == 200
    assert alice.sign_out().status_code == SIGN_OUT_STATUS[client_kind]
    assert alice.get("/api/test/me").status_code == 401
