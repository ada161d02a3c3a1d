"""Passkeys in Debian's Chromium with a CDP virtual authenticator: register one, sign out, sign
in with it (discoverable, no identity typed); a cloned credential and a replayed assertion are
refused, each beside its control (the genuine credential, a fresh assertion) that succeeds.

The page calls ``navigator.credentials`` with the server's JSON options, parsed by
``PublicKeyCredential.parseCreationOptionsFromJSON`` / ``parseRequestOptionsFromJSON``, and
sends ``credential.toJSON()`` back, as the SPA does.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from playwright.sync_api import CDPSession, Page

from tests.browser.conftest import LiveApp, session_status
from tests.conftest import PASSWORD

# Helpers the page runs: fetch with this browser's cookies and the CSRF token the API asks for.
PAGE_HELPERS = """() => {
window.api = async (path, body) => {
  const session = await (await fetch('/api/auth/session')).json();
  const response = await fetch(path, {
    method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-XSRF-TOKEN': session.csrf_token},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {status: response.status, body: text ? JSON.parse(text) : null};
};
}"""
SIGN_IN_WITH_PASSWORD = """
async ([identity, password]) => (await api('/api/auth/login', {identity, password})).status
"""
REGISTER = """
async (name) => {
  const options = await api('/api/auth/passkeys/register/options');
  if (options.status !== 200) return options;
  const credential = await navigator.credentials.create({
    publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.body),
  });
  return await api('/api/auth/passkeys/register', {credential: credential.toJSON(), name});
}
"""
# Returns the assertion too, so a test can present it again.
SIGN_IN_WITH_PASSKEY = """
async () => {
  const options = await api('/api/auth/passkeys/login/options');
  if (options.status !== 200) return options;
  const credential = await navigator.credentials.get({
    publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.body),
  });
  const assertion = credential.toJSON();
  return {...(await api('/api/auth/passkeys/login', {credential: assertion})), assertion};
}
"""
PRESENT = """
async ([assertion, fresh]) => {
  if (fresh) await api('/api/auth/passkeys/login/options');
  return await api('/api/auth/passkeys/login', {credential: assertion});
}
"""
SIGN_OUT = "async () => (await api('/api/auth/logout')).status"

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


def open_app_page(page: Page, live: LiveApp) -> None:
    """A page of the app's origin (the RP id is its host, app.localhost) with the helpers."""
    page.goto(live.url("/app/login"))
    page.evaluate(PAGE_HELPERS)


def add_authenticator(page: Page) -> tuple[CDPSession, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, added["authenticatorId"]


def signed_in_user(page: Page, live: LiveApp) -> str | None:
    probe = page.context.new_page()
    try:
        response = probe.goto(live.url("/api/auth/session"))
        assert response is not None
        body: dict[str, Any] = response.json()
        return body["user"]["username"] if response.status == 200 else None
    finally:
        probe.close()


def register_passkey(page: Page, live: LiveApp) -> tuple[str, dict[str, Any]]:
    """A new account, signed in with its password, that adds a passkey; then signed out."""
    username = live.create_user()
    open_app_page(page, live)
    assert page.evaluate(SIGN_IN_WITH_PASSWORD, [username, PASSWORD]) == 200
    added = page.evaluate(REGISTER, "Chromium")
    assert added["status"] == 201, added
    assert page.evaluate(SIGN_OUT) == 204
    page.evaluate(PAGE_HELPERS)  # sign-out cleared the site's storage, not this page's script
    assert session_status(page, live) == 401
    return username, added["body"]


def test_register_a_passkey_then_sign_in_with_it_alone(page: Page, live: LiveApp) -> None:
    cdp, authenticator = add_authenticator(page)
    username, added = register_passkey(page, live)
    assert added["name"] == "Chromium"
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(stored) == 1
    assert stored[0]["isResidentCredential"] is True  # discoverable: no identity needed
    assert stored[0]["rpId"] == "app.localhost"

    signed_in = page.evaluate(SIGN_IN_WITH_PASSKEY)
    assert signed_in["status"] == 200, signed_in
    assert signed_in["body"]["user"]["username"] == username
    assert signed_in_user(page, live) == username


def test_a_cloned_credential_is_refused(page: Page, live: LiveApp) -> None:
    cdp, original = add_authenticator(page)
    username, _ = register_passkey(page, live)
    # Copy the credential (private key and counter) as it is now, right after registration.
    (exported,) = cdp.send("WebAuthn.getCredentials", {"authenticatorId": original})["credentials"]

    # Control: the genuine authenticator signs in, and its counter moves past the copy's.
    assert page.evaluate(SIGN_IN_WITH_PASSKEY)["status"] == 200
    assert page.evaluate(SIGN_OUT) == 204
    page.evaluate(PAGE_HELPERS)

    # The copy, in another authenticator, with the genuine one gone (Chromium allows one
    # platform authenticator at a time).
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": original})
    clone = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    cdp.send(
        "WebAuthn.addCredential",
        {"authenticatorId": clone["authenticatorId"], "credential": exported},
    )
    refused = page.evaluate(SIGN_IN_WITH_PASSKEY)
    assert refused["status"] == 401, refused
    assert refused["body"]["code"] == "passkey_cloned"
    assert signed_in_user(page, live) is None
    # The copy signed with a valid signature: only its counter gave it away.
    (used,) = cdp.send("WebAuthn.getCredentials", {"authenticatorId": clone["authenticatorId"]})[
        "credentials"
    ]
    assert used["signCount"] == exported["signCount"] + 1
    assert base64.b64decode(used["credentialId"]) == base64.b64decode(exported["credentialId"])
    assert username


def test_a_replayed_assertion_is_refused(page: Page, live: LiveApp) -> None:
    add_authenticator(page)
    username, _ = register_passkey(page, live)
    signed_in = page.evaluate(SIGN_IN_WITH_PASSKEY)
    assert signed_in["status"] == 200  # control: the assertion was good once
    assert page.evaluate(SIGN_OUT) == 204
    page.evaluate(PAGE_HELPERS)

    captured = signed_in["assertion"]
    for fresh in (False, True):  # its own ceremony is used up; a new one has another challenge
        replayed = page.evaluate(PRESENT, [captured, fresh])
        expected = ("challenge_invalid", 400) if not fresh else ("passkey_invalid", 401)
        assert (replayed["body"]["code"], replayed["status"]) == expected, replayed
    assert signed_in_user(page, live) is None
    # Control: a fresh assertion from the authenticator still signs in.
    again = page.evaluate(SIGN_IN_WITH_PASSKEY)
    assert again["status"] == 200
    assert signed_in_user(page, live) == username


@pytest.fixture(scope="module")
def server_config(fake_dist: Any) -> dict[str, Any]:
    # Every test here signs in from 127.0.0.1, several times.
    return {"SPA_DIST": str(fake_dist), "BASTION_PASSKEY_LIMIT_PER_IP": "10000/minute"}
