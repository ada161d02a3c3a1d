"""Helpers for asserting the one error shape: whole problem+json bodies, compared exactly."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}


def problem(
    status: int, code: str, detail: str, errors: list[dict[str, str]] | None = None, **extra: Any
) -> dict[str, Any]:
    """The exact problem+json body Bastion renders for these values."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return body


def field(name: str, code: str, message: str) -> dict[str, str]:
    return {"field": name, "code": code, "message": message}


def invalid(*errors: tuple[str, str, str]) -> dict[str, Any]:
    """The 422 body for these (field, code, message) errors."""
    return problem(
        422,
        "validation_failed",
        "Some fields are invalid.",
        errors=[field(f, c, m) for f, c, m in errors],
    )


def assert_problem(response: Any, expected: dict[str, Any]) -> None:
    """The response is problem+json with exactly ``expected`` as its body and status."""
    assert response.status_code == expected["status"], response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json() == expected


CSRF_FAILED = problem(403, "csrf_failed", "The CSRF token is missing or invalid.")
CROSS_SITE = problem(403, "csrf_failed", "Cross-site requests from this origin are not allowed.")
INVALID_CREDENTIALS = problem(401, "invalid_credentials", "The identity or password is wrong.")
MALFORMED = problem(400, "malformed_json", "The request body is not valid JSON.")
UNSUPPORTED = problem(415, "unsupported_media_type", "Send the body as application/json.")
TOO_LARGE = problem(413, "body_too_large", "The request body is too large.")
RATE_LIMITED = problem(429, "rate_limited", "Too many attempts; wait and try again.")
