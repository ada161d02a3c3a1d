"""The admin API: list and search users, set roles, deactivate; effective on the next request."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from flask_bastion import current_bastion
from flask_bastion.models import AuthSession, Role
from flask_bastion.testing import SignedIn
from tests.conftest import Auth
from tests.newsroom_helpers import insert_articles, member, user_active
from tests.problems import (
    CSRF_FAILED,
    MALFORMED,
    MISSING_ROLE,
    NOT_AUTHENTICATED,
    invalid,
    problem,
)

PROBLEM = "application/problem+json"


USER_NOT_FOUND = problem(404, "user_not_found", "No user has this id.")


@pytest.fixture
def root(app: Flask) -> SignedIn:
    return member(app, "root", "admin")


@pytest.fixture
def bob(app: Flask) -> SignedIn:
    return member(app, "bob")


def sessions_of(app: Flask, user_id: int) -> int:
    with app.app_context(), current_bastion().db.engine.connect() as conn:
        stmt = select(func.count()).select_from(AuthSession).where(AuthSession.user_id == user_id)
        return int(conn.execute(stmt).scalar_one())


def test_list_users(root: SignedIn, bob: SignedIn) -> None:
    response = root.get("/api/admin/users")
    assert response.status_code == 200
    body = response.json
    assert {k: v for k, v in body.items() if k != "items"} == {
        "page": 1,
        "per_page": 20,
        "total": 2,
        "pages": 1,
    }
    first, second = body["items"]
    assert first == {
        "id": root.id,
        "email": "root@example.com",
        "username": "root",
        "roles": ["admin"],
        "active": True,
        "created_at": first["created_at"],
        "confirmed_at": first["confirmed_at"],
        "last_login_at": None,
        "last_login_ip": None,
        "current_login_at": None,
        "current_login_ip": None,
        "login_count": 0,
    }
    assert (second["username"], second["roles"]) == ("bob", [])
    assert response.headers["Link"] == (
        '</api/admin/users?page=1>; rel="first", </api/admin/users?page=1>; rel="last"'
    )


def test_list_users_pages_and_search(app: Flask, root: SignedIn) -> None:
    for n in range(5):
        member(app, f"writer{n}")
    member(app, "Other_Person")
    page = root.get("/api/admin/users?per_page=2&page=2")
    assert [u["username"] for u in page.json["items"]] == ["writer1", "writer2"]
    assert (page.json["total"], page.json["pages"]) == (7, 4)
    past_the_end = root.get("/api/admin/users?per_page=2&page=9")
    assert past_the_end.status_code == 200
    assert past_the_end.json["items"] == []
    found = root.get("/api/admin/users?q=WRITER")
    assert [u["username"] for u in found.json["items"]] == [f"writer{n}" for n in range(5)]
    by_email = root.get("/api/admin/users?q=writer3@example")
    assert [u["username"] for u in by_email.json["items"]] == ["writer3"]
    # _ and % are literal, not wildcards.
    assert [u["username"] for u in root.get("/api/admin/users?q=r_p").json["items"]] == [
        "Other_Person"
    ]
    assert root.get("/api/admin/users?q=%25").json["items"] == []


def test_list_users_rejects_bad_arguments(root: SignedIn) -> None:
    for query, field, code in [
        ("per_page=101", "per_page", "less_than_equal"),
        ("page=0", "page", "greater_than_equal"),
        ("page=99999999999999999999", "page", "less_than_equal"),
        ("per_page=1e309", "per_page", "int_parsing"),
        ("q=%00", "q", "invalid_characters"),
        ("sort=email", "sort", "extra_forbidden"),
    ]:
        response = root.get(f"/api/admin/users?{query}")
        assert response.status_code == 422
        assert response.mimetype == PROBLEM
        assert [(e["field"], e["code"]) for e in response.json["errors"]] == [(field, code)]


ENDPOINTS = [("get", "/api/admin/users"), ("patch", "/api/admin/users/1")]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_gets_401(app: Flask, auth: Auth, method: str, path: str) -> None:
    member(app, "root", "admin")
    response = getattr(auth.client, method)(path, json={"active": False}, headers=auth.headers())
    assert response.status_code == 401
    assert response.json == NOT_AUTHENTICATED


@pytest.mark.parametrize("roles", [(), ("editor",)])
@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_non_admins_get_403(
    app: Flask, root: SignedIn, roles: tuple[str, ...], method: str, path: str
) -> None:
    someone = member(app, "someone", *roles)
    response = getattr(someone, method)(
        path, **({"json": {"active": False}} if method == "patch" else {})
    )
    assert response.status_code == 403
    assert response.json == MISSING_ROLE
    assert user_active(app, root.id)


def test_patch_needs_the_csrf_token(root: SignedIn, bob: SignedIn) -> None:
    path = f"/api/admin/users/{bob.id}"
    response = root.client.patch(path, json={"roles": ["editor"]})
    assert response.status_code == 403
    assert response.json == CSRF_FAILED
    assert root.patch(path, {"roles": ["editor"]}).status_code == 200  # control


def test_patch_malformed_json_is_400(root: SignedIn, bob: SignedIn) -> None:
    response = root.client.patch(
        f"/api/admin/users/{bob.id}",
        data='{"active": ',
        headers={**root.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json == MALFORMED


def test_patch_oversized_body_is_413(app: Flask, root: SignedIn, bob: SignedIn) -> None:
    limit = app.extensions["bastion"].settings.api_max_body
    response = root.patch(f"/api/admin/users/{bob.id}", {"roles": ["editor"], "pad": "x" * limit})
    assert response.status_code == 413
    assert response.json["code"] == "body_too_large"


def test_patch_validation(root: SignedIn, bob: SignedIn) -> None:
    for payload, errors in [
        (
            {"roles": ["superuser"]},
            [("roles.0", "literal_error", "Input should be 'admin' or 'editor'")],
        ),
        ({"roles": "editor"}, [("roles", "list_type", "Input should be a valid list")]),
        (
            {"active": "maybe"},
            [
                (
                    "active",
                    "bool_type",
                    "Input should be a valid boolean",
                )
            ],
        ),
        (
            {"active": None},
            [("active", "value_error", "Leave the field out rather than sending null.")],
        ),
        (
            {"roles": None},
            [("roles", "value_error", "Leave the field out rather than sending null.")],
        ),
        (
            {"email": "x@example.com"},
            [("email", "extra_forbidden", "Extra inputs are not permitted")],
        ),
        (
            {"password_hash": "x"},
            [("password_hash", "extra_forbidden", "Extra inputs are not permitted")],
        ),
        ({"id": 1}, [("id", "extra_forbidden", "Extra inputs are not permitted")]),
    ]:
        response = root.patch(f"/api/admin/users/{bob.id}", payload)
        assert response.status_code == 422
        assert response.json == invalid(*errors)


def test_patch_unknown_user_is_404(root: SignedIn) -> None:
    for target in ["424242", str(2**31), str(2**64), str(10**40)]:
        response = root.patch(f"/api/admin/users/{target}", {"active": False})
        assert response.status_code == 404
        assert response.json == USER_NOT_FOUND


def test_patch_non_integer_id_is_404_problem(root: SignedIn) -> None:
    response = root.patch("/api/admin/users/abc", {"active": False})
    assert response.status_code == 404
    assert response.mimetype == PROBLEM


def test_set_roles_creates_known_roles_on_demand(app: Flask, root: SignedIn, bob: SignedIn) -> None:
    response = root.patch(f"/api/admin/users/{bob.id}", {"roles": ["editor", "admin", "editor"]})
    assert response.status_code == 200
    assert response.json == {
        "id": bob.id,
        "email": "bob@example.com",
        "username": "bob",
        "roles": ["admin", "editor"],
        "active": True,
        "created_at": response.json["created_at"],
        "confirmed_at": response.json["confirmed_at"],
        "last_login_at": None,
        "last_login_ip": None,
        "current_login_at": None,
        "current_login_ip": None,
        "login_count": 0,
    }
    with app.app_context(), current_bastion().db.engine.connect() as conn:
        assert sorted(conn.execute(select(Role.name)).scalars()) == ["admin", "editor"]
    assert root.patch(f"/api/admin/users/{bob.id}", {}).json["roles"] == ["admin", "editor"]
    assert root.patch(f"/api/admin/users/{bob.id}", {"roles": []}).json["roles"] == []


def test_role_removal_applies_on_the_next_request(app: Flask, root: SignedIn) -> None:
    writer = member(app, "writer")
    (article_id,) = insert_articles(app, writer.id, 1)
    erin = member(app, "erin", "editor")
    path = f"/api/articles/{article_id}"
    assert erin.patch(path, {"title": "Edited by an editor"}).status_code == 200
    assert erin.get("/api/auth/session").json["user"]["roles"] == ["editor"]

    assert root.patch(f"/api/admin/users/{erin.id}", {"roles": []}).status_code == 200

    response = erin.patch(path, {"title": "Again"})
    assert response.status_code == 403
    assert response.json["code"] == "not_article_editor"
    assert erin.get("/api/auth/session").json["user"]["roles"] == []


def test_demoted_admin_loses_the_admin_api_at_once(app: Flask, root: SignedIn) -> None:
    other = member(app, "other", "admin")
    assert other.get("/api/admin/users").status_code == 200
    assert root.patch(f"/api/admin/users/{other.id}", {"roles": ["editor"]}).status_code == 200
    response = other.get("/api/admin/users")
    assert response.status_code == 403
    assert response.json == MISSING_ROLE


def test_deactivation_applies_on_the_next_request(
    app: Flask, root: SignedIn, bob: SignedIn
) -> None:
    second = Auth(app.test_client())
    assert second.login("bob").status_code == 200
    assert sessions_of(app, bob.id) == 2
    assert bob.get("/api/articles").status_code == 200

    response = root.patch(f"/api/admin/users/{bob.id}", {"active": False})
    assert response.status_code == 200
    assert response.json["active"] is False

    assert sessions_of(app, bob.id) == 0
    for client in (bob.client, second.client):
        denied = client.get("/api/articles")
        assert denied.status_code == 401
        assert denied.json == NOT_AUTHENTICATED
    login = Auth(app.test_client()).login("bob")
    assert login.status_code in (401, 403)
    assert not user_active(app, bob.id)

    assert root.patch(f"/api/admin/users/{bob.id}", {"active": True}).status_code == 200
    assert Auth(app.test_client()).login("bob").status_code == 200


def test_deactivation_holds_even_if_a_session_row_survives(
    app: Flask, root: SignedIn, bob: SignedIn
) -> None:
    # Every request re-reads users.active with the session: flip it underneath the API.
    from sqlalchemy import update

    from flask_bastion.models import User

    with app.app_context(), current_bastion().db.engine.begin() as conn:
        conn.execute(update(User).where(User.id == bob.id).values(active=False))
    assert bob.get("/api/articles").status_code == 401


def test_admins_cannot_lock_themselves_out(app: Flask, root: SignedIn) -> None:
    for payload, detail in [
        ({"active": False}, "You cannot deactivate your own account."),
        ({"roles": ["editor"]}, "You cannot remove your own admin role."),
        ({"roles": []}, "You cannot remove your own admin role."),
        ({"roles": ["admin"], "active": False}, "You cannot deactivate your own account."),
    ]:
        response = root.patch(f"/api/admin/users/{root.id}", payload)
        assert response.status_code == 409
        assert response.json == problem(409, "self_lockout", detail)
        assert root.get("/api/admin/users").status_code == 200
        assert user_active(app, root.id)


def test_admins_may_change_their_own_other_roles(root: SignedIn) -> None:
    response = root.patch(
        f"/api/admin/users/{root.id}", {"roles": ["admin", "editor"], "active": True}
    )
    assert response.status_code == 200
    assert response.json["roles"] == ["admin", "editor"]
    assert root.get("/api/admin/users").status_code == 200


def test_deactivation_ends_bearer_access_too(app: Flask, root: SignedIn) -> None:
    app_user = member(app, "mobile", kind="token")
    assert app_user.get("/api/articles").status_code == 200
    assert root.patch(f"/api/admin/users/{app_user.id}", {"active": False}).status_code == 200
    response = app_user.get("/api/articles")
    assert response.status_code == 401
    assert response.json["code"] == "invalid_token"


def test_role_removal_applies_to_bearer_clients(app: Flask, root: SignedIn) -> None:
    writer = member(app, "writer")
    (article_id,) = insert_articles(app, writer.id, 1)
    erin = member(app, "erin", "editor", kind="token")
    path = f"/api/articles/{article_id}"
    assert erin.patch(path, {"title": "Edited"}).status_code == 200
    assert root.patch(f"/api/admin/users/{erin.id}", {"roles": []}).status_code == 200
    response = erin.patch(path, {"title": "Again"})
    assert response.status_code == 403
    assert response.json["code"] == "not_article_editor"


def test_admin_api_over_bearer(app: Flask, bob: SignedIn) -> None:
    admin_app = member(app, "ops", "admin", kind="token")
    assert admin_app.get("/api/admin/users").json["total"] == 2
    response = admin_app.patch(f"/api/admin/users/{bob.id}", {"roles": ["editor"]})
    assert response.status_code == 200
    assert response.json["roles"] == ["editor"]


def test_admins_see_the_trackable_fields_and_users_never_do(
    app: Flask, root: SignedIn, clock: object
) -> None:
    from flask_bastion.testing import signed_in
    from tests.conftest import PASSWORD

    bob = member(app, "bob")
    first = signed_in(app.test_client(), "browser", "bob", PASSWORD)
    clock.advance(60)  # type: ignore[attr-defined]
    signed_in(app.test_client(), "app", "bob", PASSWORD)
    listed = {u["username"]: u for u in root.get("/api/admin/users").json["items"]}["bob"]
    assert listed["login_count"] == 2
    assert listed["current_login_ip"] == listed["last_login_ip"] == "127.0.0.1"
    assert listed["last_login_at"] < listed["current_login_at"]
    assert listed["confirmed_at"] is None  # the tests' optional mode: never confirmed
    # Bob's own view of himself carries none of it.
    own = first.get("/api/auth/session").json["user"]
    assert not {"login_count", "last_login_ip", "current_login_ip"} & set(own)
    assert bob.id == listed["id"]
