"""The app factory: ``create_app`` builds newsroom from the environment and overrides."""

from __future__ import annotations

import logging
import sys
from typing import Any

from flask import Flask, Request
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_bastion import Bastion, metrics, probes
from flask_bastion.logs import JsonFormatter

from . import migrate, settings
from .views import admin, articles, health, signin, spa


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment, then ``config`` on top (tests pass overrides)."""
    app = Flask(__name__)
    app.config.update(settings.from_env())
    app.config.update(config or {})
    _configure_logging(app.config["LOG_LEVEL"])
    if app.config["TRUSTED_PROXIES"]:
        # Believe X-Forwarded-* only from as many proxies as we run (nginx), never more.
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.session_interface = NoCookieSession()
    Bastion(app)
    probes.init_app(app, version_locations=migrate.VERSION_LOCATIONS)  # /healthz, /readyz
    app.register_blueprint(health.bp, url_prefix="/api")
    app.register_blueprint(articles.bp, url_prefix="/api")
    app.register_blueprint(admin.bp, url_prefix="/api")
    app.register_blueprint(signin.bp)
    app.register_blueprint(spa.bp)
    if app.config["METRICS"]:
        metrics.instrument(app)
    return app


class NoCookieSession(SessionInterface):
    """Flask's signed-cookie session, never opened: newsroom keeps nothing in it.

    Who is signed in lives in bastion's server-side sessions. Opening Flask's cookie session
    anyway builds a signing serializer on every request (a fifth of a health check's time);
    ``flask.session`` is Flask's null session here, which refuses writes.
    """

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        return None  # Flask answers with make_null_session()

    def save_session(self, app: Flask, session: SessionMixin, response: Any) -> None:
        return None  # a null session is never saved (Flask checks before calling this)


def _configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_newsroom", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._newsroom = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
