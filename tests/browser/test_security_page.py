"""Strong sign-in in the real SPA (web/dist), in Chromium: the account security page sets up an
authenticator app (the code computed with pyotp from the secret the page shows), the sign-in
page then asks for the second step, a recovery code works once, a passkey added on the page
signs in alone (a CDP virtual authenticator), and the page lists the account's security events.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.account_helpers import Mailbox
from tests.browser.conftest import (
    REAL_DIST,
    LiveApp,
    screenshot,
    serious_axe_violations,
    session_status,
)
from tests.conftest import PASSWORD
from tests.smtp import SmtpServer

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@pytest.fixture(scope="module")
def server_config(module_smtp: SmtpServer) -> dict[str, Any]:
    missing = [p for p in ("index.html", ".vite/manifest.json") if not (REAL_DIST / p).is_file()]
    assert not missing, f"the SPA is not built ({', '.join(missing)} missing): build it in web/"
    return {
        "SPA_DIST": str(REAL_DIST),
        "BASTION_MAIL_URL": module_smtp.url,
        # Every test here signs in from 127.0.0.1, several times: the per-IP limits are for
        # the public.
        "BASTION_MAIL_LIMIT_PER_IP": "10000/hour",
        "BASTION_PASSKEY_LIMIT_PER_IP": "10000/minute",
        "BASTION_MFA_LIMIT_PER_IP": "10000/minute",
    }


def unique() -> str:
    return f"s{uuid.uuid4().hex[:10]}"


def sign_in(page: Page, live: LiveApp, identity: str, password: str = PASSWORD) -> None:
    page.goto(live.url("/app/login"))
    page.get_by_label("Email or username").fill(identity)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_out(page: Page, live: LiveApp) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    assert session_status(page, live) == 401


def open_security_page(page: Page) -> None:
    page.get_by_role("link", name="Your account").click()
    page.get_by_role("link", name=re.compile(r"^Security")).click()
    expect(page.get_by_role("heading", name="Account security", level=1)).to_be_visible()


def code_for_next_step(secret: str) -> str:
    """A code one step ahead: a code is accepted once, and the setup used the current step's
    (the server allows one step of drift either way)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def turn_on_totp(page: Page) -> tuple[str, list[str]]:
    """On the security page: set up the app from the shown secret; the recovery codes shown."""
    page.get_by_role("button", name="Set up an authenticator app").click()
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    assert qr.evaluate("img => img.naturalWidth") > 0  # the server's SVG renders under the CSP
    screenshot(page, "security-totp-setup")
    secret = page.locator("code.secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    page.get_by_label("Code from the app").fill(
        "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    )
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("alert")).to_contain_text("This code is wrong")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    codes_list = page.get_by_role("list", name="Recovery codes")
    expect(codes_list).to_be_visible()
    expect(page.get_by_text("Save these codes now: you will not see them again.")).to_be_visible()
    codes = [c.strip() for c in codes_list.get_by_role("listitem").all_inner_texts()]
    assert len(codes) == 10 and len(set(codes)) == 10, codes
    screenshot(page, "security-recovery-codes")
    page.get_by_role("button", name="I have saved my codes").click()
    expect(codes_list).to_have_count(0)
    expect(page.get_by_text("10 recovery codes left.", exact=False)).to_be_visible()
    return secret, codes


def test_totp_setup_then_the_mfa_step_after_the_password(page: Page, live: LiveApp) -> None:
    name = live.create_user(unique())
    sign_in(page, live, name)
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    open_security_page(page)
    expect(page.get_by_text("Off. Add an authenticator app")).to_be_visible()
    secret, _ = turn_on_totp(page)
    sign_out(page, live)

    sign_in(page, live, name)
    code = page.get_by_label("Authentication code")
    expect(code).to_be_focused()
    assert code.get_attribute("autocomplete") == "one-time-code"
    assert code.get_attribute("inputmode") == "numeric"
    assert session_status(page, live) == 401  # the password alone signed nobody in
    screenshot(page, "security-mfa-step")
    wrong = "123456" if pyotp.TOTP(secret).now() != "123456" else "654321"
    code.fill(wrong)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("The code is wrong or was already used.")
    page.get_by_label("Authentication code").fill(code_for_next_step(secret))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    assert session_status(page, live) == 200

    # Turning it off needs no code, and the next sign-in is the password alone again.
    open_security_page(page)
    page.get_by_role("button", name="Turn off two-step verification").click()
    page.get_by_role("button", name="Yes, turn it off").click()
    expect(page.get_by_text("Two-step verification is off.")).to_be_visible()
    sign_out(page, live)
    sign_in(page, live, name)
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()


def test_a_recovery_code_signs_in_once(page: Page, live: LiveApp) -> None:
    name = live.create_user(unique())
    sign_in(page, live, name)
    open_security_page(page)
    _, codes = turn_on_totp(page)
    sign_out(page, live)

    sign_in(page, live, name)
    page.get_by_role("button", name="Use a recovery code").click()
    field = page.get_by_label("Recovery code")
    expect(field).to_be_focused()
    field.fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    open_security_page(page)
    expect(page.get_by_text("9 recovery codes left.", exact=False)).to_be_visible()
    expect(page.get_by_role("list", name="Your security events")).to_contain_text(
        "Recovery code used"
    )
    sign_out(page, live)

    sign_in(page, live, name)  # the same code a second time: refused
    page.get_by_role("button", name="Use a recovery code").click()
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("The code is wrong or was already used.")
    assert session_status(page, live) == 401
    page.get_by_label("Recovery code").fill(codes[1])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()


def test_a_passkey_added_on_the_page_signs_in_alone(page: Page, live: LiveApp) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    name = live.create_user(unique())
    sign_in(page, live, name)
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    open_security_page(page)
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    page.get_by_label("Name for the new passkey").fill("This Chromium")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Passkey “This Chromium” added.")).to_be_visible()
    passkeys = page.get_by_role("list", name="Your passkeys")
    expect(passkeys).to_contain_text("This Chromium")
    expect(passkeys).to_contain_text("never used")
    stored = cdp.send(
        "WebAuthn.getCredentials", {"authenticatorId": authenticator["authenticatorId"]}
    )["credentials"]
    assert [(c["rpId"], c["isResidentCredential"]) for c in stored] == [("app.localhost", True)]
    screenshot(page, "security-passkeys")
    sign_out(page, live)

    # No identity typed: the passkey names its account.
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    assert session_status(page, live) == 200
    open_security_page(page)
    expect(page.get_by_role("list", name="Your passkeys")).to_contain_text("last used")
    events = page.get_by_role("list", name="Your security events")
    expect(events).to_contain_text("Passkey added")
    expect(events.get_by_role("listitem").first).to_contain_text("Signed in with a passkey")

    # Removed, it signs nobody in any more.
    page.get_by_role("button", name="Remove passkey: This Chromium").click()
    expect(page.get_by_text("Passkey “This Chromium” removed.")).to_be_visible()
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    sign_out(page, live)
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert session_status(page, live) == 401


def test_the_security_events_list_shows_the_users_own_history(page: Page, live: LiveApp) -> None:
    name = live.create_user(unique())
    other = live.create_user(unique())
    sign_in(page, live, other, "not the password")  # someone else's failure: not in our list
    expect(page.get_by_role("alert")).to_have_text("The email, username or password is wrong.")
    sign_in(page, live, name, "not the password")
    expect(page.get_by_role("alert")).to_have_text("The email, username or password is wrong.")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    open_security_page(page)

    events = page.get_by_role("list", name="Your security events")
    expect(events.get_by_role("listitem").first).to_contain_text("Signed in")
    kinds = [item.locator("strong").inner_text() for item in events.get_by_role("listitem").all()]
    # Newest first; the account was made by a command (no request), which records no event.
    assert kinds == ["Signed in", "Failed sign-in attempt"], kinds
    expect(events.get_by_role("listitem").first).to_contain_text("127.0.0.1")
    expect(events.get_by_role("listitem").first).to_contain_text("Chrom")
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)
    screenshot(page, "security-events")


def test_five_wrong_codes_end_the_pending_sign_in(page: Page, live: LiveApp) -> None:
    name = live.create_user(unique())
    sign_in(page, live, name)
    open_security_page(page)
    secret, _ = turn_on_totp(page)
    sign_out(page, live)

    sign_in(page, live, name)
    wrong = "123456" if pyotp.TOTP(secret).now() != "123456" else "654321"
    for _ in range(5):
        page.get_by_label("Authentication code").fill(wrong)
        with page.expect_response(live.url("/api/auth/mfa/verify")) as answer:
            page.get_by_role("button", name="Verify").click()
        assert answer.value.status == 401
        expect(page.get_by_role("alert")).to_contain_text("The code is wrong or was already used.")
    # Even the right code is too late now: back to the password, with the reason.
    page.get_by_label("Authentication code").fill(code_for_next_step(secret))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_have_text(
        "This sign-in has expired or was used up. Please sign in again."
    )
    expect(page.get_by_label("Password", exact=True)).to_be_visible()
    assert session_status(page, live) == 401
    # A new first step starts a new pending sign-in, which the right code finishes.
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Authentication code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()


def test_the_new_screens_have_no_serious_accessibility_violations(
    axe_page: Page, live: LiveApp
) -> None:
    page = axe_page  # its CSP is bypassed so that axe-core can be injected
    page.set_default_timeout(10_000)
    name = live.create_user(unique())
    found: dict[str, list[dict[str, Any]]] = {}
    sign_in(page, live, name)
    open_security_page(page)
    expect(page.get_by_role("list", name="Your security events")).to_be_visible()
    found["security"] = serious_axe_violations(page)
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    page.get_by_role("button", name="Turn on").click()  # empty: the field's error shown
    expect(page.get_by_role("alert")).to_be_visible()
    found["totp-setup-errors"] = serious_axe_violations(page)
    secret = page.locator("code.secret").inner_text().strip()
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("list", name="Recovery codes")).to_be_visible()
    found["recovery-codes"] = serious_axe_violations(page)
    page.get_by_role("button", name="I have saved my codes").click()
    sign_out(page, live)
    sign_in(page, live, name)
    expect(page.get_by_label("Authentication code")).to_be_focused()
    found["mfa-step"] = serious_axe_violations(page)
    assert found == {name: [] for name in found}


def test_code_sign_in_asks_for_the_second_factor_too(
    page: Page, live: LiveApp, module_smtp: SmtpServer
) -> None:
    mailbox = Mailbox(live.app, module_smtp)
    name = live.create_user(unique())
    sign_in(page, live, name)
    open_security_page(page)
    secret, _ = turn_on_totp(page)
    sign_out(page, live)

    page.get_by_role("link", name="Sign in with a code sent by email").click()
    page.get_by_label("Email or username").fill(name)
    page.get_by_role("button", name="Email me a sign-in code").click()
    mailed = page.get_by_label("Code", exact=True)
    expect(mailed).to_be_focused()  # the request has been answered: the mail is queued
    mailed.fill(mailbox.code(f"{name}@example.com"))
    page.get_by_role("button", name="Sign in", exact=True).click()
    code = page.get_by_label("Authentication code")
    expect(code).to_be_focused()
    assert session_status(page, live) == 401  # the mailed code alone signed nobody in
    code.fill(code_for_next_step(secret))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
