"""The smallest app built on Bastion, so the library's tests need nothing of newsroom.

Bastion itself adds the auth, token and docs APIs; the routes here stand in for an app's own: a
protected read, an unsafe write, and endpoints guarded by roles.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from flask_bastion import Bastion, auth_required, current_user, roles_accepted, roles_required


def create_app(config: dict[str, Any]) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    Bastion(app)

    @app.get("/api/test/me")
    @auth_required
    def me() -> Any:
        return jsonify(username=current_user.username, roles=sorted(current_user.roles))

    @app.get("/api/test/whoami")
    def whoami() -> Any:
        return jsonify(authenticated=current_user.is_authenticated)

    @app.route(
        "/api/test/echo", methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
    )
    def echo() -> Any:
        return jsonify(ok=True)

    @app.get("/api/test/editors")
    @roles_required("editor", "reviewer")
    def editors() -> Any:
        return jsonify(ok=True)

    @app.get("/api/test/staff")
    @roles_accepted("editor", "admin")
    def staff() -> Any:
        return jsonify(ok=True)

    return app
