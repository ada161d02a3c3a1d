"""Request bodies: 415 for non-JSON, 413 when too large, 400 when malformed, 422 when invalid.

Hostile bodies are also generated with hypothesis: whatever arrives, never a 500, always the one
problem+json shape.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, Auth
from tests.problems import (
    MALFORMED,
    PROBLEM_KEYS,
    TOO_LARGE,
    UNSUPPORTED,
    assert_problem,
    field,
    problem,
)

ENDPOINTS = ["/api/auth/login", "/api/auth/register"]
AUTH_MAX_BODY = 4 * 1024
INVALID = "Some fields are invalid."


def invalid(*errors: dict[str, str], detail: str = INVALID) -> dict[str, Any]:
    return problem(422, "validation_failed", detail, list(errors))


NOT_AN_OBJECT = invalid(
    field("body", "type", "Expected a JSON object."), detail="The body must be a JSON object."
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


def test_the_auth_limit_is_a_setting(database_url: str) -> None:
    from tests.conftest import make_app

    app = make_app(database_url, BASTION_AUTH_MAX_BODY=100)
    try:
        client = app.test_client()
        body = json.dumps({"identity": "x" * 100, "password": PASSWORD})
        response = client.post(
            "/api/auth/login",
            data=body,
            content_type="application/json",
            headers=Auth(client).headers(),
        )
        assert_problem(response, TOO_LARGE)
    finally:
        app.extensions["bastion"].db.engine.dispose()


@pytest.fixture
def http_server(app: Flask) -> Iterator[tuple[str, int]]:
    """The test app behind werkzeug's real HTTP server, which decodes chunked bodies."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_port
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def chunked_post(
    address: tuple[str, int], path: str, chunks: list[bytes], headers: dict[str, str]
) -> tuple[int, str, bytes]:
    """POST a chunked body (no Content-Length) over a real connection: (status, type, body)."""
    conn = http.client.HTTPConnection(*address, timeout=10)
    try:
        # The server may answer 413 and close before reading everything.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.request(
                "POST",
                path,
                body=iter(chunks),
                headers={"Content-Type": "application/json", **headers},
                encode_chunked=True,
            )
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


def test_a_chunked_body_without_length_is_refused_over_the_limit(
    app: Flask, http_server: tuple[str, int]
) -> None:
    base = f"http://{http_server[0]}:{http_server[1]}"
    token = requests.get(base + "/api/auth/session", timeout=10).json()["csrf_token"]
    headers = {"Cookie": f"XSRF-TOKEN={token}", "X-XSRF-TOKEN": token}

    big = [b'{"identity": "' + b"x" * 1000] + [b"x" * 1000] * 8 + [b'", "password": "p"}']
    status, content_type, body = chunked_post(http_server, "/api/auth/login", big, headers)
    assert (status, content_type) == (413, "application/problem+json"), body
    assert json.loads(body) == TOO_LARGE

    # A valid object in the first 4 KiB must not be accepted as if the rest were not there.
    prefix = json.dumps({"identity": "nobody", "password": PASSWORD, "x": "y" * 5000})
    prefix = prefix[: AUTH_MAX_BODY - 2] + '"}'
    assert len(prefix) == AUTH_MAX_BODY and json.loads(prefix)
    chunks = [prefix.encode(), b" " * 2000]
    status, _, body = chunked_post(http_server, "/api/auth/login", chunks, headers)
    assert status == 413, body

    # Control: the same request, small enough, is read and judged on its content.
    small = [b'{"identity": "nobody", ', b'"password": "' + PASSWORD.encode() + b'"}']
    status, _, body = chunked_post(http_server, "/api/auth/login", small, headers)
    assert status == 401, body
    exact = [prefix.encode()]  # exactly at the limit is still allowed
    status, _, body = chunked_post(http_server, "/api/auth/login", exact, headers)
    assert status == 422, body


# ---- 400 ---------------------------------------------------------------------------------------


@pytest.fixture
def roomy(database_url: str) -> Iterator[FlaskClient]:
    """A client of an app whose auth body limit lets the deepest nestings through to the parser."""
    from tests.conftest import make_app

    app = make_app(database_url, BASTION_AUTH_MAX_BODY=1_000_000)
    yield app.test_client()
    app.extensions["bastion"].db.engine.dispose()


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
                field("identity", "missing", "Field required"),
                field("password", "missing", "Field required"),
            ),
        ),
        (
            {"identity": 1, "password": None, "remember": "maybe"},
            invalid(
                field("identity", "string_type", "Input should be a valid string"),
                field("password", "string_type", "Input should be a valid string"),
                field(
                    "remember",
                    "bool_parsing",
                    "Input should be a valid boolean, unable to interpret input",
                ),
            ),
        ),
        (
            {"identity": ["alice"], "password": {"p": 1}},
            invalid(
                field("identity", "string_type", "Input should be a valid string"),
                field("password", "string_type", "Input should be a valid string"),
            ),
        ),
        (
            {"identity": "alice", "password": "x", "admin": True},
            invalid(field("admin", "extra_forbidden", "Extra inputs are not permitted")),
        ),
        (
            {"identity": "alice", "email": "alice@example.com", "password": "x"},
            invalid(field("email", "extra_forbidden", "Extra inputs are not permitted")),
        ),
        (
            {"identity": "", "password": ""},
            invalid(
                field("identity", "string_too_short", "String should have at least 1 character"),
                field("password", "string_too_short", "String should have at least 1 character"),
            ),
        ),
        (
            {"identity": "alice\x00", "password": "x"},
            invalid(field("identity", "invalid_characters", BAD_TEXT)),
        ),
        (
            {"identity": "alice", "password": "pass\x00word"},
            invalid(field("password", "invalid_characters", BAD_TEXT)),
        ),
        (
            {"identity": "alice", "password": "x", "extra\x00key": 1},
            invalid(field("body", "invalid_characters", BAD_TEXT)),
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
        invalid(field("identity", "invalid_characters", BAD_TEXT)),
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {},
            invalid(
                field("email", "missing", "Field required"),
                field("username", "missing", "Field required"),
                field("password", "missing", "Field required"),
            ),
        ),
        (
            {"email": 5, "username": True, "password": 1.5},
            invalid(
                field("email", "string_type", "Input should be a valid string"),
                field("username", "string_type", "Input should be a valid string"),
                field("password", "string_type", "Input should be a valid string"),
            ),
        ),
        (
            {"email": "not-an-email", "username": "ok-name", "password": PASSWORD},
            invalid(field("email", "value_error", "An email address must have an @-sign.")),
        ),
        (
            {"email": "a@example.com", "username": "ab", "password": PASSWORD},
            invalid(
                field("username", "string_too_short", "String should have at least 3 characters")
            ),
        ),
        (
            {"email": "a@example.com", "username": "x" * 33, "password": PASSWORD},
            invalid(
                field("username", "string_too_long", "String should have at most 32 characters")
            ),
        ),
        (
            {"email": "a@example.com", "username": "-dash", "password": PASSWORD},
            invalid(
                field(
                    "username",
                    "value_error",
                    "Use letters, digits, '.', '_' or '-', starting with a letter or digit.",
                )
            ),
        ),
        (
            {"email": "a@example.com", "username": "has space", "password": PASSWORD},
            invalid(
                field(
                    "username",
                    "value_error",
                    "Use letters, digits, '.', '_' or '-', starting with a letter or digit.",
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
            invalid(field("roles", "extra_forbidden", "Extra inputs are not permitted")),
        ),
    ],
)
def test_register_field_errors(
    client: FlaskClient, csrf: dict[str, str], body: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert_problem(client.post("/api/auth/register", json=body, headers=csrf), expected)


# ---- hostile bodies, generated -----------------------------------------------------------------

ALLOWED_STATUSES = {400, 401, 403, 409, 413, 415, 422, 429}
FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(["identity", "email", "username", "password", "remember"])
plausible_objects = st.dictionaries(field_names | st.text(max_size=8), json_values, max_size=5)


def assert_contract(response: Any) -> None:
    """Never a 500; a success is JSON, every refusal the documented problem+json."""
    if response.status_code in (200, 201):
        assert response.mimetype == "application/json"
        return
    assert response.status_code in ALLOWED_STATUSES, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert PROBLEM_KEYS <= set(body) <= PROBLEM_KEYS | {"errors"}
    assert body["status"] == response.status_code
    assert body["type"] == "about:blank"
    assert all(isinstance(body[k], str) and body[k] for k in ("title", "detail", "code"))
    for error in body.get("errors", []):
        assert set(error) == {"field", "code", "message"}
        assert all(isinstance(v, str) for v in error.values())


def fresh_client(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    client = app.test_client()
    return client, Auth(client).headers()


@FUZZ
@given(path=st.sampled_from(ENDPOINTS), value=json_values | plausible_objects)
def test_random_json_values_never_500(app: Flask, path: str, value: Any) -> None:
    client, headers = fresh_client(app)
    assert_contract(client.post(path, json=value, headers=headers))


@FUZZ
@given(
    path=st.sampled_from(ENDPOINTS),
    body=st.binary(max_size=AUTH_MAX_BODY + 512),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/merge-patch+json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "multipart/form-data",
            "",
        ]
    ),
    with_token=st.booleans(),
)
def test_random_bytes_never_500(
    app: Flask, path: str, body: bytes, content_type: str, with_token: bool
) -> None:
    client, headers = fresh_client(app)
    response = client.post(
        path, data=body, content_type=content_type, headers=headers if with_token else {}
    )
    assert_contract(response)


@FUZZ
@given(
    path=st.sampled_from(ENDPOINTS),
    text=st.text(
        alphabet=st.characters(codec="utf-8") | st.sampled_from('{}[]":,\\0123456789eE.-+ntfaul'),
        max_size=200,
    ),
)
def test_random_json_like_text_never_500(app: Flask, path: str, text: str) -> None:
    client, headers = fresh_client(app)
    response = client.post(
        path, data=text.encode(), content_type="application/json", headers=headers
    )
    assert_contract(response)


def json_endpoints(app: Flask) -> list[tuple[str, str]]:
    """Every (method, path) whose view reads a JSON body, path parameters set to 1."""
    found = []
    for rule in app.url_map.iter_rules():
        meta = getattr(app.view_functions.get(rule.endpoint), "_bastion_op", None)
        if meta and meta.get("body"):
            path = re.sub(r"<(?:\w+:)?\w+>", "1", rule.rule)
            found += [(m, path) for m in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]
    return found


def test_the_json_endpoints_include_the_auth_api(app: Flask) -> None:
    assert {("POST", p) for p in ENDPOINTS} <= set(json_endpoints(app))


@pytest.fixture
def open_app(database_url: str) -> Iterator[Flask]:
    """An app whose sign-up limit lets every generated example register its own user."""
    from tests.conftest import make_app

    app = make_app(database_url, BASTION_REGISTER_LIMIT_PER_IP="100000/hour")
    yield app
    app.extensions["bastion"].db.engine.dispose()


@FUZZ
@given(data=st.data(), signed_in=st.booleans())
def test_random_json_to_every_json_endpoint_never_500(
    open_app: Flask, data: st.DataObject, signed_in: bool
) -> None:
    app = open_app
    endpoints = json_endpoints(app)
    method, path = data.draw(st.sampled_from(endpoints), label="endpoint")
    value = data.draw(json_values | plausible_objects, label="body")
    client = app.test_client()
    auth = Auth(client)
    if signed_in:
        name = "user" + str(data.draw(st.integers(0, 10**9), label="user"))
        assert auth.register(f"{name}@example.com", name).status_code in (201, 409)
    response = client.open(path, method=method, json=value, headers=auth.headers())
    if response.status_code in (204, 404, 412, 428):  # no body, or a missing resource/version
        assert response.status_code == 204 or response.mimetype == "application/problem+json"
        return
    assert_contract(response)
