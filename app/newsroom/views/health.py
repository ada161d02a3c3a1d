"""Liveness: the cheapest endpoint, and the benchmark's floor."""

from __future__ import annotations

from flask import Blueprint, Response

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> Response:
    """Liveness probe: answers without touching the database."""
    return Response('{"status":"ok"}', mimetype="application/json")
