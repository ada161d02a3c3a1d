"""Turning response models into responses."""

from __future__ import annotations

from flask import Response, json
from pydantic import BaseModel


def render(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status=status, mimetype="application/json")


def render_json(data: object, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")
