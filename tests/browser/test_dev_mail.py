"""`/dev/mail` in Chromium: under its strict CSP a mail's links work, in the text and the frame."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page, expect

from flask_bastion import clock
from flask_bastion.flows.context import command_context
from flask_bastion.mail import enqueue
from tests.browser.conftest import LiveApp


def queue_mail(live: LiveApp, link: str) -> None:
    state = live.app.extensions["bastion"]
    with live.app.app_context(), state.db.unit_of_work() as db:
        enqueue(
            command_context(state, db, now=clock.now()),
            to="ada@example.com",
            template="test_message",
            context={"name": "Ada", "link": link},
        )


def test_a_developer_follows_a_mail_link_from_dev_mail(page: Page, live: LiveApp) -> None:
    refusals: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Blocked" in message.text:
            refusals.append(message.text)

    page.on("console", watch)
    link = live.url("/api/health?from=mail")
    queue_mail(live, link)

    page.goto(live.url("/dev/mail"))
    mail = page.get_by_role("article", name="Newsroom: a test message for Ada")
    expect(mail).to_be_visible()
    expect(mail.get_by_text("ada@example.com")).to_be_visible()

    # The HTML part renders in its sandboxed frame, and its link opens outside it, in a new tab.
    frame = page.frame_locator("iframe[title^='HTML part']").first
    framed_link = frame.get_by_role("link", name=link)
    expect(framed_link).to_be_visible()
    with page.expect_popup() as opened:
        framed_link.click()
    popup = opened.value
    popup.wait_for_load_state()
    assert popup.url == link
    assert '"status"' in popup.content()
    popup.close()

    # The text part's link is a plain link on the page.
    mail.locator("pre").get_by_role("link", name=link).click()
    expect(page).to_have_url(link)
    assert refusals == []
