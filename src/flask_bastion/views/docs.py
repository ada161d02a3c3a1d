"""The OpenAPI document and a browsable docs page, served from local assets (no CDN)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from ..openapi import build_spec
from ..state import current_bastion
from .render import render_json

bp = Blueprint("bastion_docs", __name__)
_STATIC = Path(__file__).resolve().parent.parent / "static"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} — API docs</title>
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
<main id="swagger-ui" data-spec-url="openapi.json"></main>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
"""

# Swagger UI sets inline styles, so the docs page alone allows them; scripts stay 'self' only.
_DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


@bp.get("/openapi.json")
def openapi_document() -> Response:
    state = current_bastion()
    if state.spec is None:
        state.spec = build_spec(current_app, state.settings)
    return render_json(state.spec)


@bp.get("/docs")
def docs_page() -> Response:
    title = current_bastion().settings.openapi_title
    response = Response(_PAGE.format(title=title), mimetype="text/html")
    response.headers["Content-Security-Policy"] = _DOCS_CSP
    return response


@bp.get("/docs/init.js")
def docs_init() -> Response:
    return send_from_directory(_STATIC, "swagger-init.js", max_age=300)


@bp.get("/docs/assets/<path:filename>")
def docs_asset(filename: str) -> Response:
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
