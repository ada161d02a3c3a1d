"""CSRF in a real browser: forged forms from another site and from a sibling subdomain fail.

Each attack has its control: the same action from the app's own page succeeds, so the attack
tests cannot pass merely because the action never works.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveApp, OtherSite, Seen, session_status, sign_in_with_form

# A form can send only these bodies across origins without a preflight; text/plain can be
# made to look like JSON: the name carries the JSON up to the "=", the value closes it.
FORGED_FORMS = {
    "urlencoded": (
        "application/x-www-form-urlencoded",
        '<input name="title" value="forged"><input name="body" value="forged">',
    ),
    "text-plain-json": (
        "text/plain",
        """<input name='{"title": "forged", "body": "forged", "pad": "' value='"}'>""",
    ),
}
OTHER_SITE = "evil.localhost"  # another site: SameSite=Lax keeps the cookie home
SIBLING_SUBDOMAIN = "evil.app.localhost"  # the same site: the cookie IS sent
ATTACKERS = [OTHER_SITE, SIBLING_SUBDOMAIN]


def forged_page(action: str, enctype: str, fields: str) -> str:
    return f"""<!doctype html><html><body>
<form id="attack" method="post" action="{action}" enctype="{enctype}">{fields}</form>
<script>document.getElementById("attack").submit();</script>
</body></html>"""


def submit_forged_form(
    page: Page, live: LiveApp, other_site: OtherSite, path: str, host: str, form: str
) -> Seen:
    """Make the victim's browser post ``form`` to ``path`` from ``host``; return what arrived.

    The answer must be the CSRF refusal; the caller checks how the request arrived.
    """
    enctype, fields = FORGED_FORMS[form]
    target = live.url(path)
    page_path = f"/{host}-{form}{path.replace('/', '-')}"
    other_site.pages[page_path] = forged_page(target, enctype, fields)
    with page.expect_response(target) as answer:
        page.goto(other_site.url(host, page_path))
    assert answer.value.status == 403
    assert answer.value.json()["code"] == "csrf_failed"
    forged = live.received(path)[-1]
    assert forged.origin == other_site.origin(host)
    return forged


@pytest.mark.parametrize("form", FORGED_FORMS)
def test_forged_logout_form_from_another_site_is_refused(
    page: Page, live: LiveApp, other_site: OtherSite, form: str
) -> None:
    sign_in_with_form(page, live, live.create_user())
    assert session_status(page, live) == 200
    forged = submit_forged_form(page, live, other_site, "/api/auth/logout", OTHER_SITE, form)
    assert "bastion_session=" not in forged.cookies  # the browser kept the cookie home
    assert session_status(page, live) == 200


@pytest.mark.parametrize("form", FORGED_FORMS)
def test_forged_logout_form_from_a_sibling_subdomain_is_refused(
    page: Page, live: LiveApp, other_site: OtherSite, form: str
) -> None:
    sign_in_with_form(page, live, live.create_user())
    assert session_status(page, live) == 200
    forged = submit_forged_form(page, live, other_site, "/api/auth/logout", SIBLING_SUBDOMAIN, form)
    # The browser sent the cookie: only the CSRF rule (origin + token) refused the request.
    assert "bastion_session=" in forged.cookies
    assert session_status(page, live) == 200


def test_control_logout_from_the_app_itself_succeeds(page: Page, live: LiveApp) -> None:
    sign_in_with_form(page, live, live.create_user(), "?next=/app/")
    expect(page).to_have_url(live.url("/app/"))
    status = page.evaluate(
        """async () => {
            const token = document.cookie.split("; ")
                .find((c) => c.startsWith("XSRF-TOKEN=")).slice("XSRF-TOKEN=".length);
            const r = await fetch("/api/auth/logout",
                {method: "POST", headers: {"X-XSRF-TOKEN": token}});
            return r.status;
        }"""
    )
    assert status == 204
    assert session_status(page, live) == 401


def test_forged_sign_in_form_cannot_plant_a_session(
    page: Page, live: LiveApp, other_site: OtherSite
) -> None:
    """Login CSRF: an attacker must not sign the victim into the attacker's account."""
    attacker = live.create_user()
    fields = f'<input name="identity" value="{attacker}">' + (
        '<input name="password" value="a-long-test-passphrase">'
    )
    other_site.pages["/login-csrf"] = forged_page(
        live.url("/login"), "application/x-www-form-urlencoded", fields
    )
    page.goto(live.url("/login"))  # the victim has an XSRF-TOKEN cookie, as after any visit
    with page.expect_response(live.url("/login")) as answer:
        page.goto(other_site.url(SIBLING_SUBDOMAIN, "/login-csrf"))
    assert answer.value.status == 403
    expect(page.get_by_role("alert")).to_have_text("This form expired. Please try again.")
    assert session_status(page, live) == 401


def test_logout_link_from_another_site_only_shows_a_confirm_button(
    page: Page, live: LiveApp, other_site: OtherSite
) -> None:
    sign_in_with_form(page, live, live.create_user())
    for host in ATTACKERS:
        other_site.pages["/link"] = f'<a href="{live.url("/logout")}">Win a prize</a>'
        page.goto(other_site.url(host, "/link"))
        page.get_by_role("link", name="Win a prize").click()
        expect(page.get_by_role("heading", name="Sign out of Newsroom?")).to_be_visible()
        assert session_status(page, live) == 200
    page.get_by_role("button", name="Sign out").click()  # the person confirms on our page
    expect(page).to_have_url(live.url("/login"))
    assert session_status(page, live) == 401


def test_control_logout_link_on_our_own_page_signs_out(page: Page, live: LiveApp) -> None:
    sign_in_with_form(page, live, live.create_user(), "?next=/app/")
    page.evaluate("() => { location.href = '/logout'; }")
    expect(page).to_have_url(live.url("/login"))
    assert session_status(page, live) == 401


def article_total(page: Page, live: LiveApp) -> int:
    probe = page.context.new_page()
    try:
        response = probe.goto(live.url("/api/articles"))
        assert response is not None and response.status == 200
        return int(response.json()["total"])
    finally:
        probe.close()


@pytest.mark.parametrize("form", FORGED_FORMS)
def test_forged_article_form_from_another_site_creates_nothing(
    page: Page, live: LiveApp, other_site: OtherSite, form: str
) -> None:
    sign_in_with_form(page, live, live.create_user())
    before = article_total(page, live)
    forged = submit_forged_form(page, live, other_site, "/api/articles", OTHER_SITE, form)
    assert "bastion_session=" not in forged.cookies
    assert article_total(page, live) == before


@pytest.mark.parametrize("form", FORGED_FORMS)
def test_forged_article_form_from_a_sibling_subdomain_creates_nothing(
    page: Page, live: LiveApp, other_site: OtherSite, form: str
) -> None:
    sign_in_with_form(page, live, live.create_user())
    before = article_total(page, live)
    forged = submit_forged_form(page, live, other_site, "/api/articles", SIBLING_SUBDOMAIN, form)
    assert "bastion_session=" in forged.cookies
    assert article_total(page, live) == before


def test_control_the_app_itself_creates_an_article(page: Page, live: LiveApp) -> None:
    sign_in_with_form(page, live, live.create_user(), "?next=/app/")
    before = article_total(page, live)
    status = page.evaluate(
        """async () => {
            const token = document.cookie.split("; ")
                .find((c) => c.startsWith("XSRF-TOKEN=")).slice("XSRF-TOKEN=".length);
            const r = await fetch("/api/articles", {
                method: "POST",
                headers: {"Content-Type": "application/json", "X-XSRF-TOKEN": token},
                body: JSON.stringify({title: "genuine", body: "written in the app"}),
            });
            return r.status;
        }"""
    )
    assert status == 201
    assert article_total(page, live) == before + 1
