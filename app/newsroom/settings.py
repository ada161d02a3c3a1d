"""newsroom's settings, read from the environment; the table in docs/configuration.md lists them."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask_bastion.config import coerce

DEFAULT_ENV = "production"
# The largest request body the app reads at all (endpoints set smaller limits); nginx's
# client_max_body_size is rendered from it (newsroom deploy nginx).
MAX_BODY = 1024 * 1024


def var_dir(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("NEWSROOM_VAR_DIR", "var")).resolve()


def database_url(environ: Mapping[str, str]) -> str:
    url = environ.get("DATABASE_URL") or f"sqlite:///{var_dir(environ) / 'newsroom.db'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants a named driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def development_secret(directory: Path) -> str:
    """A random key kept under var/ so development sessions survive restarts. Never in prod."""
    path = directory / "secret_key"
    if path.exists():
        return path.read_text().strip()
    directory.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Flask config from environment variables (``APP_ENV``, ``DATABASE_URL``, ...)."""
    env = dict(os.environ if environ is None else environ)
    app_env = env.get("APP_ENV", DEFAULT_ENV)
    secret = env.get("SECRET_KEY")
    if not secret and app_env == "development":
        secret = development_secret(var_dir(env))
    config: dict[str, Any] = {
        "SECRET_KEY": secret,
        "SECRET_KEY_FALLBACKS": [s for s in env.get("SECRET_KEY_FALLBACKS", "").split(",") if s],
        "BASTION_ENV": app_env,
        "BASTION_DATABASE_URL": database_url(env),
        "BASTION_REDIS_URL": env.get("REDIS_URL") or None,
        # Apps (or test runs) sharing one Redis keep their rate-limit counters apart.
        "BASTION_RATELIMIT_PREFIX": env.get("RATELIMIT_PREFIX") or "bastion",
        "BASTION_PUBLIC_URL": env.get("PUBLIC_URL", "http://127.0.0.1:8000"),
        "BASTION_CORS_ORIGINS": env.get("CORS_ORIGINS", ""),
        "BASTION_CORS_ALLOW_HEADERS": env.get("CORS_ALLOW_HEADERS", ""),
        "BASTION_EMAIL_CONFIRMATION": env.get("EMAIL_CONFIRMATION", "required"),
        "BASTION_SPA_URL": env.get("SPA_URL", ""),
        # A password that is the site's own name is the first one anybody tries.
        "BASTION_PASSWORD_REFUSED_WORDS": ("newsroom",),
        "BASTION_MAIL_URL": env.get("MAIL_URL") or None,
        "BASTION_MAIL_FROM": env.get("MAIL_FROM") or None,
        "BASTION_MAIL_CA_FILE": env.get("MAIL_CA_FILE") or None,
        "BASTION_MAIL_APP_NAME": "Newsroom",
        **({"BASTION_MAIL_TIMEOUT": env["MAIL_TIMEOUT"]} if env.get("MAIL_TIMEOUT") else {}),
        "BASTION_PRUNE_INTERVAL": env.get("PRUNE_INTERVAL", "3600"),
        # `newsroom serve --metrics-port` sets it for its workers (docs/operations.md).
        "METRICS": bool(env.get("PROMETHEUS_MULTIPROC_DIR")),
        "TRUSTED_PROXIES": coerce("TRUSTED_PROXIES", env.get("TRUSTED_PROXIES", "0"), int),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        "MAX_CONTENT_LENGTH": MAX_BODY,
        "SPA_DIST": env.get("NEWSROOM_SPA_DIST") or None,  # None: web/dist of the source tree
    }
    return config
