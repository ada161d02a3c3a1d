"""Real servers and Debian's Chromium for the browser tests.

The app runs in a real HTTP server (werkzeug, threaded) on a free port, with a fresh database
per test module; Chromium reaches it as ``http://app.localhost:PORT``. A second tiny server
plays the other sites (an attacker, or an SPA on another origin): every ``*.localhost`` name
resolves to loopback, so ``evil.localhost`` is another site and ``evil.app.localhost`` a
sibling subdomain (the same site) of ``app.localhost``.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import delete
from werkzeug.serving import make_server

from flask_bastion import clock, current_bastion
from flask_bastion.flows import accounts
from flask_bastion.flows.context import command_context
from flask_bastion.models import AuthSession
from flask_bastion.schemas import RegisterInput
from tests.conftest import PASSWORD, fresh_database, make_app
from tests.smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP *.localhost 127.0.0.1",  # our servers listen on IPv4 loopback
]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
REAL_DIST = ROOT / "web" / "dist"
TIMEOUT_MS = 10_000  # generous for a loaded CI machine; passing steps take far less

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]


def pytest_configure(config: pytest.Config) -> None:
    # When a browser test fails, keep what the browser showed (CI uploads test-artifacts/).
    if config.option.screenshot == "off":
        config.option.screenshot = "only-on-failure"
        config.option.full_page_screenshot = True
    if config.option.output == "test-results":
        config.option.output = str(ROOT / "test-artifacts" / "failures")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # A missing Chromium is a failure, never a skip: these tests are the proof of the promises.
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make setup-system`"
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url() -> None:
    """Tests name full URLs (hosts matter here); pytest-base-url's own fixture is not used."""
    return None


@pytest.fixture(autouse=True)
def _short_timeouts(page: Page) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)


@contextmanager
def serve_wsgi(app: WSGIApp | None = None) -> Iterator[tuple[int, _Late]]:
    """Serve a WSGI app over real HTTP on a free port, in a thread, until the block ends."""
    late = _Late(app)
    server = make_server("127.0.0.1", 0, late, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port, late
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _Late:
    """A WSGI app chosen once the server has its port (the app's settings name the port)."""

    def __init__(self, target: WSGIApp | None) -> None:
        self.target = target

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.target is not None
        return self.target(environ, start_response)


@dataclass
class Seen:
    """One request as the app server received it: proves which cookies a browser sent."""

    method: str
    path: str
    origin: str | None
    fetch_site: str | None
    cookies: str
    query: str = ""
    referer: str | None = None


@dataclass
class LiveApp:
    """The app behind a real HTTP server, reached by Chromium as ``http://app.localhost:PORT``."""

    app: Flask
    port: int
    seen: list[Seen] = field(default_factory=list)
    host: str = "app.localhost"

    def url(self, path: str = "/", host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def create_user(self, username: str | None = None) -> str:
        """An account made through the registration flow (no browser); returns its username."""
        username = username or f"u{uuid.uuid4().hex[:10]}"
        state = self.app.extensions["bastion"]
        data = RegisterInput(email=f"{username}@example.com", username=username, password=PASSWORD)
        with self.app.app_context(), state.db.unit_of_work() as db:
            accounts.register(command_context(state, db, now=clock.now()), data, confirmed=True)
        return username

    def revoke_all_sessions(self) -> None:
        """Delete every server-side session, as an admin (or a logout elsewhere) would."""
        with self.app.app_context(), current_bastion().db.unit_of_work() as db:
            db.execute(delete(AuthSession))

    def received(self, path: str, method: str = "POST") -> list[Seen]:
        return [s for s in self.seen if s.path == path and s.method == method]

    def record(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.seen.append(
            Seen(
                method=environ["REQUEST_METHOD"],
                path=environ.get("PATH_INFO", ""),
                origin=environ.get("HTTP_ORIGIN"),
                fetch_site=environ.get("HTTP_SEC_FETCH_SITE"),
                cookies=environ.get("HTTP_COOKIE", ""),
                query=environ.get("QUERY_STRING", ""),
                referer=environ.get("HTTP_REFERER"),
            )
        )
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def module_smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) for the module's app: name ``module_smtp.url`` as its
    ``BASTION_MAIL_URL`` in ``server_config``, and read what arrived with a ``Mailbox``."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server_config(fake_dist: Path) -> dict[str, Any]:
    """Settings of the module's app; a module overrides this (CORS origins, the real SPA...)."""
    return {"SPA_DIST": str(fake_dist)}


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, server_config: dict[str, Any]
) -> Iterator[LiveApp]:
    """The whole newsroom app over real HTTP, with a fresh database for this module."""
    with (
        fresh_database(tmp_path_factory.mktemp("db")) as database_url,
        serve_wsgi() as (
            port,
            late,
        ),
    ):
        app = make_app(
            database_url,
            BASTION_PUBLIC_URL=f"http://app.localhost:{port}",
            # Every browser test signs in from 127.0.0.1: the per-IP limits are for the public.
            BASTION_LOGIN_LIMIT_PER_IP="10000/minute",
            BASTION_REGISTER_LIMIT_PER_IP="10000/hour",
            **server_config,
        )
        live = LiveApp(app, port)
        late.target = live.record
        yield live
        app.extensions["bastion"].db.dispose()


@dataclass
class OtherSite:
    """Pages of another origin (an attacker, or an SPA served elsewhere), by path."""

    port: int
    pages: dict[str, str] = field(default_factory=dict)

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def origin(self, host: str) -> str:
        return f"http://{host}:{self.port}"

    def serve(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        html = self.pages.get(environ.get("PATH_INFO", ""))
        if html is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [html.encode()]


@pytest.fixture(scope="module")
def other_site() -> Iterator[OtherSite]:
    with serve_wsgi() as (port, late):
        site = OtherSite(port)
        late.target = site.serve
        yield site


FAKE_INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fake newsroom</title>
<script type="module" src="/app/assets/index-Pub1ic00.js"></script></head>
<body><main><h1>Fake newsroom shell</h1><p id="private">private code not loaded</p></main></body>
</html>
"""
FAKE_ENTRY = """
const route = location.pathname;
document.querySelector("h1").textContent = "Fake newsroom at " + route;
if (!route.startsWith("/app/login") && !route.startsWith("/app/register")) {
  import("/app/assets/private-Pr1vate0.js").then((m) => m.show());
}
"""
FAKE_PRIVATE = """
export function show() {
  document.getElementById("private").textContent = "private code loaded";
}
"""


@pytest.fixture(scope="module")
def fake_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny SPA build shaped like Vite's: a public entry, a lazy private chunk, a manifest."""
    dist = tmp_path_factory.mktemp("dist")
    (dist / "assets").mkdir()
    (dist / ".vite").mkdir()
    (dist / "index.html").write_text(FAKE_INDEX)
    (dist / "assets" / "index-Pub1ic00.js").write_text(FAKE_ENTRY)
    (dist / "assets" / "private-Pr1vate0.js").write_text(FAKE_PRIVATE)
    manifest = {
        "index.html": {
            "file": "assets/index-Pub1ic00.js",
            "isEntry": True,
            "dynamicImports": ["src/private.ts"],
        },
        "src/private.ts": {"file": "assets/private-Pr1vate0.js", "isDynamicEntry": True},
    }
    (dist / ".vite" / "manifest.json").write_text(json.dumps(manifest))
    routes = [
        {"name": name, "pattern": f"/{name}", "public": True} for name in ("login", "register")
    ]
    (dist / ".vite" / "routes.json").write_text(json.dumps({"routes": routes}))
    return dist


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/browser/ (kept by CI as an artifact)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def session_status(page: Page, live: LiveApp) -> int:
    """The status of GET /api/auth/session with the browser's own cookies (a new tab)."""
    probe = page.context.new_page()
    try:
        response = probe.goto(live.url("/api/auth/session"))
        assert response is not None
        return response.status
    finally:
        probe.close()


def sign_in_with_form(page: Page, live: LiveApp, identity: str, next_path: str = "") -> None:
    """Sign in through the server-rendered /login form, like a person would."""
    page.goto(live.url("/login" + next_path))
    page.get_by_label("Email or username").fill(identity)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    """A page whose CSP lets Playwright inject axe-core (our CSP rightly forbids inline scripts)."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def serious_axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current page (WCAG 2.1 A/AA rules)."""
    assert AXE.is_file(), f"{AXE} is missing: run `npm ci` in web/ (axe-core is a devDependency)"
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
