"""Hostile input to the token endpoints and the bearer header: never a 500."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_bastion.oauth import OAUTH_ERRORS
from tests.token_helpers import issue, register

pytestmark = pytest.mark.minimal_app

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=15), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "identity",
        "username",
        "email",
        "password",
        "grant_type",
        "refresh_token",
        "token",
        "code",
        "mfa_token",
    ]
)
BODIES = JSON | st.dictionaries(FIELDS, JSON, max_size=4)
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(
    path=st.sampled_from(["/api/token", "/api/token/refresh", "/api/token/revoke"]),
    body=BODIES,
)
def test_token_endpoints_never_fail_on_json(client: FlaskClient, path: str, body: Any) -> None:
    response = client.post(
        path, data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (200, 400, 401, 403, 422, 429), response.json
    if response.status_code >= 400:
        assert response.json["error"] == OAUTH_ERRORS[response.json["code"]], response.json


@FUZZ
@given(form=st.dictionaries(FIELDS | st.text(max_size=10), st.text(max_size=40), max_size=5))
def test_the_token_form_never_fails(client: FlaskClient, form: dict[str, str]) -> None:
    response = client.post(
        "/api/token", data=urlencode(form), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in (200, 400, 401, 403, 422, 429), response.json
    if response.status_code >= 400:
        assert response.json["error"] == OAUTH_ERRORS[response.json["code"]], response.json


@FUZZ
@given(token=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=300))
def test_bearer_values_never_fail(app: Flask, client: FlaskClient, token: str) -> None:
    response = client.get(
        "/api/auth/sessions",
        headers={"Authorization": "Bearer " + token},
    )
    assert response.status_code == 401
    assert response.json["code"] in ("invalid_token", "not_authenticated")


@pytest.fixture
def pair(app: Flask, client: FlaskClient) -> dict[str, Any]:
    register(app.test_client())
    return issue(client)


@FUZZ
@given(
    segment=st.sampled_from([0, 1, 2]),
    junk=st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30
    ),
)
def test_mangled_genuine_tokens_are_refused(
    client: FlaskClient, pair: dict[str, Any], segment: int, junk: str
) -> None:
    parts = pair["access_token"].split(".")
    parts[segment] = junk + parts[segment]  # a prefix always changes the decoded bytes
    response = client.get(
        "/api/auth/sessions", headers={"Authorization": "Bearer " + ".".join(parts)}
    )
    assert response.status_code == 401
    assert response.json["code"] in ("invalid_token", "not_authenticated")
