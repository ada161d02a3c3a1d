"""The smallest app on flask_bastion alone: the library's auth API, its tables, one own endpoint."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from flask_bastion import Bastion, auth_required, current_bastion, current_user, migrations


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY"),
        BASTION_ENV=os.environ.get("APP_ENV", "production"),
        BASTION_DATABASE_URL=os.environ.get("DATABASE_URL", "sqlite:///minimal.db"),
        BASTION_PUBLIC_URL=os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        # Required outside development: account mails (confirmation, reset) go through it.
        BASTION_MAIL_URL=os.environ.get("MAIL_URL"),
    )
    app.config.update(config or {})
    Bastion(app)  # /api/auth/* (register, login, ...), /api/token*, sessions, CSRF, errors
    with app.app_context():
        migrations.upgrade(current_bastion().db.engine)  # users, sessions, tokens: the library's

    @app.get("/api/hello")
    @auth_required
    def hello() -> dict[str, str]:
        """Greet the signed-in user (browser session or bearer token alike)."""
        return {"hello": current_user.username}

    return app
