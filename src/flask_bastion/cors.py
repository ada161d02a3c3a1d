"""CORS with credentials, for the exact configured origins only."""

from __future__ import annotations

from flask import Request, Response

from .config import Settings
from .headers import header_names

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE"
# The request headers our API reads; the CSRF header names come from the settings.
API_REQUEST_HEADERS = ("Authorization", "If-Match", "If-None-Match", "X-Request-ID")
EXPOSED_HEADERS = "Location, ETag, Link, Retry-After, X-Request-ID, WWW-Authenticate"
PREFLIGHT_MAX_AGE = "600"


def allowed_headers(settings: Settings) -> str:
    """The request headers a cross-origin page may send.

    The JSON body, CSRF and API headers we read, then the app's own ``BASTION_CORS_ALLOW_HEADERS``
    (each name once, whatever its case: header names are case-insensitive).
    """
    names = ("Content-Type", *settings.csrf_headers, *API_REQUEST_HEADERS)
    unique: dict[str, str] = {}
    for name in (*names, *settings.cors_allow_headers):
        unique.setdefault(name.lower(), name)
    return ", ".join(unique.values())


def allowed_origin(request: Request, settings: Settings) -> str | None:
    """The request's Origin when it is exactly one we allow; never ``null`` or a look-alike."""
    origin = request.headers.get("Origin")
    # Exact string match of scheme, host and port, as browsers send them: no prefix, suffix or
    # pattern matching, so "https://app.example.com.evil.io" and "null" are never ours.
    if not origin or origin in ("null", "*"):  # development allows them in config, never here
        return None
    return origin if origin in settings.cors_origins else None


def preflight(request: Request, settings: Settings) -> Response | None:
    """Answer a CORS preflight; None when the request is not one."""
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return None
    response = Response(status=204)
    origin = allowed_origin(request, settings)
    if origin is not None:
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = allowed_headers(settings)
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


def apply_cors_headers(
    request: Request, response: Response, settings: Settings, present: set[str] | None = None
) -> Response:
    """``present``: :func:`~flask_bastion.headers.header_names` of the response, if known."""
    # Responses differ by Origin, so caches must key on it.
    if "vary" in (header_names(response) if present is None else present):
        response.vary.add("Origin")
    else:  # the usual case, without parsing and rewriting an empty header set (8 us a request)
        response.headers.add("Vary", "Origin")
    origin = allowed_origin(request, settings)
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response
