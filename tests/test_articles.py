"""The articles API: create/read/update/delete, ownership, If-Match, and the error contracts."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.conftest import Auth
from tests.newsroom_helpers import CLIENT_KINDS, Member, article_row, insert_articles, member
from tests.problems import invalid, problem

PROBLEM = "application/problem+json"


NOT_SIGNED_IN = problem(401, "not_authenticated", "Sign in to continue.")
NOT_EDITOR = problem(
    403,
    "not_article_editor",
    "Only the author, an editor or an admin may change this.",
)
ARTICLE_NOT_FOUND = problem(404, "article_not_found", "No article has this id.")
STALE = problem(412, "precondition_failed", "The resource changed since you read it.")
CSRF_FAILED = problem(403, "csrf_failed", "The CSRF token is missing or invalid.")


@pytest.fixture
def kind() -> str:
    """How the users of a test sign in; tests parametrize it over CLIENT_KINDS."""
    return "browser"


@pytest.fixture
def alice(app: Flask, kind: str) -> Member:
    return member(app, "alice", kind=kind)


@pytest.fixture
def article(alice: Member) -> dict[str, Any]:
    response = alice.post("/api/articles", {"title": "First", "body": "Hello"})
    assert response.status_code == 201
    return dict(response.json, etag=response.headers["ETag"])


@pytest.mark.parametrize("kind", CLIENT_KINDS)
def test_create_then_read(alice: Member) -> None:
    response = alice.post("/api/articles", {"title": "  Hello  ", "body": "World"})
    assert response.status_code == 201
    body = response.json
    assert body == {
        "id": body["id"],
        "title": "Hello",
        "body": "World",
        "author": {"id": alice.id, "username": "alice"},
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }
    assert response.headers["Location"] == f"/api/articles/{body['id']}"
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")

    again = alice.get(response.headers["Location"])
    assert again.status_code == 200
    assert again.json == body
    assert again.headers["ETag"] == etag


def test_another_user_reads_it_too(app: Flask, article: dict[str, Any]) -> None:
    bob = member(app, "bob")
    response = bob.get(f"/api/articles/{article['id']}")
    assert response.status_code == 200
    assert response.json["author"] == {"id": article["author"]["id"], "username": "alice"}


ENDPOINTS = [
    ("get", "/api/articles"),
    ("post", "/api/articles"),
    ("get", "/api/articles/1"),
    ("patch", "/api/articles/1"),
    ("delete", "/api/articles/1"),
]


def test_anonymous_gets_401(app: Flask, auth: Auth) -> None:
    author = member(app, "alice")
    insert_articles(app, author.id, 1)
    for method, path in ENDPOINTS:
        headers = auth.headers()  # a valid anonymous CSRF token: the 401 is about the sign-in
        response = getattr(auth.client, method)(
            path, json={"title": "t", "body": "b"}, headers=headers
        )
        assert response.status_code == 401
        assert response.mimetype == PROBLEM
        assert response.json == NOT_SIGNED_IN


@pytest.mark.parametrize(("method", "path"), [e for e in ENDPOINTS if e[0] != "get"])
def test_cookie_writes_need_the_csrf_token(
    app: Flask, alice: Member, method: str, path: str
) -> None:
    insert_articles(app, alice.id, 1)
    json = {"title": "t", "body": "b"}
    call = getattr(alice.client, method)
    response = call(path, json=json)
    assert response.status_code == 403
    assert response.json == CSRF_FAILED
    cross_site = call(path, json=json, headers=alice.headers(Origin="https://evil.example"))
    assert cross_site.status_code == 403
    assert cross_site.json == problem(
        403, "csrf_failed", "Cross-site requests from this origin are not allowed."
    )
    # Control: the same request with the token echoed goes through.
    assert call(path, json=json, headers=alice.headers()).status_code in (200, 201, 204)


@pytest.mark.parametrize("method", ["post", "patch"])
def test_malformed_json_is_400(alice: Member, article: dict[str, Any], method: str) -> None:
    path = "/api/articles" if method == "post" else f"/api/articles/{article['id']}"
    response = getattr(alice.client, method)(
        path, data="{not json", headers=alice.headers(**{"Content-Type": "application/json"})
    )
    assert response.status_code == 400
    assert response.json == problem(400, "malformed_json", "The request body is not valid JSON.")


@pytest.mark.parametrize("method", ["post", "patch"])
def test_not_json_is_415(alice: Member, article: dict[str, Any], method: str) -> None:
    path = "/api/articles" if method == "post" else f"/api/articles/{article['id']}"
    response = getattr(alice.client, method)(
        path, data="title=x", headers=alice.headers(**{"Content-Type": "text/plain"})
    )
    assert response.status_code == 415
    assert response.json["code"] == "unsupported_media_type"


@pytest.mark.parametrize("method", ["post", "patch"])
def test_oversized_body_is_413(
    app: Flask, alice: Member, article: dict[str, Any], method: str
) -> None:
    path = "/api/articles" if method == "post" else f"/api/articles/{article['id']}"
    limit = app.extensions["bastion"].settings.api_max_body
    response = getattr(alice.client, method)(
        path, json={"title": "t", "body": "x" * limit}, headers=alice.headers()
    )
    assert response.status_code == 413
    assert response.json == problem(413, "body_too_large", "The request body is too large.")


def test_create_validation(alice: Member) -> None:
    for payload, errors in [
        ({}, [("title", "missing", "Field required"), ("body", "missing", "Field required")]),
        ({"title": 3, "body": "b"}, [("title", "string_type", "Input should be a valid string")]),
        (
            {"title": "   ", "body": "b"},
            [("title", "string_too_short", "String should have at least 1 character")],
        ),
        (
            {"title": "t" * 201, "body": "b"},
            [("title", "string_too_long", "String should have at most 200 characters")],
        ),
        (
            {"title": "t", "body": ""},
            [("body", "string_too_short", "String should have at least 1 character")],
        ),
        (
            {"title": "t", "body": "a\x00b"},
            [
                (
                    "body",
                    "invalid_characters",
                    "Text must not contain NUL characters or lone surrogates.",
                )
            ],
        ),
    ]:
        response = alice.post("/api/articles", payload)
        assert response.status_code == 422
        assert response.json == invalid(*errors)


def test_create_rejects_a_json_array(alice: Member) -> None:
    response = alice.post("/api/articles", [{"title": "t", "body": "b"}])
    assert response.status_code == 422
    assert response.json == problem(
        422,
        "validation_failed",
        "The body must be a JSON object.",
        errors=[{"field": "body", "code": "type", "message": "Expected a JSON object."}],
    )


READONLY = {
    "id": 999,
    "author": {"id": 2, "username": "mallory"},
    "author_id": 2,
    "created_at": "2000-01-01T00:00:00Z",
    "updated_at": "2000-01-01T00:00:00Z",
    "version": 7,
}


def test_mass_assignment_is_refused(app: Flask, alice: Member, article: dict[str, Any]) -> None:
    for field in sorted(READONLY):
        extra = {field: READONLY[field]}
        created = alice.post("/api/articles", {"title": "t", "body": "b", **extra})
        patched = alice.patch(f"/api/articles/{article['id']}", {"title": "t", **extra})
        for response in (created, patched):
            assert response.status_code == 422
            assert response.json == invalid(
                (field, "extra_forbidden", "Extra inputs are not permitted")
            )
        row = article_row(app, article["id"])
        assert (row.title, row.author_id, row.version) == ("First", alice.id, 1)


def test_update_validation(alice: Member, article: dict[str, Any]) -> None:
    for payload, errors in [
        (
            {"title": None},
            [("title", "value_error", "Leave the field out rather than sending null.")],
        ),
        ({"body": 5}, [("body", "string_type", "Input should be a valid string")]),
        ({"title": ""}, [("title", "string_too_short", "String should have at least 1 character")]),
    ]:
        response = alice.patch(f"/api/articles/{article['id']}", payload)
        assert response.status_code == 422
        assert response.json == invalid(*errors)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
def test_partial_update_keeps_the_other_fields(alice: Member, article: dict[str, Any]) -> None:
    response = alice.patch(f"/api/articles/{article['id']}", {"body": "Changed"})
    assert response.status_code == 200
    body = response.json
    assert body["title"] == "First"
    assert body["body"] == "Changed"
    assert body["created_at"] == article["created_at"]
    assert body["updated_at"] > article["updated_at"]
    assert response.headers["ETag"] != article["etag"]
    assert alice.get(f"/api/articles/{article['id']}").json == body


def test_empty_patch_changes_nothing(alice: Member, article: dict[str, Any]) -> None:
    response = alice.patch(f"/api/articles/{article['id']}", {})
    assert response.status_code == 200
    assert response.headers["ETag"] == article["etag"]
    assert response.json == {k: v for k, v in article.items() if k != "etag"}


UNKNOWN_PATHS = [
    "/api/articles/abc",
    "/api/articles/1.5",
    "/api/articles/-1",
    "/api/articles/0",
    "/api/articles/424242",
    f"/api/articles/{2**31}",
    f"/api/articles/{2**63}",
    f"/api/articles/{10**40}",
]


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_article_is_404_problem(alice: Member, method: str) -> None:
    kwargs: dict[str, Any] = {"headers": alice.headers()}
    if method == "patch":
        kwargs["json"] = {"title": "t"}
    for path in UNKNOWN_PATHS:
        response = getattr(alice.client, method)(path, **kwargs)
        assert response.status_code == 404, path
        assert response.mimetype == PROBLEM
        numeric = path.rsplit("/", 1)[1].isdigit()
        expected = (
            ARTICLE_NOT_FOUND
            if numeric
            else problem(404, "not_found", "Nothing is found at this address.")
        )
        assert response.json == expected, path


# Who may change alice's article: the author, editors and admins; not another writer.
WHO = [
    ("alice", (), True),
    ("bob", (), False),
    ("erin", ("editor",), True),
    ("adam", ("admin",), True),
]


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize(("username", "roles", "allowed"), WHO)
def test_who_may_edit(
    app: Flask,
    alice: Member,
    article: dict[str, Any],
    username: str,
    roles: Any,
    allowed: bool,
    kind: str,
) -> None:
    actor = alice if username == "alice" else member(app, username, *roles, kind=kind)
    response = actor.patch(f"/api/articles/{article['id']}", {"title": f"By {username}"})
    if allowed:
        assert response.status_code == 200
        assert response.json["title"] == f"By {username}"
        assert response.json["author"] == {"id": alice.id, "username": "alice"}
    else:
        assert response.status_code == 403
        assert response.json == NOT_EDITOR
        assert article_row(app, article["id"]).title == "First"


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize(("username", "roles", "allowed"), WHO)
def test_who_may_delete(
    app: Flask,
    alice: Member,
    article: dict[str, Any],
    username: str,
    roles: Any,
    allowed: bool,
    kind: str,
) -> None:
    actor = alice if username == "alice" else member(app, username, *roles, kind=kind)
    response = actor.delete(f"/api/articles/{article['id']}")
    if allowed:
        assert response.status_code == 204
        assert response.data == b""
        assert alice.get(f"/api/articles/{article['id']}").status_code == 404
    else:
        assert response.status_code == 403
        assert response.json == NOT_EDITOR
        assert article_row(app, article["id"]) is not None


@pytest.mark.parametrize("kind", CLIENT_KINDS)
def test_if_match_with_the_current_etag_succeeds(alice: Member, article: dict[str, Any]) -> None:
    path = f"/api/articles/{article['id']}"
    first = alice.patch(path, {"title": "Two"}, headers={"If-Match": article["etag"]})
    assert first.status_code == 200
    second = alice.patch(path, {"title": "Three"}, headers={"If-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert second.json["title"] == "Three"


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_stale_if_match_is_412(
    app: Flask, alice: Member, article: dict[str, Any], method: str
) -> None:
    path = f"/api/articles/{article['id']}"
    assert alice.patch(path, {"title": "Moved on"}).status_code == 200
    call = getattr(alice, method)
    args = (path, {"title": "Lost?"}) if method == "patch" else (path,)
    response = call(*args, headers={"If-Match": article["etag"]})
    assert response.status_code == 412
    assert response.json == STALE
    assert article_row(app, article["id"]).title == "Moved on"


@pytest.mark.parametrize(
    ("header", "status"),
    [('"nonsense"', 412), ("*", 200), ("W/{etag}", 412), ('"x", {etag}', 200), ("{etag}", 200)],
)
def test_if_match_forms(alice: Member, article: dict[str, Any], header: str, status: int) -> None:
    value = header.format(etag=article["etag"])
    response = alice.patch(
        f"/api/articles/{article['id']}", {"title": "New"}, headers={"If-Match": value}
    )
    assert response.status_code == status


def test_get_honours_if_none_match(alice: Member, article: dict[str, Any]) -> None:
    path = f"/api/articles/{article['id']}"
    cached = alice.get(path, headers={"If-None-Match": article["etag"]})
    assert cached.status_code == 304
    assert cached.data == b""
    assert cached.headers["ETag"] == article["etag"]
    assert alice.patch(path, {"title": "Changed"}).status_code == 200
    fresh = alice.get(path, headers={"If-None-Match": article["etag"]})
    assert fresh.status_code == 200
    assert fresh.json["title"] == "Changed"


def test_delete_with_the_current_etag(alice: Member, article: dict[str, Any]) -> None:
    response = alice.delete(f"/api/articles/{article['id']}", headers={"If-Match": article["etag"]})
    assert response.status_code == 204
    assert alice.delete(f"/api/articles/{article['id']}").status_code == 404


def test_a_reused_id_gets_a_new_etag(alice: Member, article: dict[str, Any]) -> None:
    # SQLite may hand a deleted row's id to the next insert; the old ETag must not match it.
    assert alice.delete(f"/api/articles/{article['id']}").status_code == 204
    fresh = alice.post("/api/articles", {"title": "First", "body": "Hello"})
    response = alice.patch(
        f"/api/articles/{fresh.json['id']}", {"title": "x"}, headers={"If-Match": article["etag"]}
    )
    assert response.status_code == 412
    assert response.json == STALE


def test_a_signed_out_session_cannot_write(
    app: Flask, alice: Member, article: dict[str, Any]
) -> None:
    name = app.extensions["bastion"].settings.session_cookie_name
    kept = alice.client.get_cookie(name)
    assert kept is not None
    assert alice.auth.logout().status_code == 204
    alice.client.set_cookie(name, kept.value, domain=kept.domain)  # a copy kept from before
    response = alice.patch(f"/api/articles/{article['id']}", {"title": "x"})
    assert response.status_code == 401
    assert response.json == NOT_SIGNED_IN
    assert article_row(app, article["id"]).title == "First"
