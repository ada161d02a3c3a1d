"""The newsroom SPA under /app/: a public sign-in shell, and private code for signed-in browsers.

Which files are public is read from Vite's build manifest (``dist/.vite/manifest.json``): the
entry chunk and everything it imports statically form the shell that renders the public routes;
every other file (the chunks the app imports lazily once signed in) is served only to a
signed-in browser. Which routes are public is read from ``dist/.vite/routes.json``, which the
build writes from the SPA's own route table (``web/src/routes.tsx``), so the two cannot
disagree. Without either file nothing under /app/ is public, and the server-rendered /login
page is the way in.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request, send_file
from werkzeug.security import safe_join

from flask_bastion.access import current_principal
from flask_bastion.errors import BastionError, NotAuthenticated, NotFound

from .signin import see_other

bp = Blueprint("spa", __name__)

SOURCE_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"
# A path parameter of the SPA's routes (":id"): a positive integer id, as the SPA matches it.
ROUTE_PARAM = re.compile(r"[1-9][0-9]{0,15}")
# Hashed file names change with their content, so a cached copy can never be stale.
IMMUTABLE = "max-age=31536000, immutable"


class SpaNotBuilt(BastionError):
    status, code = 503, "spa_not_built"
    detail = "The web app is not built: run `make run`, or `npm ci && npm run build` in web/."


@dataclass(frozen=True)
class Build:
    """One build of the SPA: where it is, and which of its files the public shell needs."""

    dist: Path
    public_files: frozenset[str]
    has_shell: bool
    public_routes: tuple[str, ...] = ()

    def is_public_route(self, path: str) -> bool:
        """Whether the shell may render app path ``path`` ("login", "articles/7") for anyone.

        A public route covers the paths below it too: the SPA answers those with its not-found
        page, which is public as well.
        """
        if not self.has_shell:
            return False
        got = ("/" + path).rstrip("/").split("/")
        for pattern in self.public_routes:
            want = pattern.rstrip("/").split("/")
            if pattern == "/" and got != [""]:  # the root covers only itself
                continue
            if len(got) >= len(want) and all(
                ROUTE_PARAM.fullmatch(actual) if segment.startswith(":") else segment == actual
                for segment, actual in zip(want, got, strict=False)
            ):
                return True
        return False


def dist_dir() -> Path:
    configured = current_app.config.get("SPA_DIST")
    return Path(configured) if configured else SOURCE_DIST


def current_build() -> Build | None:
    return build_at(dist_dir())


def build_at(dist: Path) -> Build | None:
    """The build in ``dist``, or None when it holds none (``newsroom deploy nginx`` reads it)."""
    index = dist / "index.html"
    if not index.is_file():
        return None
    return _load_build(
        str(dist), _stamp(dist / ".vite" / "manifest.json"), _stamp(_routes_file(dist))
    )


def _routes_file(dist: Path) -> Path:
    return dist / ".vite" / "routes.json"


def _stamp(path: Path) -> int:
    return path.stat().st_mtime_ns if path.is_file() else 0


def _public_routes(dist: Path) -> tuple[str, ...]:
    """The patterns of the SPA's public routes, from the routes.json its build wrote."""
    routes = json.loads(_routes_file(dist).read_text())["routes"]
    return tuple(str(route["pattern"]) for route in routes if route.get("public") is True)


@lru_cache(maxsize=8)
def _load_build(dist: str, manifest_stamp: int, routes_stamp: int) -> Build:
    manifest_path = Path(dist) / ".vite" / "manifest.json"
    if not manifest_stamp:
        return Build(Path(dist), frozenset(), has_shell=False)
    manifest = json.loads(manifest_path.read_text())
    public: set[str] = set()
    pending = [key for key, chunk in manifest.items() if chunk.get("isEntry")]
    seen: set[str] = set()
    while pending:  # the entries and their static imports: what index.html loads up front
        key = pending.pop()
        if key in seen or key not in manifest:
            continue
        seen.add(key)
        chunk = manifest[key]
        public.add(chunk["file"])
        public.update(chunk.get("css", []))
        public.update(chunk.get("assets", []))
        pending.extend(chunk.get("imports", []))
    public_routes = _public_routes(Path(dist)) if routes_stamp else ()
    return Build(Path(dist), frozenset(public), has_shell=bool(public), public_routes=public_routes)


def _is_navigation() -> bool:
    """A top-level page load, which should be sent to sign-in rather than refused."""
    mode = request.headers.get("Sec-Fetch-Mode")
    if mode is not None:
        return mode == "navigate"
    return request.accept_mimetypes.accept_html


def _to_sign_in() -> Response:
    target = request.path
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return see_other("/login?" + urlencode({"next": target}))


def _not_built() -> Response:
    if _is_navigation():
        html = render_template("spa_missing.html", detail=SpaNotBuilt.detail)
        response = Response(html, status=503, mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Retry-After"] = "30"
        return response
    raise SpaNotBuilt()


@bp.get("/")
def home() -> Response:
    """The site root: the app when signed in, else the sign-in page."""
    return see_other("/app/" if current_principal() is not None else "/login")


@bp.get("/app/")
@bp.get("/app/<path:path>")
def serve(path: str = "") -> Response:
    """A file of the SPA build, or its index.html for any client-side route."""
    build = current_build()
    signed_in = current_principal() is not None
    file = safe_join(str(build.dist), path) if build and path else None
    is_file = file is not None and path != "index.html" and os.path.isfile(file)
    if is_file or path.startswith("assets/"):
        public = build is not None and path in build.public_files
        if not (public or signed_in):  # private code: never to an anonymous browser
            raise NotAuthenticated("Sign in to load the app.")
        if build is None:
            return _not_built()
        if not is_file or file is None:
            raise NotFound()
        return _send_asset(file, path, public)
    shell_is_public = build is not None and build.is_public_route(path)
    if not (signed_in or shell_is_public):
        if _is_navigation():
            return _to_sign_in()
        raise NotAuthenticated("Sign in to load the app.")
    if build is None:
        return _not_built()
    response = Response((build.dist / "index.html").read_bytes(), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"  # the shell of a private app: never cached
    return response


def _send_asset(file: str, path: str, public: bool) -> Response:
    response = send_file(file, max_age=0, conditional=True)
    if path.startswith("assets/") and public:
        response.headers["Cache-Control"] = f"public, {IMMUTABLE}"
    elif path.startswith("assets/"):
        # Private chunks only in the browser's own cache, and asked for again each time: the
        # server then checks the session (a 304 when it holds), so after sign-out a cached
        # chunk is not handed out.
        response.headers["Cache-Control"] = "private, no-cache"
    else:
        response.headers["Cache-Control"] = "no-cache" if public else "private, no-cache"
    if not public:
        response.vary.add("Cookie")
    return response
