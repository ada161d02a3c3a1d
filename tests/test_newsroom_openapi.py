"""The OpenAPI document describes the articles and admin APIs from the same models they validate."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate

REF = "#/components/schemas/"


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/api/openapi.json").json
    validate(document)
    return document


@pytest.mark.parametrize(
    ("path", "method", "body", "ok", "statuses"),
    [
        ("/api/articles", "get", None, ("200", "ArticleListing"), {"401", "422"}),
        (
            "/api/articles",
            "post",
            "ArticleCreate",
            ("201", "ArticlePublic"),
            {"400", "401", "413", "415", "422"},
        ),
        ("/api/articles/{article_id}", "get", None, ("200", "ArticlePublic"), {"401", "404"}),
        (
            "/api/articles/{article_id}",
            "patch",
            "ArticleUpdate",
            ("200", "ArticlePublic"),
            {"400", "401", "403", "404", "412", "413", "415", "422"},
        ),
        ("/api/articles/{article_id}", "delete", None, ("204", None), {"401", "403", "404", "412"}),
        ("/api/admin/users", "get", None, ("200", "AdminUserPage"), {"401", "403", "422"}),
        (
            "/api/admin/users/{user_id}",
            "patch",
            "AdminUserUpdate",
            ("200", "AdminUserPublic"),
            {"400", "401", "403", "404", "409", "413", "415", "422"},
        ),
    ],
)
def test_newsroom_endpoints_are_described(
    spec: dict[str, Any],
    path: str,
    method: str,
    body: str | None,
    ok: tuple[str, str | None],
    statuses: set[str],
) -> None:
    operation = spec["paths"][path][method]
    assert operation["summary"]
    assert operation["security"] == [{"sessionCookie": []}, {"bearerAuth": []}]
    assert statuses | {ok[0]} <= set(operation["responses"])
    status, model = ok
    content = operation["responses"][status].get("content")
    if model is None:
        assert content is None
    else:
        assert content["application/json"]["schema"] == {"$ref": REF + model}
    if body:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": REF + body}
        assert spec["components"]["schemas"][body]["additionalProperties"] is False


def test_list_parameters_and_both_page_shapes(spec: dict[str, Any]) -> None:
    operation = spec["paths"]["/api/articles"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert set(params) == {"page", "per_page", "cursor", "author", "q", "sort"}
    assert params["per_page"]["schema"]["maximum"] == 100
    assert set(params["sort"]["schema"]["enum"]) == {
        "-created_at",
        "created_at",
        "-updated_at",
        "updated_at",
        "-title",
        "title",
    }
    assert "empty `cursor=`" in operation["description"]
    listing = spec["components"]["schemas"]["ArticleListing"]
    assert listing["anyOf"] == [{"$ref": REF + "ArticlePage"}, {"$ref": REF + "ArticleCursorPage"}]
    page = spec["components"]["schemas"]["ArticlePage"]
    assert set(page["required"]) == {"items", "page", "per_page", "total", "pages"}
    article = spec["components"]["schemas"]["ArticlePublic"]
    assert set(article["properties"]) == {
        "id",
        "title",
        "body",
        "author",
        "created_at",
        "updated_at",
    }


def test_admin_roles_are_an_enumeration(spec: dict[str, Any]) -> None:
    update = spec["components"]["schemas"]["AdminUserUpdate"]
    roles = update["properties"]["roles"]["anyOf"][0]
    assert roles["items"]["enum"] == ["admin", "editor"]
