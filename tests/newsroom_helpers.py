"""Helpers for the newsroom API tests: signed-in users with roles, and articles written directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import insert, select

from flask_bastion import current_bastion
from flask_bastion.models import User
from flask_bastion.testing import ClientKind, SignedIn, register, signed_in
from newsroom.models import Article
from tests.conftest import PASSWORD
from tests.roles import grant_roles

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def member(app: Flask, username: str, *roles: str, kind: ClientKind = "browser") -> SignedIn:
    """Register ``username`` and grant ``roles``; a browser stays signed in from registering,
    an app client signs in for a token."""
    browser = register(
        app.test_client(), email=f"{username}@example.com", username=username, password=PASSWORD
    )
    grant_roles(app, browser.id, *roles)
    if kind == "browser":
        return browser
    return signed_in(app.test_client(), kind, username, PASSWORD)


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
