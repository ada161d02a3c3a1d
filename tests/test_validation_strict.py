"""Strict input: UTF-8 only, JSON types as declared, no infinity, strict query strings."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from flask_bastion.testing import SignedIn
from tests.conftest import PASSWORD, Auth
from tests.newsroom_helpers import member, user_active
from tests.problems import MALFORMED, assert_problem, invalid

LOGIN = "/api/auth/login"
GOOD = {"identity": "bob", "password": PASSWORD}


@pytest.fixture
def bob(app: Flask) -> SignedIn:
    return member(app, "bob")


@pytest.fixture
def root(app: Flask) -> SignedIn:
    return member(app, "root", "admin")


def post(app: Flask, body: bytes) -> Any:
    client = app.test_client()
    headers = Auth(client).headers()
    return client.post(LOGIN, data=body, content_type="application/json", headers=headers)


def test_plain_utf8_signs_in(app: Flask, bob: SignedIn) -> None:
    assert post(app, json.dumps(GOOD).encode("utf-8")).status_code == 200


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
        lambda text: text.encode("utf-16"),
        lambda text: text.encode("utf-16-le"),
        lambda text: text.encode("utf-32"),
    ],
    ids=["utf8-bom", "utf16-bom", "utf16-le", "utf32"],
)
def test_other_encodings_are_malformed(app: Flask, bob: SignedIn, encode: Any) -> None:
    assert_problem(post(app, encode(json.dumps(GOOD))), MALFORMED)


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1e309"])
def test_numbers_beyond_a_double_are_malformed(app: Flask, bob: SignedIn, number: str) -> None:
    body = b'{"identity": "bob", "password": "x", "remember": ' + number.encode() + b"}"
    assert_problem(post(app, body), MALFORMED)


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "false", None])
def test_remember_takes_only_a_json_boolean(app: Flask, bob: SignedIn, value: Any) -> None:
    response = post(app, json.dumps({**GOOD, "remember": value}).encode())
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "remember"
    control = post(app, json.dumps({**GOOD, "remember": True}).encode())
    assert control.status_code == 200
    assert control.json["session"]["remember"] is True


@pytest.mark.parametrize("value", ["false", 0, "0", "no", ""])
def test_active_takes_only_a_json_boolean(
    app: Flask, root: SignedIn, bob: SignedIn, value: Any
) -> None:
    response = root.patch(f"/api/admin/users/{bob.id}", {"active": value})
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "active"
    assert user_active(app, bob.id)
    control = root.patch(f"/api/admin/users/{bob.id}", {"active": False})
    assert control.status_code == 200
    assert not user_active(app, bob.id)


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("page=1.0", "page", "int_parsing"),
        ("page=+1", "page", "int_parsing"),
        ("page= 1", "page", "int_parsing"),
        ("per_page=1_0", "per_page", "int_parsing"),
        ("per_page=%EF%BC%91", "per_page", "int_parsing"),  # a fullwidth digit one
    ],
)
def test_query_integers_are_plain_digits(bob: SignedIn, query: str, field: str, code: str) -> None:
    response = bob.get(f"/api/articles?{query}")
    assert_problem(
        response,
        invalid(
            (field, code, "Input should be a valid integer, unable to parse string as an integer")
        ),
    )
    assert bob.get("/api/articles?page=1&per_page=10").status_code == 200
