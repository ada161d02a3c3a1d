"""The nginx edge config (``deploy/nginx/``) rendered for one deployment.

The template holds the layout; this module fills in what belongs to a deployment (host, TLS
files, instances, the SPA build) and what belongs to the app, read from the app itself so the
edge cannot drift from it: the security headers (``flask_bastion.headers``), the body limit
(``MAX_CONTENT_LENGTH``), the auth check's path, and which SPA files are public (the build's
manifest, as the app's own SPA view reads it).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from flask_bastion.config import Settings
from flask_bastion.headers import security_headers

from . import settings as app_settings
from .views.spa import IMMUTABLE, SOURCE_DIST, build_at

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "newsroom.conf.template"
MIME_TYPES = Path("/etc/nginx/mime.types")
# One failed connection takes an instance out for 5 s; nginx then tries it again.
UPSTREAM_FAILURE = "max_fails=1 fail_timeout=5s"
_PLACEHOLDER = re.compile(r"@@([A-Z_]+)@@")
# Only what cannot break out of an nginx directive: no spaces, quotes, semicolons or braces.
_SAFE_WORD = re.compile(r"[A-Za-z0-9._:\[\]/@+-]+")
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")


class DeployError(ValueError):
    """A value that cannot go into the config as given."""


@dataclass(frozen=True)
class NginxSite:
    """One deployment of the edge: where it listens, what it serves, whom it proxies to."""

    host: str
    upstreams: tuple[str, ...]
    tls_cert: Path
    tls_key: Path
    spa_dist: Path = SOURCE_DIST
    https_listen: str = "443"
    http_listen: str = "80"
    run_dir: Path = Path("/var/lib/newsroom-nginx")
    user: str | None = None
    mime_types: Path = MIME_TYPES

    @property
    def origin(self) -> str:
        """The public origin: ``https://host``, with the port when it is not 443."""
        port = self.https_listen.rsplit(":", 1)[-1]
        return f"https://{self.host}" + ("" if port == "443" else f":{port}")


def render_nginx(site: NginxSite, template: str | None = None) -> str:
    """The whole ``nginx.conf`` for ``site``; raises :class:`DeployError` on a bad value."""
    _check(site)
    text = TEMPLATE.read_text() if template is None else template
    # The app's headers as they are over https (HSTS included), for pages and for other files.
    settings = dataclasses.replace(Settings(), public_url=site.origin)
    build = build_at(site.spa_dist.resolve())
    public = sorted(build.public_files) if build else []
    indent = " " * 12
    values = {
        "USER": f"user {site.user};" if site.user else "",
        "RUN_DIR": str(site.run_dir),
        "MIME_TYPES": str(site.mime_types),
        "UPSTREAMS": "\n".join(f"        server {u} {UPSTREAM_FAILURE};" for u in site.upstreams),
        "HTTP_LISTEN": site.http_listen,
        "HTTPS_LISTEN": site.https_listen,
        "HOST": site.host,
        "ORIGIN": site.origin,
        "TLS_CERT": str(site.tls_cert),
        "TLS_KEY": str(site.tls_key),
        "BODY_LIMIT": str(app_settings.MAX_BODY),
        "SPA_DIST": str(site.spa_dist.resolve()),
        "AUTH_CHECK": settings.url_prefix + "/check",
        "PROXY": _proxy(indent),
        "PAGE_HEADERS": _headers(security_headers(settings, "text/html"), indent),
        "FILE_HEADERS": _headers(security_headers(settings, "application/octet-stream"), indent),
        "PUBLIC_ASSETS": "\n".join(_public_asset(site, name, settings) for name in public),
    }
    unknown = sorted(set(_PLACEHOLDER.findall(text)) - set(values))
    if unknown:
        raise DeployError(f"the template names unknown values: {', '.join(unknown)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def _check(site: NginxSite) -> None:
    if not _HOST.fullmatch(site.host):
        raise DeployError(f"--host must be a host name, not {site.host!r}")
    if not site.upstreams:
        raise DeployError("give at least one --upstream HOST:PORT")
    words = [*site.upstreams, site.https_listen, site.http_listen, site.user or "x"]
    paths = [site.tls_cert, site.tls_key, site.spa_dist, site.run_dir, site.mime_types]
    for word in [*words, *(str(p) for p in paths)]:
        if not _SAFE_WORD.fullmatch(word):
            raise DeployError(f"{word!r} cannot go into an nginx config (spaces or quotes)")


def _headers(headers: dict[str, str], indent: str) -> str:
    # `always`: error answers (404, 413, 502...) need them as much as successful ones.
    lines = [f'add_header {name} "{value}" always;' for name, value in headers.items()]
    return f"\n{indent}".join(lines)


def _proxy(indent: str) -> str:
    lines = [
        "proxy_pass http://newsroom;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_set_header Host $http_host;",
        # The client's address as nginx saw it, replacing anything the client sent: the app
        # believes exactly one hop (TRUSTED_PROXIES=1), this one.
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-Host $http_host;",
        "proxy_set_header X-Request-ID $request_id;",
        # Fail fast: a dead instance is skipped at once (only requests never sent are retried
        # elsewhere, so a write is never applied twice), and none waits forever.
        "proxy_connect_timeout 2s;",
        "proxy_read_timeout 30s;",
        "proxy_next_upstream error timeout;",
        "proxy_next_upstream_tries 2;",
    ]
    return f"\n{indent}".join(lines)


def _public_asset(site: NginxSite, name: str, settings: Settings) -> str:
    headers = _headers(security_headers(settings, "application/octet-stream"), " " * 12)
    dist = site.spa_dist.resolve()
    if not _SAFE_WORD.fullmatch(name):
        raise DeployError(f"the build names a file {name!r} that cannot go into an nginx config")
    return (
        f"        location = /app/{name} {{\n"
        f"            alias {dist}/{name};\n"
        f"            {headers}\n"
        f'            add_header Cache-Control "public, {IMMUTABLE}" always;\n'
        "        }"
    )
