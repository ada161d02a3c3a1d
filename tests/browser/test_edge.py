"""The real SPA through the rendered nginx over TLS: the gate lets a signed-in browser's private
chunks through, and nobody else's.

nginx serves the SPA from the build and asks ``GET /api/auth/check`` (on the instances behind
it) before each private chunk. Chromium does not know the test's throwaway CA, so its context
ignores certificate errors; the Python tests in ``tests/test_deploy_nginx.py`` verify TLS itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Response, expect

from newsroom.views.spa import SOURCE_DIST, build_at
from tests.conftest import PASSWORD
from tests.test_deploy_nginx import Cluster, register_browser

# The same servers as the Python edge tests (module fixtures: this module gets its own).
from tests.test_deploy_nginx import cluster as cluster
from tests.test_deploy_nginx import tls as tls

pytestmark = pytest.mark.server


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(ignore_https_errors=True)
    yield context
    context.close()


def _private_chunks() -> set[str]:
    build = build_at(SOURCE_DIST)
    assert build is not None and build.has_shell, "run `make web` first"
    return {
        f"/app/assets/{p.name}"
        for p in (SOURCE_DIST / "assets").glob("*.js")
        if f"assets/{p.name}" not in build.public_files
    }


def test_private_chunks_reach_the_browser_only_once_it_signs_in(
    context: BrowserContext, cluster: Cluster
) -> None:
    register_browser(cluster, "edgar")
    private = _private_chunks()
    loaded: list[tuple[str, int]] = []
    page: Page = context.new_page()

    def seen(response: Response) -> None:
        path = response.url.removeprefix(cluster.proxy)
        if path in private:
            loaded.append((path, response.status))

    page.on("response", seen)
    page.goto(f"{cluster.proxy}/app/articles/1")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert loaded == []  # the public shell drew the sign-in page without any private code
    first = sorted(private)[0]
    refused = page.request.get(f"{cluster.proxy}{first}")
    assert refused.status == 401  # asked for directly, the gate says no

    page.get_by_label("Email or username").fill("edgar")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Argon2 at production cost on a busy CI machine: more than the usual 10 s allowance.
    expect(page.get_by_text("Signed in as edgar")).to_be_visible(timeout=30_000)
    # The shell says who is signed in before the page's lazy chunk has arrived: wait for it.
    for _ in range(100):
        if loaded:
            break
        page.wait_for_timeout(100)
    assert loaded and all(status == 200 for _, status in loaded), loaded

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.request.get(f"{cluster.proxy}{first}").status == 401
