"""The private app under /app/: sign in first, no open redirects, private code needs a session."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    LiveApp,
    OtherSite,
    screenshot,
    serious_axe_violations,
    sign_in_with_form,
)
from tests.conftest import PASSWORD


def test_anonymous_navigation_lands_on_login_and_sign_in_loads_the_app(
    page: Page, live: LiveApp
) -> None:
    user = live.create_user()
    page.goto(live.url("/app/articles?page=2"))
    expect(page).to_have_url(live.url("/login?next=%2Fapp%2Farticles%3Fpage%3D2"))
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    screenshot(page, "server-login")
    page.get_by_label("Email or username").fill(user)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live.url("/app/articles?page=2"))
    expect(page.get_by_role("heading")).to_have_text("Fake newsroom at /app/articles")
    expect(page.locator("#private")).to_have_text("private code loaded")


def test_wrong_password_is_announced_and_the_form_works_without_javascript(
    browser: Browser, live: LiveApp
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        user = live.create_user()
        page.goto(live.url("/login"))
        page.get_by_label("Email or username").fill(user)
        page.get_by_label("Password", exact=True).fill("not-the-password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("The email, username or password is wrong.")
        expect(page.get_by_label("Email or username")).to_have_value(user)
        screenshot(page, "server-login-error")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(live.url("/app/"))
    finally:
        context.close()


@pytest.mark.parametrize(
    "hostile",
    [
        # A sample of each family; tests/test_security_redirects.py holds the long list.
        "/\\evil.localhost:{port}/",
        "http://evil.localhost:{port}/",
        "/%2F%2Fevil.localhost:{port}/",
        "javascript:alert(document.domain)",
    ],
)
def test_open_redirects_in_next_land_on_the_app(
    page: Page, live: LiveApp, other_site: OtherSite, hostile: str
) -> None:
    other_site.pages["/"] = "<h1>Evil</h1>"
    value = hostile.format(port=other_site.port)
    page.goto(live.url("/login"))
    page.evaluate(
        "(v) => { document.querySelector('input[name=next]').value = v; }", value
    )  # as if the link had carried it: the server must judge it, whatever the page holds
    page.get_by_label("Email or username").fill(live.create_user())
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live.url("/app/"))


def test_open_redirect_in_the_query_string_lands_on_the_app(
    page: Page, live: LiveApp, other_site: OtherSite
) -> None:
    sign_in_with_form(page, live, live.create_user(), f"?next=//evil.localhost:{other_site.port}/")
    expect(page).to_have_url(live.url("/app/"))


def test_anonymous_browser_gets_the_public_shell_but_never_private_code(
    page: Page, live: LiveApp
) -> None:
    page.goto(live.url("/app/login"))
    expect(page.get_by_role("heading")).to_have_text("Fake newsroom at /app/login")
    expect(page.locator("#private")).to_have_text("private code not loaded")
    statuses = page.evaluate(
        """async () => Promise.all([
            "/app/assets/index-Pub1ic00.js",
            "/app/assets/private-Pr1vate0.js",
            "/app/articles",
        ].map(async (p) => (await fetch(p)).status))"""
    )
    assert statuses == [200, 401, 401]
    failed = page.evaluate(
        "() => import('/app/assets/private-Pr1vate0.js').then(() => 'loaded', () => 'refused')"
    )
    assert failed == "refused"


def test_session_cookie_is_invisible_to_scripts_and_storage_holds_no_tokens(
    page: Page, live: LiveApp
) -> None:
    sign_in_with_form(page, live, live.create_user(), "?next=/app/")
    expect(page.locator("#private")).to_have_text("private code loaded")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["bastion_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"
    visible = page.evaluate("() => document.cookie")
    assert "XSRF-TOKEN=" in visible  # the one cookie the SPA must read
    assert "bastion_session" not in visible
    assert session["value"] not in visible
    storage = page.evaluate(
        """() => [localStorage, sessionStorage].flatMap((s) =>
            Object.keys(s).map((k) => k + "=" + s.getItem(k)))"""
    )
    assert not any(session["value"] in item for item in storage)
    assert not any("token" in item.lower() for item in storage), storage


def test_login_and_logout_pages_have_no_serious_accessibility_violations(
    axe_page: Page, live: LiveApp
) -> None:
    page = axe_page
    page.goto(live.url("/login"))
    assert serious_axe_violations(page) == []
    page.get_by_label("Email or username").fill("nobody")
    page.get_by_label("Password", exact=True).fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert serious_axe_violations(page) == []
    sign_in_with_form(page, live, live.create_user())
    page.goto(live.url("/logout"))  # typed in the address bar: Sec-Fetch-Site none, so it asks
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    screenshot(page, "server-logout-confirm")
    assert serious_axe_violations(page) == []


def test_keyboard_order_of_the_login_form(page: Page, live: LiveApp) -> None:
    page.goto(live.url("/login"))
    expect(page.get_by_label("Email or username")).to_be_focused()  # autofocus
    order = []
    for _ in range(6):
        page.keyboard.press("Tab")
        order.append(
            page.evaluate("() => document.activeElement.id || document.activeElement.textContent")
        )
    assert order == [
        "password",
        "remember",
        "Sign in",
        "Forgot your password?",
        "Sign in with a code sent by email",
        "Create an account",
    ]
