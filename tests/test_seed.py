"""`newsroom seed`: demo users created once with a password printed once, articles in bulk."""

from __future__ import annotations

import re

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from flask_bastion import User, current_bastion
from newsroom import seed
from newsroom.cli import main
from newsroom.models import Article
from tests.conftest import PASSWORD, Auth


def run(app: Flask, *args: str, input: str | None = None) -> Result:
    return app.test_cli_runner().invoke(main, list(args), input=input)


def demo_password(result: Result) -> str:
    match = re.search(r"^demo password \(shown once\): (\S+)$", result.stdout, re.MULTILINE)
    assert match, result.output
    return match.group(1)


def articles_by_author(app: Flask) -> dict[str, int]:
    with app.app_context():
        rows = current_bastion().db.session.execute(
            select(User.username, func.count(Article.id))
            .join(Article, Article.author_id == User.id)
            .group_by(User.username)
        )
        return {username: count for username, count in rows}


def test_seed_creates_demo_users_and_articles(app: Flask, auth: Auth) -> None:
    result = run(app, "seed", "--articles", "45")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "demo users created: admin (admin), editor (editor), alice, bob"
    assert lines[2] == "added 45 articles"
    password = demo_password(result)
    assert len(password) >= 16
    assert articles_by_author(app) == {"admin": 12, "editor": 11, "alice": 11, "bob": 11}
    with app.app_context():
        users = current_bastion().db.session.scalars(select(User).order_by(User.id)).all()
        assert [(u.username, u.email, u.role_names, u.active) for u in users] == [
            ("admin", "admin@example.com", ["admin"], True),
            ("editor", "editor@example.com", ["editor"], True),
            ("alice", "alice@example.com", [], True),
            ("bob", "bob@example.com", [], True),
        ]
        assert len({u.password_hash for u in users}) == 1  # hashed once
    signed_in = auth.login("editor", password)
    assert signed_in.status_code == 200, signed_in.json
    assert signed_in.json["user"]["roles"] == ["editor"]


def test_seed_again_keeps_the_users_and_adds_newer_articles(app: Flask) -> None:
    first = run(app, "seed", "--articles", "10")
    assert first.exit_code == 0, first.output
    second = run(app, "seed", "--articles", "5")
    assert second.exit_code == 0, second.output
    assert second.stdout == (
        "demo users already exist (password unchanged):"
        " admin (admin), editor (editor), alice, bob\n"
        "added 5 articles\n"
    )
    with app.app_context():
        db = current_bastion().db.session
        assert db.scalar(select(func.count()).select_from(User)) == 4
        rows = db.execute(select(Article.id, Article.created_at).order_by(Article.id)).all()
    assert len(rows) == 15
    stamps = [row.created_at for row in rows]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 15  # distinct: every page has one stable order
    assert all(stamp.tzinfo is not None for stamp in stamps)


def test_seed_titles_number_the_articles(app: Flask) -> None:
    assert run(app, "seed", "--articles", "3").exit_code == 0
    with app.app_context():
        titles = current_bastion().db.session.scalars(select(Article.title).order_by(Article.id))
        assert [t.rsplit(" ", 1)[1] for t in titles] == ["(1)", "(2)", "(3)"]


def test_seed_zero_articles_creates_only_the_users(app: Flask) -> None:
    result = run(app, "seed", "--articles", "0")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("added 0 articles\n")
    assert articles_by_author(app) == {}


def test_seed_refuses_when_someone_else_holds_a_demo_username(app: Flask) -> None:
    created = run(app, "user", "create", "someone@example.com", "Alice", input=PASSWORD)
    assert created.exit_code == 0
    result = run(app, "seed", "--articles", "10")
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "Error: Some demo usernames are taken by other accounts; seed a fresh database.\n"
        "  username: alice exists.\n"
    )
    assert articles_by_author(app) == {}


def test_seed_refuses_a_negative_count(app: Flask) -> None:
    result = run(app, "seed", "--articles", "-1")
    assert result.exit_code == 2
    assert "Invalid value for '--articles'" in result.stderr


def test_add_articles_in_several_batches(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seed, "BATCH", 7)
    seen: list[int] = []
    with app.app_context():
        state = current_bastion()
        author_ids, password = seed.ensure_demo_users(state, "a-demo-passphrase-1")
        assert password == "a-demo-passphrase-1"
        assert seed.add_articles(state.db.engine, author_ids, 30, progress=seen.append) == 30
        count = state.db.session.scalar(select(func.count()).select_from(Article))
    assert count == 30
    assert sum(seen) == 30
    assert seen[:4] == [7, 7, 7, 7]
