"""AngularJS 1.8 ``$http`` and axios, used as their docs show, against the running app in Chromium.

Each library signs in (``GET /api/auth/session``, then ``POST /api/auth/login``), creates an
article and signs out, and no line of ours sets a header: the CSRF token travels only because
the library reads the ``XSRF-TOKEN`` cookie and echoes it in ``X-XSRF-TOKEN``, its own default
names and ours. The libraries come from web/node_modules (devDependencies), never from a CDN.

Same origin: the page and the scripts are served by the app's own server. Cross origin: they
are served by another server at ``http://app.localhost:OTHER_PORT`` (an allowed CORS origin,
the same site, as an SPA on a dev server beside the API); cookies are per host, not per port,
so that page can read the API's ``XSRF-TOKEN`` cookie, and each library sends it to another
origin only when told to trust that origin (AngularJS ``xsrfTrustedOrigins``, axios
``withXSRFToken``). Each success has its control: the same flow with the library's XSRF
convention left off is refused with ``csrf_failed``, so the check did run; and the same pages on
an origin that is not allowed get nothing, the allowed origin's success being their control.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import ROOT, LiveApp, serve_wsgi
from tests.conftest import PASSWORD

NODE_MODULES = ROOT / "web" / "node_modules"
LIBRARIES = {
    "angular.js": NODE_MODULES / "angular" / "angular.min.js",
    "axios.js": NODE_MODULES / "axios" / "dist" / "axios.min.js",
}
PREFIX = "/clients/"
CLIENT_HOST = "app.localhost"  # another port than the API: another origin, the same site

# The one flow both libraries run, given a `send(method, path, body)` built on the library.
# Error statuses are answers too: each step reports its status and the problem's code.
FLOW_JS = """
window.signInWriteSignOut = async function (send, identity, password) {
  const step = (r) => ({status: r.status, code: (r.data && r.data.code) || null});
  const start = await send("GET", "/api/auth/session");
  const login = await send("POST", "/api/auth/login", {identity, password});
  const created = await send("POST", "/api/articles", {
    title: "Written by a standard client", body: "No header was set by hand.",
  });
  const logout = await send("POST", "/api/auth/logout");
  const after = await send("GET", "/api/auth/session");
  return {
    start: step(start), login: step(login), created: step(created),
    author: (created.data && created.data.author && created.data.author.username) || null,
    logout: step(logout), after: step(after),
  };
};
"""

# AngularJS as its guide shows: a module whose config sets $httpProvider, then $http. Its XSRF
# cookie and header names are left at their defaults (XSRF-TOKEN, X-XSRF-TOKEN).
ANGULAR_JS = """
window.startClient = function (api, options) {
  angular.module("newsroomClient", []).config(["$httpProvider", function ($httpProvider) {
    $httpProvider.defaults.withCredentials = api !== "";
    if (options.trustApi) $httpProvider.xsrfTrustedOrigins.push(api);
    if (options.cookieName) $httpProvider.defaults.xsrfCookieName = options.cookieName;
  }]);
  const $http = angular.bootstrap(document.body, ["newsroomClient"]).get("$http");
  return (method, path, data) =>
    $http({method, url: api + path, data}).then((r) => r, (r) => r);
};
"""

# axios as its docs show: an instance with a base URL; xsrfCookieName and xsrfHeaderName keep
# their defaults (XSRF-TOKEN, X-XSRF-TOKEN). Non-2xx answers resolve instead of throwing.
AXIOS_JS = """
window.startClient = function (api, options) {
  const config = {baseURL: api, withCredentials: api !== "", validateStatus: () => true};
  if (options.trustApi) config.withXSRFToken = true;
  if (options.cookieName) config.xsrfCookieName = options.cookieName;
  const http = axios.create(config);
  // A request the browser blocks (CORS) rejects; report it as AngularJS does, status -1.
  return (method, path, data) =>
    http.request({method, url: path, data}).catch(() => ({status: -1, data: null}));
};
"""

CLIENT_JS = {"angular": ANGULAR_JS, "axios": AXIOS_JS}


def client_page(library: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{library}</title>'
        f'<script src="{PREFIX}{library}.js"></script>'
        f'<script src="{PREFIX}{library}-client.js"></script>'
        f'<script src="{PREFIX}flow.js"></script>'
        f"</head><body><h1>{library} client</h1></body></html>"
    )


def client_files() -> dict[str, tuple[str, bytes]]:
    """Path → (content type, body) of the pages, the libraries and our client scripts."""
    files: dict[str, tuple[str, bytes]] = {
        PREFIX + "flow.js": ("text/javascript", FLOW_JS.encode())
    }
    for name, path in LIBRARIES.items():
        assert path.is_file(), f"{path} is missing: run `npm ci` in web/ (a devDependency)"
        files[PREFIX + name] = ("text/javascript", path.read_bytes())
    for library, script in CLIENT_JS.items():
        files[f"{PREFIX}{library}-client.js"] = ("text/javascript", script.encode())
        files[f"{PREFIX}{library}.html"] = (
            "text/html; charset=utf-8",
            client_page(library).encode(),
        )
    return files


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]


@dataclass
class Echoed:
    """An unsafe API request as the app received it: did it echo the XSRF-TOKEN cookie?"""

    path: str
    header_sent: bool
    matches_cookie: bool
    status: int = 0  # set when the app answers


class ClientFiles:
    """Serves the client files under /clients/; everything else goes to ``app`` (if any)."""

    def __init__(self, app: WSGIApp | None = None) -> None:
        self.app = app
        self.files = client_files()
        self.echoed: list[Echoed] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path in self.files:
            content_type, body = self.files[path]
            start_response("200 OK", [("Content-Type", content_type)])
            return [body]
        if self.app is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        if environ["REQUEST_METHOD"] != "POST":
            return self.app(environ, start_response)
        seen = echoed(environ)
        self.echoed.append(seen)

        def record_status(status: str, headers: Any, *args: Any) -> Any:
            seen.status = int(status.split()[0])
            return start_response(status, headers, *args)

        return self.app(environ, record_status)


def echoed(environ: dict[str, Any]) -> Echoed:
    header = environ.get("HTTP_X_XSRF_TOKEN")
    cookies = dict(
        part.strip().split("=", 1)
        for part in environ.get("HTTP_COOKIE", "").split(";")
        if "=" in part
    )
    return Echoed(
        path=environ["PATH_INFO"],
        header_sent=header is not None,
        matches_cookie=header is not None and header == cookies.get("XSRF-TOKEN"),
    )


@pytest.fixture(scope="module")
def client_site() -> Iterator[tuple[int, ClientFiles]]:
    """Another origin serving the same client pages (the cross-origin SPA)."""
    files = ClientFiles()
    with serve_wsgi(files) as (port, _late):
        yield port, files


@pytest.fixture(scope="module")
def server_config(fake_dist: Path, client_site: tuple[int, ClientFiles]) -> dict[str, Any]:
    port, _files = client_site
    return {"SPA_DIST": str(fake_dist), "BASTION_CORS_ORIGINS": f"http://{CLIENT_HOST}:{port}"}


@pytest.fixture(scope="module")
def app_side(live: LiveApp) -> ClientFiles:
    """The client files, served by the app's own server in front of the app (Flask middleware).

    It also records every POST the app receives, from either origin.
    """
    files = ClientFiles(live.app.wsgi_app)
    live.app.wsgi_app = files  # type: ignore[method-assign]
    return files


def run_flow(page: Page, page_url: str, api: str, user: str, options: dict[str, Any]) -> Any:
    page.goto(page_url)
    return page.evaluate(
        "async ([api, options, identity, password]) => "
        "signInWriteSignOut(startClient(api, options), identity, password)",
        [api, options, user, PASSWORD],
    )


def signed_in_wrote_and_signed_out(user: str) -> dict[str, Any]:
    return {
        "start": {"status": 401, "code": "not_authenticated"},
        "login": {"status": 200, "code": None},
        "created": {"status": 201, "code": None},
        "author": user,
        "logout": {"status": 204, "code": None},
        "after": {"status": 401, "code": "not_authenticated"},
    }


def refused_for_csrf() -> dict[str, Any]:
    return {
        "start": {"status": 401, "code": "not_authenticated"},
        "login": {"status": 403, "code": "csrf_failed"},
        "created": {"status": 403, "code": "csrf_failed"},
        "author": None,
        "logout": {"status": 403, "code": "csrf_failed"},
        "after": {"status": 401, "code": "not_authenticated"},
    }


LIBRARY_NAMES = sorted(CLIENT_JS)
UNSAFE_PATHS = ["/api/auth/login", "/api/articles", "/api/auth/logout"]


@pytest.mark.parametrize("library", LIBRARY_NAMES)
def test_same_origin_sign_in_write_and_sign_out(
    page: Page, live: LiveApp, app_side: ClientFiles, library: str
) -> None:
    user = live.create_user()
    since = len(app_side.echoed)
    result = run_flow(page, live.url(f"{PREFIX}{library}.html"), "", user, {})
    assert result == signed_in_wrote_and_signed_out(user), json.dumps(result)
    # The library, not our code, read the cookie and echoed it on every unsafe request.
    assert app_side.echoed[since:] == [
        Echoed(p, True, True, status)
        for p, status in zip(UNSAFE_PATHS, [200, 201, 204], strict=True)
    ]


@pytest.mark.parametrize("library", LIBRARY_NAMES)
def test_same_origin_without_the_xsrf_cookie_is_refused(
    page: Page, live: LiveApp, app_side: ClientFiles, library: str
) -> None:
    # Control: pointed at a cookie that does not exist, the library sends no token and every
    # unsafe request is refused; so the successes above owe their pass to its XSRF convention.
    user = live.create_user()
    since = len(app_side.echoed)
    options = {"cookieName": "NO-SUCH-COOKIE"}
    result = run_flow(page, live.url(f"{PREFIX}{library}.html"), "", user, options)
    assert result == refused_for_csrf(), json.dumps(result)
    assert app_side.echoed[since:] == [Echoed(p, False, False, 403) for p in UNSAFE_PATHS]


@pytest.mark.parametrize("library", LIBRARY_NAMES)
def test_cross_origin_sign_in_write_and_sign_out(
    page: Page,
    live: LiveApp,
    client_site: tuple[int, ClientFiles],
    app_side: ClientFiles,
    library: str,
) -> None:
    user = live.create_user()
    port, _files = client_site
    since = len(app_side.echoed)
    page_url = f"http://{CLIENT_HOST}:{port}{PREFIX}{library}.html"
    result = run_flow(page, page_url, live.origin, user, {"trustApi": True})
    assert result == signed_in_wrote_and_signed_out(user), json.dumps(result)
    assert app_side.echoed[since:] == [
        Echoed(p, True, True, status)
        for p, status in zip(UNSAFE_PATHS, [200, 201, 204], strict=True)
    ]


@pytest.mark.parametrize("library", LIBRARY_NAMES)
def test_cross_origin_without_trusting_the_api_sends_no_token(
    page: Page,
    live: LiveApp,
    client_site: tuple[int, ClientFiles],
    app_side: ClientFiles,
    library: str,
) -> None:
    # Control: by default neither library sends the token to another origin (it could leak
    # there), so the same flow is refused until the app names the API as trusted.
    user = live.create_user()
    port, _files = client_site
    since = len(app_side.echoed)
    page_url = f"http://{CLIENT_HOST}:{port}{PREFIX}{library}.html"
    result = run_flow(page, page_url, live.origin, user, {})
    assert result == refused_for_csrf(), json.dumps(result)
    assert app_side.echoed[since:] == [Echoed(p, False, False, 403) for p in UNSAFE_PATHS]


@pytest.mark.parametrize("library", LIBRARY_NAMES)
def test_an_origin_that_is_not_allowed_gets_nothing(
    page: Page,
    live: LiveApp,
    client_site: tuple[int, ClientFiles],
    app_side: ClientFiles,
    library: str,
) -> None:
    # The allowed origin's success above is the control: here only the page's host differs
    # (a sibling subdomain, the same site, so SameSite does not help; only CORS does).
    user = live.create_user()
    port, _files = client_site
    since = len(app_side.echoed)
    page_url = f"http://evil.{CLIENT_HOST}:{port}{PREFIX}{library}.html"
    result = run_flow(page, page_url, live.origin, user, {"trustApi": True})
    blocked = {"status": -1, "code": None}
    assert result == {
        "start": blocked,
        "login": blocked,
        "created": blocked,
        "author": None,
        "logout": blocked,
        "after": blocked,
    }, json.dumps(result)
    # The refused preflights kept the JSON POSTs away. The body-less logout is a "simple"
    # request, sent without a preflight: the app refused it by its Origin (CSRF), unread.
    assert app_side.echoed[since:] == [Echoed("/api/auth/logout", False, False, 403)]
