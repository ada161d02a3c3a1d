"""The account lifecycle in the real SPA (web/dist), in Chromium, with mail through real SMTP.

The app runs with email confirmation ``required`` (the default; the shared test config relaxes
it). Mails are queued in the outbox as in production; the tests deliver them to an aiosmtpd
server and read the links and codes out of what arrived, as a person reads their mail.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.account_helpers import Mailbox, path_of
from tests.browser.conftest import REAL_DIST, LiveApp, screenshot, serious_axe_violations
from tests.conftest import PASSWORD
from tests.smtp import SmtpServer

NEW_PASSWORD = "a-brand-new-long-passphrase"


@pytest.fixture(scope="module")
def server_config(module_smtp: SmtpServer) -> dict[str, Any]:
    missing = [p for p in ("index.html", ".vite/manifest.json") if not (REAL_DIST / p).is_file()]
    assert not missing, f"the SPA is not built ({', '.join(missing)} missing): build it in web/"
    return {
        "SPA_DIST": str(REAL_DIST),
        "BASTION_EMAIL_CONFIRMATION": "required",
        "BASTION_MAIL_URL": module_smtp.url,
        # Every test here mails from 127.0.0.1: the per-address limits are for the public.
        "BASTION_MAIL_LIMIT_PER_IP": "10000/hour",
    }


@pytest.fixture
def mailbox(live: LiveApp, module_smtp: SmtpServer) -> Mailbox:
    return Mailbox(live.app, module_smtp)


def unique() -> str:
    return f"a{uuid.uuid4().hex[:10]}"


def sign_in(page: Page, live: LiveApp, identity: str, password: str = PASSWORD) -> None:
    page.goto(live.url("/app/login"))
    page.get_by_label("Email or username").fill(identity)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_register_ends_on_check_your_email_and_the_mailed_link_confirms(
    page: Page, live: LiveApp, mailbox: Mailbox
) -> None:
    name = unique()
    email = f"{name}@example.com"
    page.goto(live.url("/app/register"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Check your email", level=1)).to_be_visible()
    expect(page.get_by_text(f"We sent an email to {email}.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)  # nobody signed in
    screenshot(page, "account-check-your-email")
    # The test app runs in a development environment: its mail viewer exists, and the page says so.
    page.get_by_role("link", name="Open the development mail viewer").click()
    expect(page).to_have_url(live.url("/dev/mail"))
    expect(page.get_by_text(email).first).to_be_visible()

    # Signing in before confirming: the right password, but the address comes first.
    sign_in(page, live, name)
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    resend = page.get_by_label("Email", exact=True)
    expect(resend).to_be_focused()
    resend.fill(email)
    page.get_by_role("button", name="Send a new link").click()
    expect(page.get_by_text(f"If {email} is waiting to be confirmed")).to_be_visible()
    screenshot(page, "account-email-unconfirmed")

    link = mailbox.link(email, "/api/auth/confirm/")
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/app/confirmed\?"))
    expect(page.get_by_role("heading", name="Your email address is confirmed")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(email)
    screenshot(page, "account-confirmed")

    page.goto(link)  # a second visit (a mail scanner came first): still a kind answer
    expect(page.get_by_role("heading", name="Your email address is confirmed")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("This link was used before")

    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email or username").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()


def test_a_bad_confirm_link_lands_on_the_error_view_with_a_resend_form(
    page: Page, live: LiveApp
) -> None:
    page.goto(live.url("/api/auth/confirm/not-a-real-token"))
    expect(page).to_have_url(re.compile(r"/app/confirm-error\?code=invalid"))
    heading = page.get_by_role("heading", name="Your email address could not be confirmed")
    expect(heading).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("This link is not valid")
    expect(page.get_by_role("button", name="Send a new link")).to_be_visible()


def test_the_reset_link_token_leaves_the_address_bar_and_never_reaches_the_server_again(
    page: Page, live: LiveApp, mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    name = live.create_user(unique())
    email = f"{name}@example.com"
    page.goto(live.url("/app/login"))
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_text(f"If {email} belongs to an account")).to_be_visible()

    link = mailbox.link(email, "/api/auth/password/reset/")
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 20
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert token not in page.url and "#" not in page.url
    assert page.url == live.url("/app/reset-password")
    assert page.evaluate("() => location.hash") == ""
    screenshot(page, "account-reset-password")

    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(
        "Your password has been changed. Sign in with your new password."
    )
    # Only the mailed link itself carried the token in a URL: not the SPA's page load, not its
    # API calls (the POST has it in its body), not a Referer.
    carried = [
        s.path
        for s in live.seen
        if token in s.path or token in s.query or token in (s.referer or "")
    ]
    assert carried == [path_of(link)]
    logged = [r.getMessage() for r in caplog.records if token in r.getMessage()]
    assert all(f"/api/auth/password/reset/{token}" in line for line in logged), logged

    sign_in(page, live, name, PASSWORD)  # the old password is gone
    expect(page.get_by_role("alert")).to_have_text("The email, username or password is wrong.")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()

    page.goto(link)  # used up: the reset-error view says so
    expect(page).to_have_url(re.compile(r"/app/reset-password-error\?code="))
    expect(page.get_by_role("link", name="Ask for a new reset link")).to_be_visible()


def test_sign_in_with_a_code(page: Page, live: LiveApp, mailbox: Mailbox) -> None:
    name = live.create_user(unique())
    page.goto(live.url("/app/login?next=/app/new"))
    page.get_by_role("link", name="Sign in with a code sent by email").click()
    expect(page.get_by_role("heading", name="Sign in with a code")).to_be_visible()
    page.get_by_label("Email or username").fill(name)
    page.get_by_role("button", name="Email me a sign-in code").click()
    code_field = page.get_by_label("Code")
    expect(code_field).to_be_focused()
    code = mailbox.code(f"{name}@example.com")
    wrong = "000000" if code != "000000" else "111111"
    code_field.fill(wrong)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("The code is wrong or has expired.")
    screenshot(page, "account-code-sign-in")
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    expect(page.get_by_role("heading", name="Articles", exact=True)).to_be_visible()


def test_account_page_changes_the_password_and_the_email(
    page: Page, live: LiveApp, mailbox: Mailbox
) -> None:
    name = live.create_user(unique())
    old_email = f"{name}@example.com"
    new_email = f"{name}.new@example.com"
    assert page.context.browser is not None
    other = page.context.browser.new_context()
    try:
        elsewhere = other.new_page()
        sign_in(elsewhere, live, name)
        expect(elsewhere.get_by_text(f"Signed in as {name}")).to_be_visible()

        sign_in(page, live, name)
        page.get_by_role("link", name="Your account").click()
        expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()
        sessions = page.get_by_role("table")
        expect(sessions.get_by_role("row")).to_have_count(3)  # the header, this one, the other
        expect(sessions.get_by_text("This device")).to_have_count(1)
        screenshot(page, "account-page")

        page.get_by_label("Current password").fill("not my password at all")
        page.get_by_label("New password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_role("alert")).to_contain_text("This is not your current password.")
        expect(page.get_by_label("Current password")).to_be_focused()

        page.get_by_label("Current password").fill(PASSWORD)
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_text("Your password has been changed.")).to_be_visible()
        expect(sessions.get_by_role("row")).to_have_count(2)  # the other device was signed out
        expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()  # this one stays

        page.get_by_label("New email address").fill(new_email)
        page.get_by_label("Your password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change email address").click()
        expect(page.get_by_text(f"We sent a link to {new_email}.")).to_be_visible()
        assert mailbox.to(old_email), "the old address gets a notice"

        page.goto(mailbox.link(new_email, "/api/auth/email/change/"))
        expect(page.get_by_role("heading", name="Your email address has changed")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text(new_email)
        page.get_by_role("link", name="Go to your account").click()
        expect(page.get_by_text(new_email, exact=True)).to_be_visible()

        page.get_by_role("button", name="Sign out").click()
        sign_in(page, live, new_email, NEW_PASSWORD)
        expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    finally:
        other.close()


def test_the_new_pages_have_no_serious_accessibility_violations(
    axe_page: Page, live: LiveApp
) -> None:
    page = axe_page
    found: dict[str, Any] = {}
    for path, heading in [
        ("/app/check-email?email=ada%40example.com", "Check your email"),
        ("/app/confirm-error?code=expired", "Your email address could not be confirmed"),
        ("/app/forgot-password", "Forgot your password?"),
        ("/app/login/code", "Sign in with a code"),
        ("/app/reset-password-error?code=expired", "Your password could not be reset"),
    ]:
        page.goto(live.url(path))
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        found[path] = serious_axe_violations(page)
    name = live.create_user(unique())
    sign_in(page, live, name)
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    page.goto(live.url("/app/account"))
    expect(page.get_by_role("table")).to_be_visible()
    found["account"] = serious_axe_violations(page)
    assert found == {path: [] for path in found}


def test_the_link_pages_are_in_the_public_shell_and_the_account_page_is_not(
    page: Page, live: LiveApp
) -> None:
    page.goto(live.url("/app/reset-password-error?code=invalid"))  # signed out, from a mail
    expect(page.get_by_role("heading", name="Your password could not be reset")).to_be_visible()
    account = [p.name for p in (REAL_DIST / "assets").iterdir() if p.name.startswith("Account")]
    assert account, "the build should split the account page into a lazy chunk"
    statuses = page.evaluate(
        """async (names) => Promise.all(
            names.map(async (n) => (await fetch("/app/assets/" + n)).status))""",
        account,
    )
    assert statuses == [401] * len(account)
    page.goto(live.url("/app/account"))
    expect(page).to_have_url(live.url("/login?next=%2Fapp%2Faccount"))
