"""Hostile request bodies, generated: whatever arrives, never a 500, always the one problem shape.

The fuzzers of the auth API run on the minimal app; the last one walks every JSON endpoint of
newsroom, the app with the most of them.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import AppFactory, Auth

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
AUTH_MAX_BODY = 4 * 1024
PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}

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
    # The token endpoints also carry the RFC 6749 5.2 members, for OAuth clients.
    oauth = (
        {"error", "error_description"} if response.request.path.startswith("/api/token") else set()
    )
    assert PROBLEM_KEYS <= set(body) <= PROBLEM_KEYS | {"errors"} | oauth
    assert body["status"] == response.status_code
    assert body["type"] == "about:blank"
    assert all(isinstance(body[k], str) and body[k] for k in ("title", "detail", "code"))
    for error in body.get("errors", []):
        assert set(error) == {"field", "code", "message"}
        assert all(isinstance(v, str) for v in error.values())


def fresh_client(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    client = app.test_client()
    return client, Auth(client).headers()


@pytest.mark.minimal_app
@FUZZ
@given(path=st.sampled_from(ENDPOINTS), value=json_values | plausible_objects)
def test_random_json_values_never_500(app: Flask, path: str, value: Any) -> None:
    client, headers = fresh_client(app)
    assert_contract(client.post(path, json=value, headers=headers))


@pytest.mark.minimal_app
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


@pytest.mark.minimal_app
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
def open_app(app_factory: AppFactory) -> Flask:
    """An app whose sign-up limit lets every generated example register its own user."""
    return app_factory(BASTION_REGISTER_LIMIT_PER_IP="100000/hour")


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
