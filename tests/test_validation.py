"""Request bodies: 415 for non-JSON, 413 when too large, 400 when malformed, 422 when invalid.

Chunked bodies over a real HTTP server are in test_validation_chunked.py; generated hostile
bodies in test_validation_fuzz.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from flask_bastion.testing import register, signed_in
from tests.conftest import PASSWORD, AppFactory, Auth
from tests.problems import (
    MALFORMED,
    TOO_LARGE,
    UNSUPPORTED,
    assert_problem,
    field,
    invalid,
    problem,
)

pytestmark = pytest.mark.minimal_app

ENDPOINTS = [
    "/api/auth/login",
    "/api/auth/register",
    "/api/auth/confirm",
    "/api/auth/confirm/resend",
    "/api/auth/password/forgot",
    "/api/auth/password/reset",
    "/api/auth/code/request",
    "/api/auth/code/verify",
]
# Endpoints for a signed-in caller: the same rules once the caller is known.
SIGNED_IN_ENDPOINTS = ["/api/auth/password/change", "/api/auth/email/change"]
AUTH_MAX_BODY = 4 * 1024

NOT_AN_OBJECT = problem(
    422,
    "validation_failed",
    "The body must be a JSON object.",
    [field("body", "type", "Expected a JSON object.")],
)
BAD_TEXT = "Text must not contain NUL characters or lone surrogates."


@pytest.fixture
def csrf(client: FlaskClient) -> dict[str, str]:
    return Auth(client).headers()


def post_raw(
    client: FlaskClient, path: str, data: Any, content_type: str | None, headers: Any
) -> Any:
    return client.post(path, data=data, content_type=content_type, headers=headers)


# ---- 415 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("identity=alice&password=x", "application/x-www-form-urlencoded"),
        ('{"identity": "alice"}', "text/plain"),
        ('{"identity": "alice"}', "text/plain; charset=utf-8"),
        ('{"identity": "alice"}', None),
        ('{"identity": "alice"}', "application/jsonx"),
        ('{"identity": "alice"}', "application/xml"),
        ("--x\r\n\r\n--x--\r\n", "multipart/form-data; boundary=x"),
    ],
)
def test_non_json_bodies_get_415(
    client: FlaskClient, csrf: dict[str, str], path: str, data: str, content_type: str | None
) -> None:
    assert_problem(post_raw(client, path, data, content_type, csrf), UNSUPPORTED)


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/x+json"])
def test_json_media_types_with_parameters_or_suffix_are_accepted(
    client: FlaskClient, csrf: dict[str, str], content_type: str
) -> None:
    body = json.dumps({"identity": "nobody", "password": PASSWORD})
    assert post_raw(client, "/api/auth/login", body, content_type, csrf).status_code == 401


# ---- 413 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ENDPOINTS)
def test_bodies_over_the_auth_limit_get_413(
    client: FlaskClient, csrf: dict[str, str], path: str
) -> None:
    padding = "x" * AUTH_MAX_BODY
    body = json.dumps({"identity": padding, "password": padding})
    assert_problem(post_raw(client, path, body, "application/json", csrf), TOO_LARGE)


def test_the_limit_is_exact(client: FlaskClient, csrf: dict[str, str]) -> None:
    def body(size: int) -> str:
        start = '{"identity": "nobody", "password": "'
        return start + "p" * (size - len(start) - 2) + '"}'

    at_limit = post_raw(client, "/api/auth/login", body(AUTH_MAX_BODY), "application/json", csrf)
    assert at_limit.status_code == 422  # the password is over the parse cap, but it was read
    over = post_raw(client, "/api/auth/login", body(AUTH_MAX_BODY + 1), "application/json", csrf)
    assert_problem(over, TOO_LARGE)


def test_the_auth_limit_is_a_setting(app_factory: AppFactory) -> None:
    client = app_factory(BASTION_AUTH_MAX_BODY=100).test_client()
    body = json.dumps({"identity": "x" * 100, "password": PASSWORD})
    response = client.post(
        "/api/auth/login",
        data=body,
        content_type="application/json",
        headers=Auth(client).headers(),
    )
    assert_problem(response, TOO_LARGE)


# ---- 400 ---------------------------------------------------------------------------------------


@pytest.fixture
def roomy(app_factory: AppFactory) -> FlaskClient:
    """A client of an app whose auth body limit lets the deepest nestings through to the parser."""
    return app_factory(BASTION_AUTH_MAX_BODY=1_000_000).test_client()


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "body",
    [
        b'{"identity": "alice", "password": ',  # truncated
        b'{"identity": "alice" "password": "x"}',  # missing comma
        b"{'identity': 'alice'}",  # single quotes
        b'{"identity": "\xff\xfe", "password": "x"}',  # invalid UTF-8
        b'{"identity": "\xc3", "password": "x"}',  # truncated UTF-8 sequence
        b'{"identity": "alice", "password": "x", "remember": NaN}',
        b'{"identity": "alice", "password": "x", "remember": Infinity}',
        b'{"identity": "alice", "password": "x", "remember": -Infinity}',
        b"[" * 100_000 + b"]" * 100_000,  # deep nesting must not become a RecursionError 500
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        b"[" * 3000,
        b'{"identity": "a", "identity": "b", "password": "x"}',  # duplicate keys
        b'{"identity": "a", "password": "x", "x": {"k": 1, "k": 2}}',
        b'{"identity": "alice"} trailing',
        b"1" * 5000,  # an integer longer than Python's int-parsing guard
        b'"\\ud800',
    ],
)
def test_malformed_json_gets_400(roomy: FlaskClient, path: str, body: bytes) -> None:
    headers = Auth(roomy).headers()
    assert_problem(post_raw(roomy, path, body, "application/json", headers), MALFORMED)


def test_nesting_around_the_parsers_depth_limit_never_500(roomy: FlaskClient) -> None:
    # Where the parser's recursion limit ends, the checks that walk the parsed value must
    # not hit their own: every depth is a 400 (too deep to parse) or a 422 (not an object).
    headers = Auth(roomy).headers()
    seen = set()
    for depth in range(600, 1200, 3):
        for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
            response = post_raw(roomy, "/api/auth/login", body, "application/json", headers)
            assert response.status_code in (400, 422), (depth, response.status_code)
            seen.add(response.status_code)
    assert seen == {400, 422}


@pytest.mark.parametrize("body", [b"", b"   ", b"\r\n\t"])
def test_an_empty_body_gets_400(client: FlaskClient, csrf: dict[str, str], body: bytes) -> None:
    assert_problem(
        post_raw(client, "/api/auth/login", body, "application/json", csrf),
        problem(400, "malformed_json", "The request body is empty; send a JSON object."),
    )


# ---- 422 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("body", ["[]", '["identity"]', '"alice"', "42", "4.2", "null", "true"])
def test_non_object_json_gets_422(
    client: FlaskClient, csrf: dict[str, str], path: str, body: str
) -> None:
    assert_problem(post_raw(client, path, body, "application/json", csrf), NOT_AN_OBJECT)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {},
            invalid(
                ("identity", "missing", "Field required"),
                ("password", "missing", "Field required"),
            ),
        ),
        (
            {"identity": 1, "password": None, "remember": "maybe"},
            invalid(
                ("identity", "string_type", "Input should be a valid string"),
                ("password", "string_type", "Input should be a valid string"),
                (
                    "remember",
                    "bool_type",
                    "Input should be a valid boolean",
                ),
            ),
        ),
        (
            {"identity": ["alice"], "password": {"p": 1}},
            invalid(
                ("identity", "string_type", "Input should be a valid string"),
                ("password", "string_type", "Input should be a valid string"),
            ),
        ),
        (
            {"identity": "alice", "password": "x", "admin": True},
            invalid(("admin", "extra_forbidden", "Extra inputs are not permitted")),
        ),
        (
            {"identity": "alice", "email": "alice@example.com", "password": "x"},
            invalid(("email", "extra_forbidden", "Extra inputs are not permitted")),
        ),
        (
            {"identity": "", "password": ""},
            invalid(
                ("identity", "string_too_short", "String should have at least 1 character"),
                ("password", "string_too_short", "String should have at least 1 character"),
            ),
        ),
        (
            {"identity": "alice\x00", "password": "x"},
            invalid(("identity", "invalid_characters", BAD_TEXT)),
        ),
        (
            {"identity": "alice", "password": "pass\x00word"},
            invalid(("password", "invalid_characters", BAD_TEXT)),
        ),
        (
            {"identity": "alice", "password": "x", "extra\x00key": 1},
            invalid(("body", "invalid_characters", BAD_TEXT)),
        ),
    ],
)
def test_login_field_errors(
    client: FlaskClient, csrf: dict[str, str], body: dict[str, Any], expected: dict[str, Any]
) -> None:
    response = client.post("/api/auth/login", json=body, headers=csrf)
    assert_problem(response, expected)


@pytest.mark.parametrize(
    "raw",
    [
        '{"identity": "\\ud800", "password": "x"}',  # a lone high surrogate
        '{"identity": "a\\udfffb", "password": "x"}',  # a lone low surrogate
    ],
)
def test_lone_surrogates_are_field_errors(
    client: FlaskClient, csrf: dict[str, str], raw: str
) -> None:
    assert_problem(
        post_raw(client, "/api/auth/login", raw, "application/json", csrf),
        invalid(("identity", "invalid_characters", BAD_TEXT)),
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {},
            invalid(
                ("email", "missing", "Field required"),
                ("username", "missing", "Field required"),
                ("password", "missing", "Field required"),
            ),
        ),
        (
            {"email": 5, "username": True, "password": 1.5},
            invalid(
                ("email", "string_type", "Input should be a valid string"),
                ("username", "string_type", "Input should be a valid string"),
                ("password", "string_type", "Input should be a valid string"),
            ),
        ),
        (
            {"email": "not-an-email", "username": "ok-name", "password": PASSWORD},
            invalid(("email", "value_error", "An email address must have an @-sign.")),
        ),
        (
            {"email": "a@example.com", "username": "ab", "password": PASSWORD},
            invalid(("username", "string_too_short", "String should have at least 3 characters")),
        ),
        (
            {"email": "a@example.com", "username": "x" * 33, "password": PASSWORD},
            invalid(("username", "string_too_long", "String should have at most 32 characters")),
        ),
        (
            {"email": "a@example.com", "username": "-dash", "password": PASSWORD},
            invalid(
                (
                    "username",
                    "value_error",
                    "Use a-z, digits, '.', '_' or '-', starting with a letter or digit.",
                )
            ),
        ),
        (
            {"email": "a@example.com", "username": "has space", "password": PASSWORD},
            invalid(
                (
                    "username",
                    "value_error",
                    "Use a-z, digits, '.', '_' or '-', starting with a letter or digit.",
                )
            ),
        ),
        (
            {
                "email": "a@example.com",
                "username": "alice",
                "password": PASSWORD,
                "roles": ["admin"],
            },
            invalid(("roles", "extra_forbidden", "Extra inputs are not permitted")),
        ),
    ],
)
def test_register_field_errors(
    client: FlaskClient, csrf: dict[str, str], body: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert_problem(client.post("/api/auth/register", json=body, headers=csrf), expected)


# ---- the signed-in endpoints -------------------------------------------------------------------


@pytest.mark.parametrize("path", SIGNED_IN_ENDPOINTS)
def test_signed_in_endpoints_follow_the_same_rules(client: FlaskClient, path: str) -> None:
    register(client, email="ann@example.com", username="ann", password=PASSWORD)
    ann = signed_in(client, "app", "ann", PASSWORD)
    bearer = ann.headers()
    padding = "x" * AUTH_MAX_BODY
    cases = [
        (post_raw(ann.client, path, '{"a": 1}', "text/plain", bearer), UNSUPPORTED),
        (
            post_raw(ann.client, path, json.dumps({"p": padding}), "application/json", bearer),
            TOO_LARGE,
        ),
        (post_raw(ann.client, path, b'{"a": ', "application/json", bearer), MALFORMED),
        (post_raw(ann.client, path, "[]", "application/json", bearer), NOT_AN_OBJECT),
    ]
    for response, expected in cases:
        assert_problem(response, expected)
    unknown = post_raw(ann.client, path, '{"surprise": 1}', "application/json", bearer)
    assert unknown.status_code == 422
    assert {"surprise"} <= {e["field"] for e in unknown.json["errors"]}
