"""The OpenAPI 3.1 document, built from the same pydantic models the views validate with."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .config import Settings
from .schemas import ProblemDetails

F = TypeVar("F", bound=Callable[..., Any])

OP_ATTR = "_bastion_op"
REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")

_STANDARD_ERRORS = {
    "400": "Malformed JSON",
    "413": "Body too large",
    "415": "Not JSON",
    "422": "Invalid fields",
}


# What every 429 carries (ratelimit.refusal): when to try again, and the IETF fields.
RATE_LIMIT_HEADERS: dict[str, Any] = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    },
    "RateLimit-Policy": {
        "description": 'The policy that refused, e.g. `"login-ip";q=60;w=60`'
        " (draft-ietf-httpapi-ratelimit-headers)",
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'What remains of it and when it resets, e.g. `"login-ip";r=0;t=17`',
        "schema": {"type": "string"},
    },
}


def describe(view: Callable[..., Any], **meta: Any) -> None:
    """Record OpenAPI facts about a view (merged with what other decorators recorded)."""
    current: dict[str, Any] = dict(getattr(view, OP_ATTR, {}))
    for key, value in meta.items():
        if key == "responses":
            current["responses"] = {**current.get("responses", {}), **value}
        else:
            current[key] = value
    setattr(view, OP_ATTR, current)


def responds(
    status: int, model: type[BaseModel] | None = None, description: str = ""
) -> Callable[[F], F]:
    """Document a response of a view (``model=None`` for an empty body)."""

    def decorator(view: F) -> F:
        describe(view, responses={str(status): (model, description)})
        return view

    return decorator


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": REF.format(model="ProblemDetails")}}
        },
    }


def build_spec(app: Flask, settings: Settings) -> dict[str, Any]:
    """Walk the URL map and describe every route under the API prefix that carries metadata."""
    prefix = settings.api_prefix
    models: set[type[BaseModel]] = {ProblemDetails}
    operations: list[tuple[str, str, dict[str, Any], list[dict[str, Any]]]] = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix):
            continue
        view = app.view_functions.get(rule.endpoint)
        meta: dict[str, Any] | None = getattr(view, OP_ATTR, None)
        if view is None or meta is None:
            continue
        params = [
            {
                "name": m["name"],
                "in": "path",
                "required": True,
                "schema": {"type": "integer"} if m["converter"] == "int" else {"type": "string"},
            }
            for m in _PATH_PARAM.finditer(rule.rule)
        ]
        path = _PATH_PARAM.sub(lambda m: "{" + m["name"] + "}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations.append((path, method.lower(), {**meta, "_view": view}, params))
        for key in ("body", "query"):
            if meta.get(key):
                models.add(meta[key])
        for model, _ in meta.get("responses", {}).values():
            if model is not None:
                models.add(model)

    ordered = sorted(models, key=lambda m: m.__name__)
    _, top = models_json_schema(
        [(m, "validation" if _is_input(m) else "serialization") for m in ordered],
        ref_template=REF,
    )
    paths: dict[str, dict[str, Any]] = {}
    for path, method, meta, params in operations:
        paths.setdefault(path, {})[method] = _operation(meta, params)
    return {
        "openapi": "3.1.0",
        "info": {"title": settings.openapi_title, "version": settings.openapi_version},
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": settings.session_cookie_name,
                    "description": "Browser session; unsafe methods also need "
                    f"{settings.csrf_headers[0]} echoing the {settings.csrf_cookie} cookie.",
                },
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }


def _is_input(model: type[BaseModel]) -> bool:
    return model.model_config.get("extra") == "forbid"


def _operation(meta: dict[str, Any], params: list[dict[str, Any]]) -> dict[str, Any]:
    view = meta["_view"]
    doc = inspect.getdoc(view) or ""
    summary, _, description = doc.partition("\n")
    op: dict[str, Any] = {
        "operationId": view.__name__,
        "summary": summary.strip() or view.__name__.replace("_", " "),
        "tags": [meta.get("tag", "api")],
        "responses": {},
    }
    if description.strip():
        op["description"] = description.strip()
    parameters = list(params)
    if meta.get("query"):
        schema = meta["query"].model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            parameters.append(
                {"name": name, "in": "query", "required": name in required, "schema": prop}
            )
    if parameters:
        op["parameters"] = parameters
    if meta.get("body"):
        schema = {"$ref": REF.format(model=meta["body"].__name__)}
        media_types = meta.get("body_media", ("application/json",))
        op["requestBody"] = {
            "required": True,
            "content": {media: {"schema": schema} for media in media_types},
        }
        for status, text in _STANDARD_ERRORS.items():
            op["responses"][status] = _problem_response(text)
    for status, (model, description) in meta.get("responses", {}).items():
        response: dict[str, Any] = {"description": description or "Success"}
        if model is not None:
            # Errors are sent as problem+json; the document must say what the server sends.
            media = "application/problem+json" if int(status) >= 400 else "application/json"
            response["content"] = {media: {"schema": {"$ref": REF.format(model=model.__name__)}}}
        if status == "429":
            response["headers"] = RATE_LIMIT_HEADERS
        op["responses"][status] = response
    if meta.get("auth"):
        op["security"] = [{"sessionCookie": []}, {"bearerAuth": []}]
        op["responses"]["401"] = _problem_response("Not signed in")
        if meta.get("roles"):
            op["responses"]["403"] = _problem_response("Missing role")
    else:
        op["security"] = []
    if not op["responses"]:
        op["responses"]["200"] = {"description": "Success"}
    return op
