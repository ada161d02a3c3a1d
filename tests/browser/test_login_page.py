"""The server-rendered sign-in and sign-out pages, in Chromium."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveApp, screenshot


def test_anonymous_app_navigation_lands_on_login_then_the_app(page: Page, live: LiveApp) -> None:
    user = live.create_user()
    page.goto(live.url("/app/articles?page=2"))
    expect(page).to_have_url(live.url("/login?next=%2Fapp%2Farticles%3Fpage%3D2"))
    expect(page.get_by_role("heading", name="Sign in to Newsroom")).to_be_visible()
    screenshot(page, "login")
    page.get_by_label("Email or username").fill(user)
    page.get_by_label("Password", exact=True).fill("a-long-test-passphrase")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live.url("/app/articles?page=2"))
    expect(page.get_by_role("heading")).to_have_text("Fake newsroom at /app/articles")
    expect(page.locator("#private")).to_have_text("private code loaded")
