"""Security headers on every response; the one place each header's value is decided."""

from __future__ import annotations

from flask import Response

from .config import Settings

# What an answer that is not a page (JSON, problem+json, scripts, images) may load or run:
# nothing. It is never a document, so a browser that renders one anyway gets no capability.
NOT_A_PAGE_CSP = "default-src 'none'; frame-ancestors 'none'"


def has_header(response: Response, name: str) -> bool:
    """Whether ``response`` carries ``name``; werkzeug's ``in`` raises and catches a KeyError
    for every absent name, which costs more than looking through a response's few headers."""
    wanted = name.lower()
    return any(key.lower() == wanted for key, _value in response.headers)


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


def apply_security_headers(response: Response, settings: Settings) -> Response:
    """Add each security header the response does not carry yet (a view's own value wins)."""
    # One pass over the names already set: werkzeug's setdefault scans the header list up to
    # three times and raises a KeyError for each header it adds (30 us a request here).
    present = {name.lower() for name, _value in response.headers}
    for name, value in security_headers(settings, response.mimetype or "").items():
        if name.lower() not in present:
            response.headers.add(name, value)
    return response


def no_store(response: Response) -> Response:
    """Auth responses carry personal data and tokens: no cache may keep them."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def apply_cache_policy(response: Response, path: str, settings: Settings) -> Response:
    """API answers and errors are private by default: ``no-store`` unless the view chose.

    A view that sets ``Cache-Control`` itself (the JWKS, the docs' assets) keeps its choice.
    """
    if has_header(response, "Cache-Control"):
        return response
    is_api = path == settings.api_prefix or path.startswith(settings.api_prefix + "/")
    if is_api or response.mimetype == "application/problem+json":
        no_store(response)
    return response
