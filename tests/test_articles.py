"""The articles API: create/read/update/delete, ownership, If-Match, and the error contracts."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from flask_bastion.testing import ClientKind, SignedIn
from tests.conftest import Auth
from tests.newsroom_helpers import article_row, insert_articles, member
from tests.problems import CROSS_SITE, CSRF_FAILED, NOT_AUTHENTICATED, invalid, problem

PROBLEM = "application/problem+json"

NOT_EDITOR = problem(
    403,
    "not_article_editor",
    "Only the author, an editor or an admin may change this.",
)
ARTICLE_NOT_FOUND = problem(404, "article_not_found", "No article has this id.")
STALE = problem(412, "precondition_failed", "The resource changed since you read it.")


@pytest.fixture
def alice(app: Flask, client_kind: ClientKind) -> SignedIn:
    """The author, signed in as each kind of client in turn: the articles API treats both alike."""
    return member(app, "alice", kind=client_kind)


@pytest.fixture
def alice_in_a_browser(app: Flask) -> SignedIn:
    """The author, for the rules that only cookies have (CSRF, logout)."""
    return member(app, "alice")


@pytest.fixture
def article(alice: SignedIn) -> dict[str, Any]:
    response = alice.post("/api/articles", {"title": "First", "body": "Hello"})
    assert response.status_code == 201
    return dict(response.json, etag=response.headers["ETag"])


def test_create_then_read(alice: SignedIn) -> None:
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


def test_another_user_reads_it_too(
    app: Flask, article: dict[str, Any], client_kind: ClientKind
) -> None:
    bob = member(app, "bob", kind=client_kind)
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
        assert response.json == NOT_AUTHENTICATED


@pytest.mark.parametrize(("method", "path"), [e for e in ENDPOINTS if e[0] != "get"])
def test_cookie_writes_need_the_csrf_token(
    app: Flask, alice_in_a_browser: SignedIn, method: str, path: str
) -> None:
    alice = alice_in_a_browser
    insert_articles(app, alice.id, 1)
    json = {"title": "t", "body": "b"}
    call = getattr(alice.client, method)
    response = call(path, json=json)
    assert response.status_code == 403
    assert response.json == CSRF_FAILED
    cross_site = call(
        path, json=json, headers={**alice.headers(), "Origin": "https://evil.example"}
    )
    assert cross_site.status_code == 403
    assert cross_site.json == CROSS_SITE
    # Control: the same request with the token echoed goes through.
    assert call(path, json=json, headers=alice.headers()).status_code in (200, 201, 204)


@pytest.mark.parametrize("method", ["post", "patch"])
def test_malformed_json_is_400(alice: SignedIn, article: dict[str, Any], method: str) -> None:
    path = "/api/articles" if method == "post" else f"/api/articles/{article['id']}"
    response = alice.open(
        path, method.upper(), data="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json == problem(400, "malformed_json", "The request body is not valid JSON.")


@pytest.mark.parametrize("method", ["post", "patch"])
def test_not_json_is_415(alice: SignedIn, article: dict[str, Any], method: str) -> None:
    path = "/api/articles" if method == "post" else f"/api/articles/{article['id']}"
    response = alice.open(
        path, method.upper(), data="title=x", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.json["code"] == "unsupported_media_type"


@pytest.mark.parametrize("method", ["post", "patch"])
def test_oversized_body_is_413(
    app: Flask, alice: SignedIn, article: dict[str, Any], method: str
) -> None:
    path = "/api/articles" if method == "post" else f"/api/articles/{article['id']}"
    limit = app.extensions["bastion"].settings.api_max_body
    response = alice.open(path, method.upper(), json={"title": "t", "body": "x" * limit})
    assert response.status_code == 413
    assert response.json == problem(413, "body_too_large", "The request body is too large.")


def test_create_validation(alice: SignedIn) -> None:
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


def test_create_rejects_a_json_array(alice: SignedIn) -> None:
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


def test_mass_assignment_is_refused(app: Flask, alice: SignedIn, article: dict[str, Any]) -> None:
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


def test_update_validation(alice: SignedIn, article: dict[str, Any]) -> None:
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


def test_partial_update_keeps_the_other_fields(alice: SignedIn, article: dict[str, Any]) -> None:
    response = alice.patch(f"/api/articles/{article['id']}", {"body": "Changed"})
    assert response.status_code == 200
    body = response.json
    assert body["title"] == "First"
    assert body["body"] == "Changed"
    assert body["created_at"] == article["created_at"]
    assert body["updated_at"] > article["updated_at"]
    assert response.headers["ETag"] != article["etag"]
    assert alice.get(f"/api/articles/{article['id']}").json == body


def test_empty_patch_changes_nothing(alice: SignedIn, article: dict[str, Any]) -> None:
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
def test_unknown_article_is_404_problem(alice: SignedIn, method: str) -> None:
    json = {"title": "t"} if method == "patch" else None
    for path in UNKNOWN_PATHS:
        response = alice.open(path, method.upper(), json=json)
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
MAY_CHANGE = [("alice", ()), ("erin", ("editor",)), ("adam", ("admin",))]


def sign_in_as(
    app: Flask, alice: SignedIn, username: str, roles: tuple[str, ...], kind: ClientKind
) -> SignedIn:
    return alice if username == "alice" else member(app, username, *roles, kind=kind)


@pytest.mark.parametrize(("username", "roles"), MAY_CHANGE)
def test_the_author_editors_and_admins_may_edit(
    app: Flask,
    alice: SignedIn,
    article: dict[str, Any],
    username: str,
    roles: tuple[str, ...],
    client_kind: ClientKind,
) -> None:
    actor = sign_in_as(app, alice, username, roles, client_kind)
    response = actor.patch(f"/api/articles/{article['id']}", {"title": f"By {username}"})
    assert response.status_code == 200
    assert response.json["title"] == f"By {username}"
    assert response.json["author"] == {"id": alice.id, "username": "alice"}


def test_another_writer_may_not_edit(
    app: Flask, article: dict[str, Any], client_kind: ClientKind
) -> None:
    bob = member(app, "bob", kind=client_kind)
    response = bob.patch(f"/api/articles/{article['id']}", {"title": "By bob"})
    assert response.status_code == 403
    assert response.json == NOT_EDITOR
    assert article_row(app, article["id"]).title == "First"


@pytest.mark.parametrize(("username", "roles"), MAY_CHANGE)
def test_the_author_editors_and_admins_may_delete(
    app: Flask,
    alice: SignedIn,
    article: dict[str, Any],
    username: str,
    roles: tuple[str, ...],
    client_kind: ClientKind,
) -> None:
    actor = sign_in_as(app, alice, username, roles, client_kind)
    response = actor.delete(f"/api/articles/{article['id']}")
    assert response.status_code == 204
    assert response.data == b""
    assert alice.get(f"/api/articles/{article['id']}").status_code == 404


def test_another_writer_may_not_delete(
    app: Flask, article: dict[str, Any], client_kind: ClientKind
) -> None:
    bob = member(app, "bob", kind=client_kind)
    response = bob.delete(f"/api/articles/{article['id']}")
    assert response.status_code == 403
    assert response.json == NOT_EDITOR
    assert article_row(app, article["id"]) is not None


def test_if_match_with_the_current_etag_succeeds(alice: SignedIn, article: dict[str, Any]) -> None:
    path = f"/api/articles/{article['id']}"
    first = alice.patch(path, {"title": "Two"}, headers={"If-Match": article["etag"]})
    assert first.status_code == 200
    second = alice.patch(path, {"title": "Three"}, headers={"If-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert second.json["title"] == "Three"


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_stale_if_match_is_412(
    app: Flask, alice: SignedIn, article: dict[str, Any], method: str
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
def test_if_match_forms(alice: SignedIn, article: dict[str, Any], header: str, status: int) -> None:
    value = header.format(etag=article["etag"])
    response = alice.patch(
        f"/api/articles/{article['id']}", {"title": "New"}, headers={"If-Match": value}
    )
    assert response.status_code == status


def test_get_honours_if_none_match(alice: SignedIn, article: dict[str, Any]) -> None:
    path = f"/api/articles/{article['id']}"
    cached = alice.get(path, headers={"If-None-Match": article["etag"]})
    assert cached.status_code == 304
    assert cached.data == b""
    assert cached.headers["ETag"] == article["etag"]
    assert alice.patch(path, {"title": "Changed"}).status_code == 200
    fresh = alice.get(path, headers={"If-None-Match": article["etag"]})
    assert fresh.status_code == 200
    assert fresh.json["title"] == "Changed"


def test_delete_with_the_current_etag(alice: SignedIn, article: dict[str, Any]) -> None:
    response = alice.delete(f"/api/articles/{article['id']}", headers={"If-Match": article["etag"]})
    assert response.status_code == 204
    assert alice.delete(f"/api/articles/{article['id']}").status_code == 404


def test_a_reused_id_gets_a_new_etag(alice: SignedIn, article: dict[str, Any]) -> None:
    # SQLite may hand a deleted row's id to the next insert; the old ETag must not match it.
    assert alice.delete(f"/api/articles/{article['id']}").status_code == 204
    fresh = alice.post("/api/articles", {"title": "First", "body": "Hello"})
    response = alice.patch(
        f"/api/articles/{fresh.json['id']}", {"title": "x"}, headers={"If-Match": article["etag"]}
    )
    assert response.status_code == 412
    assert response.json == STALE


def test_a_signed_out_session_cannot_write(app: Flask, alice_in_a_browser: SignedIn) -> None:
    alice = alice_in_a_browser
    created = alice.post("/api/articles", {"title": "First", "body": "Hello"})
    assert created.status_code == 201
    article = created.json
    name = app.extensions["bastion"].settings.session_cookie_name
    kept = alice.client.get_cookie(name)
    assert kept is not None
    assert alice.sign_out().status_code == 204
    alice.client.set_cookie(name, kept.value, domain=kept.domain)  # a copy kept from before
    response = alice.patch(f"/api/articles/{article['id']}", {"title": "x"})
    assert response.status_code == 401
    assert response.json == NOT_AUTHENTICATED
    assert article_row(app, article["id"]).title == "First"
