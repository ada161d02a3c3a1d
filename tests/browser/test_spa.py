"""The real newsroom SPA (web/dist), served by Flask, driven in Chromium like a newcomer would.

These tests need the SPA build: `make test` builds it first (`npm ci && npm run build` in web/).
A missing build fails them loudly; it never skips them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.account_helpers import Mailbox
from tests.browser.conftest import (
    REAL_DIST,
    TIMEOUT_MS,
    LiveApp,
    screenshot,
    serious_axe_violations,
    sign_in_with_form,
)
from tests.conftest import PASSWORD
from tests.smtp import SmtpServer

SESSION_EXPIRED = "Your session has expired. Please sign in again."
CREATE_ARTICLES = """async ([count, prefix]) => {
    const token = document.cookie.split("; ")
        .find((c) => c.startsWith("XSRF-TOKEN=")).slice("XSRF-TOKEN=".length);
    const statuses = [];
    for (let i = 1; i <= count; i++) {
        const r = await fetch("/api/articles", {
            method: "POST",
            headers: {"Content-Type": "application/json", "X-XSRF-TOKEN": token},
            body: JSON.stringify({title: `${prefix} ${i}`, body: `Filler article number ${i}.`}),
        });
        statuses.push(r.status);
    }
    return statuses;
}"""


@pytest.fixture(scope="module")
def server_config(module_smtp: SmtpServer) -> dict[str, Any]:
    missing = [p for p in ("index.html", ".vite/manifest.json") if not (REAL_DIST / p).is_file()]
    assert not missing, (
        f"the SPA is not built ({', '.join(missing)} missing in {REAL_DIST}): "
        "run `npm ci && npm run build` in web/ (make test does this)"
    )
    # The newcomer meets the default: an account is used once its address is confirmed.
    return {
        "SPA_DIST": str(REAL_DIST),
        "BASTION_EMAIL_CONFIRMATION": "required",
        "BASTION_MAIL_URL": module_smtp.url,
    }


def test_the_newcomers_path(page: Page, live: LiveApp, module_smtp: SmtpServer) -> None:
    name = f"newcomer{uuid.uuid4().hex[:8]}"
    page.goto(live.url("/"))
    expect(page).to_have_url(live.url("/login"))
    page.get_by_role("link", name="Create an account").click()

    expect(page).to_have_url(live.url("/app/register"))
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.get_by_label("Email").fill(f"{name}@example.com")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    screenshot(page, "spa-register")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    screenshot(page, "spa-check-your-email")
    page.goto(Mailbox(live.app, module_smtp).link(f"{name}@example.com", "/api/auth/confirm/"))
    expect(page.get_by_role("heading", name="Your email address is confirmed")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email or username").fill(f"{name}@example.com")  # by email first
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_role("heading", name="Articles", exact=True)).to_be_visible()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    screenshot(page, "spa-articles-empty")

    page.evaluate("() => localStorage.setItem('draft', 'left by the signed-in user')")
    assert page.evaluate("() => localStorage.getItem('draft')") is not None  # control
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    # Clear-Site-Data: the browser dropped what the user left in it, and the session cookie.
    assert page.evaluate("() => localStorage.getItem('draft')") is None
    names = {c["name"] for c in page.context.cookies()}
    assert "bastion_session" not in names  # the sign-in page may already hold a new pre-session
    screenshot(page, "spa-signed-out")

    page.get_by_label("Email or username").fill(name)  # by username this time
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Articles", exact=True)).to_be_visible()

    page.get_by_role("link", name="New article").click()
    expect(page.get_by_role("heading", name="New article")).to_be_visible()
    page.get_by_label("Title").fill("My first story")
    page.get_by_label("Body").fill("It begins on a quiet morning.")
    screenshot(page, "spa-new-article")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", name="My first story")).to_be_visible()
    screenshot(page, "spa-article")

    page.get_by_role("link", name="Edit article").click()
    title = page.get_by_label("Title")
    expect(title).to_have_value("My first story")
    title.fill("My first story, revised")
    screenshot(page, "spa-edit-article")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name="My first story, revised")).to_be_visible()

    assert page.evaluate(CREATE_ARTICLES, [25, "Filler"]) == [201] * 25
    page.get_by_role("link", name="Articles", exact=True).click()
    expect(page.get_by_role("link", name="Filler 25")).to_be_visible()
    expect(page.get_by_role("link", name="My first story, revised")).to_have_count(0)
    page.get_by_role("navigation", name="Pagination").get_by_role("link", name="Page 2").click()
    expect(page).to_have_url(re.compile(r"/app/\?.*page=2"))
    expect(page.get_by_role("link", name="My first story, revised")).to_be_visible()
    screenshot(page, "spa-articles-page-2")

    _assert_no_tokens_for_scripts(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(live.url("/app/"))  # the private app is gone with the session
    expect(page).to_have_url(live.url("/login?next=%2Fapp%2F"))


def _assert_no_tokens_for_scripts(page: Page) -> None:
    session = next(c for c in page.context.cookies() if c["name"] == "bastion_session")
    assert session["httpOnly"] is True
    visible = page.evaluate("() => document.cookie")
    assert "bastion_session" not in visible and session["value"] not in visible
    storage = page.evaluate(
        """() => [localStorage, sessionStorage].flatMap((s) =>
            Object.keys(s).map((k) => k + "=" + s.getItem(k)))"""
    )
    assert not any(session["value"] in item or "token" in item.lower() for item in storage)


def test_session_revoked_while_the_app_is_open(page: Page, live: LiveApp) -> None:
    user = live.create_user()
    sign_in_with_form(page, live, user, "?next=/app/")
    expect(page.get_by_role("heading", name="Articles", exact=True)).to_be_visible()
    # The first page must have loaded, or its own fetch is the one that meets the revocation.
    expect(page.get_by_text("Loading articles…")).to_have_count(0)
    live.revoke_all_sessions()  # an admin, or a sign-out on another device
    page.get_by_label("Author").fill(user)
    page.get_by_role("button", name="Filter").click()  # the next action calls the API: 401
    expect(page.get_by_role("alert")).to_have_text(SESSION_EXPIRED)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/app/login\?next="))
    screenshot(page, "spa-session-expired")
    page.get_by_label("Email or username").fill(user)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {user}")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Articles by {user}")).to_be_visible()  # back


def test_anonymous_visitor_gets_the_public_shell_but_not_the_private_chunks(
    page: Page, live: LiveApp
) -> None:
    page.goto(live.url("/app/login"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    private = sorted(
        p.name for p in (REAL_DIST / "assets").iterdir() if p.name.startswith("Article")
    )
    assert private, "the build should split the article pages into lazy chunks"
    statuses = page.evaluate(
        """async (names) => Promise.all(
            names.map(async (n) => (await fetch("/app/assets/" + n)).status))""",
        private,
    )
    assert statuses == [401] * len(private)


@pytest.fixture
def axe(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(bypass_csp=True)  # only so axe-core can be injected
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def test_main_screens_have_no_serious_accessibility_violations(axe: Page, live: LiveApp) -> None:
    page = axe
    found: dict[str, Any] = {}
    page.goto(live.url("/app/register"))
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    found["register"] = serious_axe_violations(page)
    page.goto(live.url("/app/login"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_role("button", name="Sign in").click()  # empty form: field errors shown
    expect(page.get_by_role("alert")).to_be_visible()
    found["login-errors"] = serious_axe_violations(page)
    sign_in_with_form(page, live, live.create_user(), "?next=/app/")
    page.evaluate(CREATE_ARTICLES, [21, "Axe"])
    page.goto(live.url("/app/"))
    expect(page.get_by_role("link", name="Axe 21")).to_be_visible()
    found["articles"] = serious_axe_violations(page)
    page.get_by_role("link", name="Axe 21").click()
    expect(page.get_by_role("heading", name="Axe 21")).to_be_visible()
    found["article"] = serious_axe_violations(page)
    page.get_by_role("link", name="Edit article").click()
    expect(page.get_by_label("Title")).to_have_value("Axe 21")
    found["edit"] = serious_axe_violations(page)
    page.get_by_role("link", name="New article").click()
    expect(page.get_by_role("heading", name="New article")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    found["new-with-errors"] = serious_axe_violations(page)
    assert found == {name: [] for name in found}
