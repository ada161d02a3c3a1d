"""Cross-origin mode: an SPA on an allowed origin uses the API with credentials; others cannot.

The SPA page is served by the other server at ``http://app.localhost:OTHER_PORT``: another origin
than the API (``http://app.localhost:PORT``) but the same site, as with ``npm run dev`` on :5173
against the API on :8000. SameSite=Lax cookies travel between them; only CORS decides who reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import LiveApp, OtherSite, sign_in_with_form
from tests.conftest import PASSWORD

SPA_HOST = "app.localhost"


@pytest.fixture(scope="module")
def server_config(fake_dist: Path, other_site: OtherSite) -> dict[str, Any]:
    return {"SPA_DIST": str(fake_dist), "BASTION_CORS_ORIGINS": other_site.origin(SPA_HOST)}


# What the TypeScript client does on another origin: it cannot read the API's cookies from
# script, so it takes the CSRF token from the session response's body.
SIGN_IN_SCRIPT = """async ([api, identity, password]) => {
    const start = await fetch(api + "/api/auth/session", {credentials: "include"});
    const {csrf_token} = await start.json();
    const login = await fetch(api + "/api/auth/login", {
        method: "POST", credentials: "include",
        headers: {"Content-Type": "application/json", "X-XSRF-TOKEN": csrf_token},
        body: JSON.stringify({identity, password}),
    });
    const signedIn = await login.json();
    const session = await fetch(api + "/api/auth/session", {credentials: "include"});
    const logout = await fetch(api + "/api/auth/logout", {
        method: "POST", credentials: "include",
        headers: {"X-XSRF-TOKEN": signedIn.csrf_token},
    });
    const after = await fetch(api + "/api/auth/session", {credentials: "include"});
    return {
        start: start.status, login: login.status, session: session.status,
        user: (await session.json()).user.username, logout: logout.status, after: after.status,
    };
}"""

READ_SESSION_SCRIPT = """async (api) => {
    try {
        const r = await fetch(api + "/api/auth/session", {credentials: "include"});
        return "read " + r.status + " " + (await r.text());
    } catch (error) {
        return "rejected: " + error.name;
    }
}"""

OPAQUE_SCRIPT = """async (api) => {
    try {
        const r = await fetch(api + "/api/auth/session", {credentials: "include", mode: "no-cors"});
        return {type: r.type, status: r.status, body: await r.text()};
    } catch (error) {
        return "rejected: " + error.name;
    }
}"""


def test_spa_on_an_allowed_origin_signs_in_and_out_with_credentials(
    page: Page, live: LiveApp, other_site: OtherSite
) -> None:
    user = live.create_user()
    other_site.pages["/spa"] = "<!doctype html><title>SPA elsewhere</title><h1>SPA</h1>"
    page.goto(other_site.url(SPA_HOST, "/spa"))
    result = page.evaluate(SIGN_IN_SCRIPT, [live.origin, user, PASSWORD])
    assert result == {
        "start": 401,
        "login": 200,
        "session": 200,
        "user": user,
        "logout": 204,
        "after": 401,
    }


def test_control_the_allowed_origin_reads_the_signed_in_session(
    page: Page, live: LiveApp, other_site: OtherSite
) -> None:
    user = live.create_user()
    sign_in_with_form(page, live, user)
    other_site.pages["/reader"] = "<!doctype html><title>reader</title>"
    page.goto(other_site.url(SPA_HOST, "/reader"))
    answer = page.evaluate(READ_SESSION_SCRIPT, live.origin)
    assert answer.startswith("read 200 ") and f'"username":"{user}"' in answer


@pytest.mark.parametrize("host", ["evil.localhost", "evil.app.localhost"])
def test_a_disallowed_origin_cannot_read_the_session(
    page: Page, live: LiveApp, other_site: OtherSite, host: str
) -> None:
    sign_in_with_form(page, live, live.create_user())
    other_site.pages["/reader"] = "<!doctype html><title>reader</title>"
    page.goto(other_site.url(host, "/reader"))
    assert page.evaluate(READ_SESSION_SCRIPT, live.origin) == "rejected: TypeError"
    # Not even an opaque answer: Cross-Origin-Resource-Policy: same-origin has the browser
    # drop it, so it cannot reach a side channel (or a Spectre-style read) of another origin.
    assert page.evaluate(OPAQUE_SCRIPT, live.origin) == "rejected: TypeError"
    cors_read, _opaque = live.received("/api/auth/session", "GET")[-2:]
    assert cors_read.origin == other_site.origin(host)
    # The sibling subdomain is the same site: its request carried the cookie, and still
    # nothing came back to its script. Only the exact-origin CORS rule protects here.
    assert ("bastion_session=" in cors_read.cookies) is (host == "evil.app.localhost")
