"""Security headers on every response; the one place each header's value is decided."""

from __future__ import annotations

from flask import Response

from .config import Settings


def apply_security_headers(response: Response, settings: Settings) -> Response:
    headers = response.headers
    # Browsers must not guess a content type: an upload must never run as a script.
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Send only our origin to other sites, never paths that may hold tokens.
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    # No framing (clickjacking), no inline script (XSS); a view may set a stricter or looser one.
    headers.setdefault("Content-Security-Policy", settings.content_security_policy)
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for older browsers
    # A window we open cannot script us, nor we it (cross-window attacks, Spectre).
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if settings.secure_cookies:
        # Once seen over https, never downgrade to http (SSL stripping).
        headers.setdefault(
            "Strict-Transport-Security", f"max-age={settings.hsts_max_age}; includeSubDomains"
        )
    return response


def no_store(response: Response) -> Response:
    """Auth responses carry personal data and tokens: no cache may keep them."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
