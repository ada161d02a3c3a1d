"""Security headers on every response; the one place each header's value is decided."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response

from .config import Settings

# What an answer that is not a page (JSON, problem+json, scripts, images) may load or run:
# nothing. It is never a document, so a browser that renders one anyway gets no capability.
NOT_A_PAGE_CSP = "default-src 'none'; frame-ancestors 'none'"


def header_names(response: Response) -> set[str]:
    """The lower-cased names ``response`` carries: one pass over its headers, which every rule
    that adds a header only when absent then shares (instead of a scan of its own each)."""
    return {name.lower() for name, _value in response.headers}


Header = tuple[str, str, str]  # name, name lower-cased, value


@dataclass(frozen=True)
class SecurityHeaders:
    """:func:`security_headers` worked out once per app, for pages and for everything else:
    the values depend on the settings alone, and an answer only picks its set."""

    page: tuple[Header, ...]
    other: tuple[Header, ...]

    @classmethod
    def of(cls, settings: Settings) -> SecurityHeaders:
        def entries(mimetype: str) -> tuple[Header, ...]:
            found = security_headers(settings, mimetype).items()
            return tuple((name, name.lower(), value) for name, value in found)

        return cls(page=entries("text/html"), other=entries(""))


def security_headers(settings: Settings, mimetype: str) -> dict[str, str]:
    """The security headers an answer of type ``mimetype`` gets (nginx's edge config too)."""
    headers = {
        # Browsers must not guess a content type: an upload must never run as a script.
        "X-Content-Type-Options": "nosniff",
        # Send only our origin to other sites, never paths that may hold tokens.
        "Referrer-Policy": "strict-origin-when-cross-origin",
        # From nothing allowed up: a page gets only what pages need (the setting); a view may
        # set its own (the API docs do).
        "Content-Security-Policy": (
            settings.content_security_policy if mimetype == "text/html" else NOT_A_PAGE_CSP
        ),
        "X-Frame-Options": "DENY",  # frame-ancestors for older browsers
        # A window we open cannot script us, nor we it (cross-window attacks, Spectre).
        "Cross-Origin-Opener-Policy": "same-origin",
        # Other sites cannot embed our answers (<script>, <img>) to read them by side channels.
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if settings.secure_cookies:
        # Once seen over https, never downgrade to http (SSL stripping).
        headers["Strict-Transport-Security"] = f"max-age={settings.hsts_max_age}; includeSubDomains"
    return headers


def apply_security_headers(
    response: Response, headers: SecurityHeaders, present: set[str] | None = None
) -> Response:
    """Add each security header the response does not carry yet (a view's own value wins).

    ``present`` is :func:`header_names` of the response, when the caller has it already.
    """
    present = header_names(response) if present is None else present
    # werkzeug's setdefault scans the header list up to three times and raises a KeyError
    # for each header it adds (30 us a request here): one pass, then plain appends.
    for name, lowered, value in headers.page if response.mimetype == "text/html" else headers.other:
        if lowered not in present:
            response.headers.add(name, value)
    return response


def no_store(response: Response) -> Response:
    """Auth responses carry personal data and tokens: no cache may keep them."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def apply_cache_policy(
    response: Response, path: str, settings: Settings, present: set[str] | None = None
) -> Response:
    """API answers and errors are private by default: ``no-store`` unless the view chose.

    A view that sets ``Cache-Control`` itself (the JWKS, the docs' assets) keeps its choice.
    """
    if "cache-control" in (header_names(response) if present is None else present):
        return response
    is_api = path == settings.api_prefix or path.startswith(settings.api_prefix + "/")
    if is_api or response.mimetype == "application/problem+json":
        no_store(response)
    return response
