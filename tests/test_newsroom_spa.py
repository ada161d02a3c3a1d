"""Serving the SPA under /app/: public shell, private chunks, caching; /api never falls back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import Auth
from tests.problems import problem

NAV = {"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}
FETCH = {"Accept": "*/*", "Sec-Fetch-Mode": "cors"}
ENTRY, SHARED, STYLE, LAZY = (
    "assets/index-AbC123.js",
    "assets/react-DeF456.js",
    "assets/index-GhI789.css",
    "assets/articles-JkL012.js",
)
# The SPA's own 401 says what to do here, so its detail differs from the API's.
SPA_NOT_AUTHENTICATED = problem(401, "not_authenticated", "Sign in to load the app.")


# What `vite build` writes from web/src/routes.tsx (a public route with an id, to test matching).
ROUTES = {
    "routes": [
        {"name": "articles", "pattern": "/", "public": False},
        {"name": "article", "pattern": "/articles/:id", "public": False},
        {"name": "login", "pattern": "/login", "public": True},
        {"name": "register", "pattern": "/register", "public": True},
        {"name": "invite", "pattern": "/invites/:id", "public": True},
    ]
}


def build(dist: Path, manifest: bool = True, routes: bool = True) -> Path:
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>Newsroom SPA</title>")
    for name in (ENTRY, SHARED, STYLE, LAZY):
        (dist / name).write_text(f"/* {name} */")
    (dist / "favicon.svg").write_text("<svg/>")
    if manifest:
        (dist / ".vite").mkdir()
        (dist / ".vite" / "manifest.json").write_text(
            json.dumps(
                {
                    "index.html": {
                        "file": ENTRY,
                        "isEntry": True,
                        "imports": ["_react.js"],
                        "css": [STYLE],
                        "dynamicImports": ["src/Articles.tsx"],
                    },
                    "_react.js": {"file": SHARED},
                    "src/Articles.tsx": {
                        "file": LAZY,
                        "isDynamicEntry": True,
                        "imports": ["_react.js"],
                    },
                }
            )
        )
    if routes:
        (dist / ".vite").mkdir(exist_ok=True)
        (dist / ".vite" / "routes.json").write_text(json.dumps(ROUTES))
    return dist


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, Any]:
    return {"SPA_DIST": str(build(tmp_path / "dist"))}


def test_root_sends_anonymous_to_login_and_members_to_the_app(
    client: FlaskClient, auth: Auth
) -> None:
    assert client.get(buffered=True, path="/").headers["Location"] == "/login"
    auth.register()
    response = client.get(buffered=True, path="/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/app/"


@pytest.mark.parametrize("headers", [NAV, {"Accept": "text/html"}])
def test_anonymous_navigation_is_sent_to_login_with_next(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    response = client.get(buffered=True, path="/app/articles/7?page=2&author=bob", headers=headers)
    assert response.status_code == 303
    assert response.headers["Location"] == (
        "/login?next=%2Fapp%2Farticles%2F7%3Fpage%3D2%26author%3Dbob"
    )


@pytest.mark.parametrize(
    "path", ["/app/", "/app/articles", f"/app/{LAZY}", "/app/favicon.svg", "/app/assets/nope.js"]
)
def test_anonymous_fetches_of_private_files_get_401(client: FlaskClient, path: str) -> None:
    response = client.get(buffered=True, path=path, headers=FETCH)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json == SPA_NOT_AUTHENTICATED


def test_lazy_chunks_are_private_even_for_a_navigation(client: FlaskClient) -> None:
    response = client.get(buffered=True, path=f"/app/{LAZY}", headers=NAV)
    assert response.status_code == 401
    assert response.json == SPA_NOT_AUTHENTICATED


@pytest.mark.parametrize(
    "route",
    [
        "/app/login",
        "/app/login/",
        "/app/register",
        "/app/login?next=/app/x",
        "/app/login/more",  # below a public route: the SPA shows its (public) not-found page
        "/app/invites/12",
    ],
)
def test_the_public_shell_is_served_to_anyone(client: FlaskClient, route: str) -> None:
    response = client.get(buffered=True, path=route, headers=NAV)
    assert response.status_code == 200
    assert "<title>Newsroom SPA</title>" in response.text
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("name", [ENTRY, SHARED, STYLE])
def test_the_shell_assets_are_public_and_immutable(client: FlaskClient, name: str) -> None:
    response = client.get(buffered=True, path=f"/app/{name}", headers=FETCH)
    assert response.status_code == 200
    assert response.text == f"/* {name} */"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_members_get_private_chunks_cached_only_by_their_browser(
    client: FlaskClient, auth: Auth
) -> None:
    auth.register()
    response = client.get(buffered=True, path=f"/app/{LAZY}", headers=FETCH)
    assert response.status_code == 200
    # Revalidated each time: after sign-out the browser's copy is not used without asking.
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert "Cookie" in response.headers["Vary"]
    assert (
        client.get(buffered=True, path="/app/favicon.svg").headers["Cache-Control"]
        == "private, no-cache"
    )


@pytest.mark.parametrize("route", ["/app/", "/app/articles", "/app/articles/7/edit", "/app/x.y"])
def test_members_get_index_html_for_every_client_route(
    client: FlaskClient, auth: Auth, route: str
) -> None:
    auth.register()
    response = client.get(buffered=True, path=route, headers=NAV)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "<title>Newsroom SPA</title>" in response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_app_without_slash_redirects(client: FlaskClient) -> None:
    response = client.get(buffered=True, path="/app")
    assert response.status_code in (301, 308)
    assert response.headers["Location"].endswith("/app/")


def test_a_missing_asset_is_404_never_index_html(client: FlaskClient, auth: Auth) -> None:
    auth.register()
    response = client.get(buffered=True, path="/app/assets/index-gone.js", headers=NAV)
    assert response.status_code == 404
    assert response.json["code"] == "not_found"


@pytest.mark.parametrize(
    "path", ["/app/../pyproject.toml", "/app/assets/../../secret", "/app/%2e%2e/pyproject.toml"]
)
def test_paths_cannot_leave_the_build(client: FlaskClient, auth: Auth, path: str) -> None:
    auth.register()
    response = client.get(buffered=True, path=path, headers=FETCH)
    assert "[project]" not in response.text
    assert response.status_code in (200, 404)  # index.html for a route, never a file outside


@pytest.mark.parametrize("headers", [NAV, FETCH])
@pytest.mark.parametrize("path", ["/api/nope", "/api/app/", "/api/auth/nope", "/api/"])
def test_api_paths_never_fall_back_to_index_html(
    client: FlaskClient, auth: Auth, headers: dict[str, str], path: str
) -> None:
    auth.register()
    response = client.get(buffered=True, path=path, headers=headers)
    assert response.status_code == 404
    assert response.json == problem(404, "not_found", "Nothing is found at this address.")


def test_unsafe_methods_are_not_allowed(client: FlaskClient, auth: Auth) -> None:
    auth.register()
    response = auth.post("/app/articles", {})
    assert response.status_code == 405
    assert response.json["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    "path", ["/app/", "/app/loginx", "/app/articles/7", "/app/invites/x", "/app/invites/0"]
)
def test_routes_the_route_table_does_not_mark_public_need_a_sign_in(
    client: FlaskClient, path: str
) -> None:
    response = client.get(buffered=True, path=path, headers=NAV)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=")


def test_without_routes_json_no_route_is_public(
    client: FlaskClient, tmp_path: Path, auth: Auth
) -> None:
    client.application.config["SPA_DIST"] = str(build(tmp_path / "old", routes=False))
    assert client.get(buffered=True, path="/app/login", headers=NAV).headers["Location"] == (
        "/login?next=%2Fapp%2Flogin"
    )
    assert client.get(buffered=True, path=f"/app/{ENTRY}", headers=FETCH).status_code == 200
    auth.register()
    assert client.get(buffered=True, path="/app/login", headers=NAV).status_code == 200


def test_without_a_manifest_nothing_under_app_is_public(
    client: FlaskClient, app_config: dict[str, Any], tmp_path: Path, auth: Auth
) -> None:
    client.application.config["SPA_DIST"] = str(build(tmp_path / "plain", manifest=False))
    assert client.get(buffered=True, path="/app/login", headers=NAV).headers["Location"] == (
        "/login?next=%2Fapp%2Flogin"
    )
    assert client.get(buffered=True, path=f"/app/{ENTRY}", headers=FETCH).status_code == 401
    auth.register()
    assert client.get(buffered=True, path=f"/app/{ENTRY}", headers=FETCH).status_code == 200


SPA_NOT_BUILT = problem(
    503,
    "spa_not_built",
    "The web app is not built: run `make run`, or `npm ci && npm run build` in web/.",
)


def test_a_missing_build_is_a_clear_503(client: FlaskClient, tmp_path: Path, auth: Auth) -> None:
    client.application.config["SPA_DIST"] = str(tmp_path / "absent")
    assert (
        client.get(buffered=True, path="/app/", headers=NAV).headers["Location"]
        == "/login?next=%2Fapp%2F"
    )
    auth.register()
    page = client.get(buffered=True, path="/app/articles", headers=NAV)
    assert page.status_code == 503
    assert page.mimetype == "text/html"
    assert "<code>make run</code>" in page.text
    api = client.get(buffered=True, path="/app/articles", headers=FETCH)
    assert api.status_code == 503
    assert api.json == SPA_NOT_BUILT
    assert client.get(buffered=True, path=f"/app/{ENTRY}", headers=FETCH).json == SPA_NOT_BUILT
    assert client.get(buffered=True, path="/app/login", headers=FETCH).json == SPA_NOT_BUILT
