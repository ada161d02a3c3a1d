"""Schemathesis against the articles and admin APIs: no 5xx, and answers match the document."""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from tests.newsroom_helpers import insert_articles, member

OPERATIONS = [
    ("/api/articles", "GET"),
    ("/api/articles", "POST"),
    ("/api/articles/{article_id}", "GET"),
    ("/api/articles/{article_id}", "PATCH"),
    ("/api/articles/{article_id}", "DELETE"),
    ("/api/admin/users", "GET"),
    ("/api/admin/users/{user_id}", "PATCH"),
]
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.mark.parametrize(
    "mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
def test_fuzzed_requests_get_documented_answers(
    app: Flask, mode: schemathesis.GenerationMode
) -> None:
    # An admin app client: the fuzzer reaches past authentication into every view.
    admin = member(app, "root", "admin", kind="token")
    member(app, "writer")
    insert_articles(app, admin.id, 30)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    for path, method in OPERATIONS:
        operation = schema[path][method]

        @settings(
            max_examples=20,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        @given(case=operation.as_strategy(mode))
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers=admin.headers())
            case.validate_response(response, checks=CHECKS)

        run()
