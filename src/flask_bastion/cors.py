"""CORS with credentials, for the exact configured origins only."""

from __future__ import annotations

from flask import Request, Response

from .config import Settings

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
    return allowed(request.headers.get("Origin"), settings)


def allowed(origin: str | None, settings: Settings) -> str | None:
    """``origin`` (an Origin header's value) when it is exactly one we allow, else None."""
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


def response_headers(origin: str | None, settings: Settings) -> list[tuple[str, str]]:
    """The CORS headers of an answer to a request from ``origin`` (its Origin header's value):
    none unless that origin is allowed. ``Vary: Origin`` is the caller's, on every answer
    (:class:`~flask_bastion.headers.SharedHeaders`)."""
    ours = allowed(origin, settings)
    if ours is None:
        return []
    return [
        ("Access-Control-Allow-Origin", ours),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
    ]
