"""The OpenAPI 3.1 document is valid and describes the auth API; the docs page needs no CDN."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate

pytestmark = pytest.mark.minimal_app

REF = "#/components/schemas/"


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document: dict[str, Any] = response.json
    return document


def schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["components"]["schemas"][name]
    return found


def test_the_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_the_document_is_stable_across_requests(client: FlaskClient, spec: dict[str, Any]) -> None:
    assert client.get("/api/openapi.json").json == spec


@pytest.mark.parametrize(
    ("path", "method", "body", "statuses"),
    [
        ("/api/auth/session", "get", None, {"200", "401"}),
        ("/api/auth/register", "post", "RegisterInput", {"201", "400", "409", "413", "415", "422"}),
        (
            "/api/auth/login",
            "post",
            "LoginInput",
            {"200", "400", "401", "413", "415", "422", "429"},
        ),
        ("/api/auth/logout", "post", None, {"204"}),
        ("/api/auth/register", "post", "RegisterInput", {"202", "429"}),
        ("/api/auth/confirm", "post", "ConfirmInput", {"200", "400", "413", "415", "422"}),
        ("/api/auth/confirm/resend", "post", "EmailInput", {"202", "413", "415", "422", "429"}),
        ("/api/auth/password/forgot", "post", "EmailInput", {"202", "422", "429"}),
        ("/api/auth/password/reset", "post", "ResetInput", {"200", "400", "422"}),
        (
            "/api/auth/password/change",
            "post",
            "PasswordChangeInput",
            {"200", "401", "413", "415", "422", "429"},
        ),
        ("/api/auth/email/change", "post", "EmailChangeInput", {"202", "401", "422", "429"}),
        ("/api/auth/code/request", "post", "CodeRequestInput", {"202", "422", "429"}),
        ("/api/auth/code/verify", "post", "CodeVerifyInput", {"200", "401", "403", "422", "429"}),
    ],
)
def test_auth_endpoints_are_described(
    spec: dict[str, Any], path: str, method: str, body: str | None, statuses: set[str]
) -> None:
    operation = spec["paths"][path][method]
    assert operation["summary"] and operation["operationId"]
    assert statuses <= set(operation["responses"])
    if body:
        content = operation["requestBody"]["content"]["application/json"]
        assert content["schema"] == {"$ref": REF + body}
        assert operation["requestBody"]["required"] is True
    else:
        assert "requestBody" not in operation
    for status, response in operation["responses"].items():
        if status.startswith(("4", "5")):
            problem = response["content"]["application/problem+json"]["schema"]
            assert problem == {"$ref": REF + "ProblemDetails"}


def test_response_schemas_are_referenced(spec: dict[str, Any]) -> None:
    session = spec["paths"]["/api/auth/session"]["get"]["responses"]["200"]
    assert session["content"]["application/json"]["schema"] == {"$ref": REF + "SessionState"}
    login = spec["paths"]["/api/auth/login"]["post"]["responses"]["200"]
    # Signed in, or (a user with a second factor) mfa_required and its methods.
    assert login["content"]["application/json"]["schema"] == {"$ref": REF + "SignedInOrMfa"}
    assert spec["components"]["schemas"]["SignedInOrMfa"]["anyOf"] == [
        {"$ref": REF + "SignedIn"},
        {"$ref": REF + "MfaChallengeStarted"},
    ]
    register = spec["paths"]["/api/auth/register"]["post"]["responses"]["201"]
    assert register["content"]["application/json"]["schema"] == {"$ref": REF + "Registered"}


def test_input_schemas_match_what_the_views_accept(spec: dict[str, Any]) -> None:
    register = schema(spec, "RegisterInput")
    assert set(register["properties"]) == {"email", "username", "password"}
    assert set(register["required"]) == {"email", "username", "password"}
    assert register["additionalProperties"] is False
    assert register["properties"]["username"]["maxLength"] == 32
    login = schema(spec, "LoginInput")
    assert {"identity", "password", "remember"} <= set(login["properties"])
    assert "password" in login["required"]
    assert login["additionalProperties"] is False


def test_output_schemas_never_expose_secrets(spec: dict[str, Any]) -> None:
    user = schema(spec, "UserPublic")
    assert set(user["properties"]) == {"id", "email", "username", "roles", "created_at"}
    text = str(spec["components"]["schemas"]).lower()
    assert "password_hash" not in text and "token_hash" not in text


def test_problem_schema_documents_the_error_shape(spec: dict[str, Any]) -> None:
    problem = schema(spec, "ProblemDetails")
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    assert {"errors", "request_id"} <= set(problem["properties"])
    assert set(schema(spec, "ProblemField")["required"]) == {"field", "code", "message"}


def test_security_schemes_are_declared(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["sessionCookie"]["in"] == "cookie"
    assert schemes["bearerAuth"]["scheme"] == "bearer"


def test_every_documented_path_exists(client: FlaskClient, spec: dict[str, Any]) -> None:
    rules = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule)
        for r in client.application.url_map.iter_rules()
    }
    assert set(spec["paths"]) <= rules


# ---- the docs page -----------------------------------------------------------------------------


def test_docs_page_uses_only_local_assets(client: FlaskClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert not re.search(r"(?i)(https?:)?//[a-z0-9]", html), "external URL in the docs page"
    assert "<script>" not in html  # no inline script: the CSP allows 'self' only
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp and "cdn" not in csp.lower()


def test_docs_assets_answer(client: FlaskClient) -> None:
    html = client.get("/api/docs").get_data(as_text=True)
    urls = re.findall(r'(?:src|href|data-spec-url)="([^"]+)"', html)
    assert len(urls) >= 4
    types = set()
    for url in urls:
        absolute = url if url.startswith("/") else "/api/" + url
        with client.get(absolute) as response:
            assert response.status_code == 200, absolute
            assert response.get_data(), absolute
            types.add(response.mimetype)
    assert {"text/css", "text/javascript", "application/json"} <= types


def test_docs_assets_cannot_escape_their_folder(client: FlaskClient) -> None:
    for path in ("/api/docs/assets/../../../../etc/passwd", "/api/docs/assets/%2e%2e/%2e%2e/x"):
        assert client.get(path).status_code == 404
