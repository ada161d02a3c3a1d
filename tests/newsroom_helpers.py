"""Helpers for the newsroom API tests: signed-in users with roles, and articles written directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select

from flask_bastion import current_bastion
from flask_bastion.models import Role, User, user_roles
from newsroom.models import Article
from tests.conftest import PASSWORD, Auth

T0 = datetime(2026, 1, 1, tzinfo=UTC)


CLIENT_KINDS = ["browser", "token"]


@dataclass
class Member:
    """A signed-in user: a browser (cookie jar + CSRF token) or an app client (bearer token)."""

    id: int
    username: str
    client: FlaskClient
    auth: Auth
    access_token: str | None = None

    def headers(self, **extra: str) -> dict[str, str]:
        if self.access_token is not None:
            return {"Authorization": f"Bearer {self.access_token}", **extra}
        return {**self.auth.headers(), **extra}

    def get(self, path: str, **kwargs: Any) -> Any:
        if self.access_token is not None:
            kwargs["headers"] = {**self.headers(), **kwargs.get("headers", {})}
        return self.client.get(path, **kwargs)

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(path, json=json, headers=self.headers(**(headers or {})))

    def patch(self, path: str, json: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.patch(path, json=json, headers=self.headers(**(headers or {})))

    def delete(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.delete(path, headers=self.headers(**(headers or {})))


def grant_roles(app: Flask, user_id: int, *roles: str) -> None:
    """Give a user roles by writing the rows directly, creating Role rows as needed."""
    with app.app_context(), current_bastion().db.engine.begin() as conn:
        for name in roles:
            role_id = conn.execute(select(Role.id).where(Role.name == name)).scalar()
            if role_id is None:
                role_id = conn.execute(
                    insert(Role).values(name=name, description="").returning(Role.id)
                ).scalar_one()
            conn.execute(insert(user_roles).values(user_id=user_id, role_id=role_id))


def member(app: Flask, username: str, *roles: str, kind: str = "browser") -> Member:
    """Register ``username`` and grant ``roles``; signed in by cookie, or by bearer token."""
    client = app.test_client()
    auth = Auth(client)
    response = auth.register(email=f"{username}@example.com", username=username)
    assert response.status_code == 201, response.json
    user_id = response.json["user"]["id"]
    grant_roles(app, user_id, *roles)
    if kind == "browser":
        return Member(user_id, username, client, auth)
    app_client = app.test_client()  # no cookies at all: only the bearer token speaks for it
    issued = app_client.post("/api/token", json={"identity": username, "password": PASSWORD})
    assert issued.status_code == 200, issued.json
    return Member(user_id, username, app_client, Auth(app_client), issued.json["access_token"])


def insert_articles(
    app: Flask,
    author_id: int,
    count: int,
    *,
    start: datetime = T0,
    step: timedelta = timedelta(minutes=1),
    title: str = "Article {n}",
    body: str = "Body {n}",
) -> list[int]:
    """Write ``count`` articles directly, ``step`` apart from ``start``; returns their ids."""
    rows = [
        {
            "title": title.format(n=n),
            "body": body.format(n=n),
            "author_id": author_id,
            "created_at": start + n * step,
            "updated_at": start + n * step,
            "version": 1,
        }
        for n in range(count)
    ]
    with app.app_context(), current_bastion().db.engine.begin() as conn:
        return [conn.execute(insert(Article).values(**row)).inserted_primary_key[0] for row in rows]


def article_row(app: Flask, article_id: int) -> Any:
    with app.app_context(), current_bastion().db.engine.connect() as conn:
        return conn.execute(select(Article.__table__).where(Article.id == article_id)).first()


def user_active(app: Flask, user_id: int) -> bool:
    with app.app_context(), current_bastion().db.engine.connect() as conn:
        return bool(conn.execute(select(User.active).where(User.id == user_id)).scalar_one())
