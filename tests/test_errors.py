"""One error shape: 404, 405 and 500 are problem+json; a 500 shows a request id, no traceback."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import Conflict, ImATeapot

from tests.conftest import AppFactory
from tests.problems import assert_problem, problem

pytestmark = pytest.mark.minimal_app

NOT_FOUND = problem(404, "not_found", "Nothing is found at this address.")
NOT_ALLOWED = problem(405, "method_not_allowed", "This method is not allowed here.")
SECRET_DETAIL = "database password is hunter2"


def fail() -> Any:
    raise RuntimeError(SECRET_DETAIL)


def conflict() -> Any:
    raise Conflict("werkzeug's own conflict")


def teapot() -> Any:
    raise ImATeapot()


@pytest.fixture
def app(app_factory: AppFactory) -> Flask:
    app = app_factory()
    app.add_url_rule("/api/test/fail", view_func=fail, methods=["GET", "POST"])
    app.add_url_rule("/api/test/conflict", view_func=conflict)
    app.add_url_rule("/api/test/teapot", view_func=teapot)
    return app


@pytest.mark.parametrize(
    "path", ["/api/nowhere", "/api/auth/nowhere", "/api/auth/session/extra", "/nowhere"]
)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_unknown_paths_are_problem_json_404(client: FlaskClient, path: str, method: str) -> None:
    # Unsafe methods on unknown paths get 404, not a CSRF refusal: routing comes first.
    assert_problem(client.open(path, method=method), NOT_FOUND)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/api/auth/login", {"POST"}),
        ("PUT", "/api/auth/register", {"POST"}),
        ("DELETE", "/api/auth/session", {"GET"}),
        ("POST", "/api/auth/session", {"GET"}),
        ("PATCH", "/api/test/whoami", {"GET"}),
    ],
)
def test_wrong_methods_are_problem_json_405_with_allow(
    client: FlaskClient, method: str, path: str, allowed: set[str]
) -> None:
    response = client.open(path, method=method)
    assert_problem(response, NOT_ALLOWED)
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_500_shows_a_request_id_and_no_traceback(client: FlaskClient, method: str) -> None:
    response = client.open(
        "/api/test/fail", method=method, headers={"X-Request-ID": "req-12345678"}
    )
    if method == "POST":  # the CSRF rule still comes first
        assert response.status_code == 403
        return
    detail = "Something went wrong on our side. Quote the request id if you report it."
    assert_problem(response, problem(500, "internal_error", detail, request_id="req-12345678"))
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and SECRET_DETAIL not in text and "RuntimeError" not in text
    assert response.headers["X-Request-ID"] == "req-12345678"


def test_a_500_request_id_is_minted_when_none_is_given(client: FlaskClient) -> None:
    response = client.get("/api/test/fail")
    assert response.status_code == 500
    assert response.json["request_id"] == response.headers["X-Request-ID"]
    assert len(response.json["request_id"]) == 32


def test_the_500_is_logged_with_its_request_id(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = client.get("/api/test/fail", headers={"X-Request-ID": "req-abcdefgh"})
    records = [r for r in caplog.records if r.name == "flask_bastion.errors"]
    assert len(records) == 1
    assert records[0].levelname == "ERROR" and records[0].exc_info is not None
    assert getattr(records[0], "request_id", None) == response.json["request_id"]


def test_werkzeug_errors_keep_their_status_in_the_same_shape(client: FlaskClient) -> None:
    assert_problem(
        client.get("/api/test/conflict"), problem(409, "conflict", "werkzeug's own conflict")
    )
    response = client.get("/api/test/teapot")
    assert response.status_code == 418
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "http_error"
