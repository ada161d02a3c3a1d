"""Parse request bodies and query strings into pydantic models, or fail with one clear error."""

from __future__ import annotations

import functools
import json
import math
import re
import types
from collections.abc import Callable
from typing import Any, TypeVar, Union, get_args, get_origin

from flask import request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import FieldError, MalformedBody, UnsupportedMediaType, ValidationFailed
from .openapi import describe
from .state import current_bastion

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    # JSON has no infinity: ``1e400`` overflowing into ``inf`` would slip past every bound.
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return number


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which duplicate wins; refusing them leaves no room for smuggling.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key in a JSON object")
    return result


def _bad_characters(value: Any, path: str = "") -> FieldError | None:
    """NUL and lone surrogates pass JSON but break databases and encoders: refuse them early."""
    if isinstance(value, str):
        if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
            return FieldError(
                path or "body",
                "invalid_characters",
                "Text must not contain NUL characters or lone surrogates.",
            )
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _bad_characters(key, path) or _bad_characters(
                item, f"{path}.{key}" if path else key
            )
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _bad_characters(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def field_errors(exc: ValidationError) -> list[FieldError]:
    """pydantic's errors as ``{field, code, message}`` with dotted field paths."""
    errors = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        field = ".".join(str(part) for part in error["loc"]) or "body"
        message = error["msg"].removeprefix("Value error, ")
        errors.append(FieldError(field, error["type"], message))
    return errors


def validate(model: type[M], data: Any) -> M:
    """Validate already-decoded data against ``model``, raising 422 with per-field errors."""
    bad = _bad_characters(data)
    if bad:
        raise ValidationFailed(errors=[bad])
    if not isinstance(data, dict):
        raise ValidationFailed(
            "The body must be a JSON object.",
            errors=[FieldError("body", "type", "Expected a JSON object.")],
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(errors=field_errors(exc)) from None


def read_json(max_body: int) -> Any:
    """The request's JSON body: 415 unless JSON, 413 above ``max_body``, 400 when malformed."""
    # One byte over the limit: werkzeug silently truncates a chunked body at exactly the limit.
    request.max_content_length = max_body + 1
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType()
    if request.content_length is not None and request.content_length > max_body:
        raise RequestEntityTooLarge()
    raw = request.get_data(cache=True)
    if len(raw) > max_body:  # a body without Content-Length (chunked) that went over
        raise RequestEntityTooLarge()
    if not raw.strip():
        raise MalformedBody("The request body is empty; send a JSON object.")
    # RFC 8259 §8.1: JSON between systems is UTF-8 without a BOM. json.loads on bytes would
    # also guess UTF-16/32, so a body other parsers (a WAF, a log pipeline) read as noise
    # would reach us as meaning.
    if raw.startswith(b"\xef\xbb\xbf"):
        raise MalformedBody()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody() from None
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )
    except (ValueError, RecursionError):
        raise MalformedBody() from None


def auth_body() -> int:
    """The body limit of the auth and token endpoints (``BASTION_AUTH_MAX_BODY``)."""
    return current_bastion().settings.auth_max_body


def api_body() -> int:
    """The body limit of an app's API endpoints (``BASTION_API_MAX_BODY``)."""
    return current_bastion().settings.api_max_body


def json_body(model: type[BaseModel], *, max_body: int | Callable[[], int]) -> Callable[[F], F]:
    """Decorate a view to receive ``body=<model instance>`` parsed from a JSON request body."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            limit = max_body() if callable(max_body) else max_body
            kwargs["body"] = validate(model, read_json(limit))
            return view(*args, **kwargs)

        describe(wrapper, body=model)
        return wrapper  # type: ignore[return-value]

    return decorator


_INTEGER = re.compile(r"-?[0-9]+")
_NOT_AN_INTEGER = "Input should be a valid integer, unable to parse string as an integer"
_NOT_A_BOOLEAN = "Input should be a valid boolean, unable to interpret input"


def _scalar_type(annotation: Any) -> Any:
    """``int`` for ``int`` and ``int | None``; the annotation itself otherwise."""
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return inner[0] if len(inner) == 1 else annotation
    return annotation


def _query_value(kind: Any, field: str, text: str) -> Any:
    """A query-string word as the JSON type its field expects, parsed by one strict rule.

    Input models are strict, so a JSON ``"0"`` never becomes ``False``; a query string only
    has words, so its integers and booleans are parsed here, and nothing looser passes.
    """
    if kind is int:
        if not _INTEGER.fullmatch(text):
            raise ValidationFailed(errors=[FieldError(field, "int_parsing", _NOT_AN_INTEGER)])
        return int(text)
    if kind is bool:
        if text not in ("true", "false"):
            raise ValidationFailed(errors=[FieldError(field, "bool_parsing", _NOT_A_BOOLEAN)])
        return text == "true"
    return text


@functools.cache
def _query_kinds(model: type[BaseModel]) -> dict[str, Any]:
    """Each query argument's scalar type, worked out once per model (not once per request)."""
    return {
        (info.alias or name): _scalar_type(info.annotation)
        for name, info in model.model_fields.items()
    }


def query_data(model: type[BaseModel]) -> dict[str, Any]:
    """The request's query string as the dict ``model`` validates (a repeated key: a list)."""
    kinds = _query_kinds(model)
    data: dict[str, Any] = {}
    for key in request.args:
        values = [_query_value(kinds.get(key), key, v) for v in request.args.getlist(key)]
        data[key] = values if len(values) > 1 else values[0]
    return data


def query_args(model: type[BaseModel]) -> Callable[[F], F]:
    """Decorate a view to receive ``query=<model instance>`` parsed from the query string."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs["query"] = validate(model, query_data(model))
            return view(*args, **kwargs)

        describe(wrapper, query=model)
        return wrapper  # type: ignore[return-value]

    return decorator
