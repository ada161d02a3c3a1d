"""Security headers on every response; the one place each header's value is decided.

:class:`SharedHeaders` adds the headers every answer of the app carries (security, CORS, cache
policy, the 401 challenge, the request id) as the app starts its response.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Response

from . import cors
from .config import Settings
from .errors import DEFAULT_CHALLENGE
from .logs import request_id_from

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Where SharedHeaders leaves the request's id for the app (``g.request_id``, logs, problems).
REQUEST_ID_KEY = "bastion.request_id"

# What an answer that is not a page (JSON, problem+json, scripts, images) may load or run:
# nothing. It is never a document, so a browser that renders one anyway gets no capability.
NOT_A_PAGE_CSP = "default-src 'none'; frame-ancestors 'none'"


Header = tuple[str, str, str]  # name, name lower-cased, value


@dataclass(frozen=True)
class SecurityHeaders:
    """:func:`security_headers` worked out once per app, for pages and for everything else:
    the values depend on the settings alone, and an answer only picks its set."""

    page: tuple[Header, ...]
    other: tuple[Header, ...]
    # For a 304, which has no type to choose by: those the two sets share. The browser keeps
    # the stored answer's own CSP, and updates the stored headers from the 304's (RFC 9111
    # 4.3.4), so a page's CSP must not be replaced by the one for what is not a page.
    revalidated: tuple[Header, ...]

    @classmethod
    def of(cls, settings: Settings) -> SecurityHeaders:
        def entries(mimetype: str) -> tuple[Header, ...]:
            found = security_headers(settings, mimetype).items()
            return tuple((name, name.lower(), value) for name, value in found)

        page, other = entries("text/html"), entries("")
        shared = tuple(header for header in page if header in other)
        return cls(page=page, other=other, revalidated=shared)

    def of_answer(self, status: str, mimetype: str) -> tuple[Header, ...]:
        """The set for an answer with this WSGI status line and (lower-cased) mimetype."""
        if status.startswith("304"):  # werkzeug sends a 304 without its Content-Type
            return self.revalidated
        return self.page if mimetype == "text/html" else self.other


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


# Auth responses carry personal data and tokens: no cache may keep them.
NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))


def no_store(response: Response) -> Response:
    """An ``after_request`` hook: this blueprint's answers are never kept (:data:`NO_STORE`)."""
    for name, value in NO_STORE:
        response.headers[name] = value
    return response


class SharedHeaders:
    """WSGI middleware (``app.wsgi_app``): every answer of the app gets its shared headers.

    They are added to the raw header list as the app starts its response, after every
    ``after_request`` hook, so a header a view or hook set wins (a docs page's own CSP, a JWKS's
    cache lifetime). One pass over the names present serves every rule, and nothing is parsed or
    re-validated: werkzeug's ``Headers`` checks each value it is given (about 1 us a header),
    while every value here is a constant, a configured origin or a checked request id.
    """

    def __init__(self, wsgi_app: WSGIApplication, settings: Settings) -> None:
        self.wsgi_app = wsgi_app
        self.settings = settings
        self.security = SecurityHeaders.of(settings)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request_id = environ[REQUEST_ID_KEY] = request_id_from(environ.get("HTTP_X_REQUEST_ID"))

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self.add(environ, status, headers, request_id)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)

    def add(
        self,
        environ: WSGIEnvironment,
        status: str,
        headers: list[tuple[str, str]],
        request_id: str,
    ) -> None:
        """Add the shared headers to ``headers``, an answer's header list, in place."""
        present: dict[str, int] = {}  # lower-cased name: where it first occurs
        for index, (name, _value) in enumerate(headers):
            present.setdefault(name.lower(), index)
        content_type = headers[present["content-type"]][1] if "content-type" in present else ""
        mimetype = content_type.partition(";")[0].strip().lower()

        # Answers differ by Origin, so caches must key on it.
        if "vary" in present:
            index = present["vary"]
            name, value = headers[index]
            tokens = {token.strip().lower() for token in value.split(",")}
            if not tokens & {"origin", "*"}:
                headers[index] = (name, f"{value}, Origin" if value.strip() else "Origin")
        else:
            headers.append(("Vary", "Origin"))
        # Ours, not a view's: an allowed origin's CORS headers replace any the app set.
        allowed = cors.response_headers(environ.get("HTTP_ORIGIN"), self.settings)
        if allowed:
            names = {name.lower() for name, _value in allowed}
            headers[:] = [header for header in headers if header[0].lower() not in names]
            headers.extend(allowed)

        if "cache-control" not in present and (
            self._is_api(environ) or mimetype == "application/problem+json"
        ):
            headers.extend(NO_STORE)  # API answers and errors are private unless the view chose
        if status.startswith("401") and "www-authenticate" not in present:
            headers.append(("WWW-Authenticate", DEFAULT_CHALLENGE))  # RFC 9110: every 401 has one
        for name, lowered, value in self.security.of_answer(status, mimetype):
            if lowered not in present:  # a view's own value wins
                headers.append((name, value))
        if "x-request-id" in present:  # the request's id, whatever a view set
            headers[:] = [header for header in headers if header[0].lower() != "x-request-id"]
        headers.append(("X-Request-ID", request_id))

    def _is_api(self, environ: WSGIEnvironment) -> bool:
        prefix = self.settings.api_prefix
        path = "/" + str(environ.get("PATH_INFO", "")).lstrip("/")  # as ``request.path`` reads
        return path == prefix or path.startswith(prefix + "/")
