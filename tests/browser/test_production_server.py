"""The shipped setup: `newsroom serve` (Granian, production settings) serving web/dist and API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response, expect

from tests.browser.conftest import REAL_DIST
from tests.conftest import PASSWORD, fresh_database
from tests.servers import free_port, newsroom_server, production_env


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert (REAL_DIST / ".vite" / "manifest.json").is_file(), (
        "the SPA is not built: run `npm ci && npm run build` in web/ (make test does this)"
    )
    port = free_port()
    with fresh_database(tmp_path_factory.mktemp("prod")) as database_url:
        env = production_env(database_url, port)
        # The production limits (20 sign-ups an hour per IP) would count every run on a shared
        # Redis; in-process limits start afresh with the server.
        env.pop("REDIS_URL", None)
        # No NEWSROOM_SPA_DIST: the server finds web/dist of the source tree by itself.
        with newsroom_server(env, port) as base:
            yield base


def test_newcomer_on_the_production_server(page: Page, production: str) -> None:
    assets: dict[str, Response] = {}
    page.on(
        "response",
        lambda r: assets.setdefault(Path(r.url).name, r) if "/app/assets/" in r.url else None,
    )
    name = f"prod{uuid.uuid4().hex[:8]}"
    page.goto(production + "/app/new")
    expect(page).to_have_url(production + "/login?next=%2Fapp%2Fnew")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill(f"{name}@example.com")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Articles", exact=True)).to_be_visible()

    chunk = next(n for n in assets if n.startswith("ArticleListPage-"))
    entry = next(n for n in assets if n.startswith("index-") and n.endswith(".js"))
    assert assets[chunk].status == 200
    assert assets[chunk].headers["cache-control"] == "private, no-cache"  # revalidated
    assert assets[entry].headers["cache-control"] == "public, max-age=31536000, immutable"

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    status = page.evaluate("async (n) => (await fetch('/app/assets/' + n)).status", chunk)
    assert status == 401  # signed out: the private chunk is refused again

    page.goto(production + "/login?next=/app/new")
    page.get_by_label("Email or username").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(production + "/app/new")
    expect(page.get_by_role("heading", name="New article")).to_be_visible()
