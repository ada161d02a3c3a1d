"""`newsroom user ...` and the first-run hint of `newsroom serve`, through Flask's CLI runner."""

from __future__ import annotations

import subprocess
import time

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from flask_bastion import AuthSession, User, current_bastion
from flask_bastion.db import make_engine
from newsroom import cli, create_app, migrate
from newsroom.cli import main
from tests.conftest import PASSWORD, Auth, config_for_tests
from tests.servers import NEWSROOM, ROOT, free_port, production_env


def run(app: Flask, *args: str, input: str | None = None) -> Result:
    return app.test_cli_runner().invoke(main, list(args), input=input)


def stored_user(app: Flask, username: str) -> User | None:
    with app.app_context():
        return (
            current_bastion()
            .db.session.scalars(select(User).where(User.username == username))
            .first()
        )


def test_user_create_reads_the_password_from_stdin_and_can_sign_in(app: Flask, auth: Auth) -> None:
    result = run(app, "user", "create", "Ada@Example.com", "ada", "--role", "admin", input=PASSWORD)
    assert result.exit_code == 0, result.output
    assert result.stdout == "created user ada (id 1, roles: admin)\n"
    user = stored_user(app, "ada")
    assert user is not None
    assert (user.email, user.active, user.role_names) == ("Ada@example.com", True, ["admin"])
    assert PASSWORD not in user.password_hash
    assert user.confirmed_at is not None  # an admin vouches for the address: no mail to wait for
    signed_in = auth.login("ada@example.com")
    assert signed_in.status_code == 200, signed_in.json
    assert signed_in.json["user"]["roles"] == ["admin"]


def test_user_create_takes_only_the_first_line_of_stdin(app: Flask, auth: Auth) -> None:
    result = run(app, "user", "create", "ada@example.com", "ada", input=PASSWORD + "\r\nrest\n")
    assert result.exit_code == 0, result.output
    assert auth.login("ada").status_code == 200


def test_user_create_prompts_twice_on_a_terminal(
    app: Flask, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: True)
    typed = f"{PASSWORD}\nsomething-else-typed\n{PASSWORD}\n{PASSWORD}\n"
    result = run(app, "user", "create", "ada@example.com", "ada", input=typed)
    assert result.exit_code == 0, result.output
    assert result.output.count("Password: ") == 2
    assert result.output.count("Repeat for confirmation: ") == 2
    assert "Error: The two entered values do not match." in result.output
    assert PASSWORD not in result.output  # hidden input is not echoed
    assert auth.login("ada").status_code == 200


def test_user_create_refuses_a_password_in_argv(app: Flask) -> None:
    result = run(app, "user", "create", "ada@example.com", "ada", "--password", PASSWORD)
    assert result.exit_code == 2
    assert "No such option '--password'" in result.stderr
    assert stored_user(app, "ada") is None


def test_user_create_refuses_an_empty_stdin(app: Flask) -> None:
    result = run(app, "user", "create", "ada@example.com", "ada", input="")
    assert result.exit_code == 1
    assert result.stderr == "Error: no password on stdin (send it as one line).\n"
    assert stored_user(app, "ada") is None


@pytest.mark.parametrize(
    ("email", "username", "password", "message"),
    [
        (
            "not-an-email",
            "ada",
            PASSWORD,
            "Error: Some fields are invalid.\n  email: An email address must have an @-sign.\n",
        ),
        (
            "ada@example.com",
            "a@b",
            PASSWORD,
            "Error: Some fields are invalid.\n  username: A username cannot contain '@'"
            " (it would look like an email address).\n",
        ),
        (
            "ada@example.com",
            "ada",
            "short",
            "Error: Some fields are invalid.\n  password: Use at least 8 characters.\n",
        ),
        (
            "ada@example.com",
            "ada",
            "password1",
            "Error: Some fields are invalid.\n"
            "  password: This password is among the most common; choose another.\n",
        ),
        (
            "ada@example.com",
            "ada",
            "ada@example.com",
            "Error: Some fields are invalid.\n"
            "  password: The password must not be your email or username.\n",
        ),
    ],
    ids=["invalid-email", "invalid-username", "too-short", "too-common", "personal"],
)
def test_user_create_applies_the_registration_rules(
    app: Flask, email: str, username: str, password: str, message: str
) -> None:
    result = run(app, "user", "create", email, username, input=password)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message)
    assert stored_user(app, username) is None


def test_user_create_refuses_a_taken_email_or_username(app: Flask) -> None:
    assert run(app, "user", "create", "ada@example.com", "ada", input=PASSWORD).exit_code == 0
    result = run(app, "user", "create", "ADA@example.com", "Ada", input=PASSWORD)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: The account already exists.\n"
        "  email: An account with this email already exists.\n"
        "  username: This username is taken.\n"
    )


def test_user_create_refuses_an_unknown_role_before_reading_the_password(app: Flask) -> None:
    result = run(app, "user", "create", "ada@example.com", "ada", "--role", "root", input="")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: Unknown role root; known roles: admin, editor.\n  roles: Unknown role root.\n"
    )
    assert stored_user(app, "ada") is None


def test_set_roles_replaces_roles_and_applies_on_the_next_request(app: Flask, auth: Auth) -> None:
    assert run(app, "user", "create", "ada@example.com", "ada", input=PASSWORD).exit_code == 0
    assert auth.login("ada").json["user"]["roles"] == []
    result = run(app, "user", "set-roles", "ADA", "editor", "admin", "editor")
    assert (result.exit_code, result.stdout) == (0, "ada roles: admin, editor\n")
    assert auth.client.get("/api/auth/session").json["user"]["roles"] == ["admin", "editor"]
    result = run(app, "user", "set-roles", "ada", "--clear")
    assert (result.exit_code, result.stdout) == (0, "ada roles: none\n")
    assert auth.client.get("/api/auth/session").json["user"]["roles"] == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["nobody", "admin"], 1, "Error: No user named 'nobody'.\n"),
        (
            ["ada", "owner"],
            1,
            "Error: Unknown role owner; known roles: admin, editor.\n"
            "  roles: Unknown role owner.\n",
        ),
        (["ada"], 2, "Error: give at least one ROLE, or --clear to remove every role.\n"),
        (["ada", "admin", "--clear"], 2, "Error: --clear takes no ROLE.\n"),
    ],
    ids=["unknown-user", "unknown-role", "no-role", "clear-with-role"],
)
def test_set_roles_failures(app: Flask, args: list[str], code: int, message: str) -> None:
    assert run(app, "user", "create", "ada@example.com", "ada", input=PASSWORD).exit_code == 0
    result = run(app, "user", "set-roles", *args)
    assert result.exit_code == code
    assert result.stderr.endswith(message)
    user = stored_user(app, "ada")
    assert user is not None
    assert user.role_names == []


def test_deactivate_ends_every_session_and_blocks_sign_in(app: Flask, auth: Auth) -> None:
    assert run(app, "user", "create", "ada@example.com", "ada", input=PASSWORD).exit_code == 0
    assert auth.login("ada").status_code == 200
    other = Auth(app.test_client())
    assert other.login("ada").status_code == 200
    result = run(app, "user", "deactivate", "ada")
    assert (result.exit_code, result.stdout) == (0, "deactivated ada; ended 2 session(s)\n")
    assert auth.client.get("/api/auth/session").status_code == 401
    assert other.client.get("/api/auth/session").status_code == 401
    with app.app_context():
        count = current_bastion().db.session.scalar(select(func.count()).select_from(AuthSession))
    assert count == 0
    refused = auth.login("ada")
    assert (refused.status_code, refused.json["code"]) == (403, "account_disabled")


def test_deactivate_an_unknown_user_fails_cleanly(app: Flask) -> None:
    result = run(app, "user", "deactivate", "nobody")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        "Error: No user named 'nobody'.\n",
    )


def test_commands_on_a_database_without_schema_say_what_to_do(database_url: str) -> None:
    app = create_app(config_for_tests(database_url))  # no tables created
    try:
        result = run(app, "user", "deactivate", "ada")
    finally:
        app.extensions["bastion"].db.dispose()
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: database error: ")
    assert result.stderr.endswith("Is the schema current? Run `newsroom db upgrade`.\n")
    assert "Traceback" not in result.output


def _serve_until_listening(database_url: str) -> str:
    """Start `newsroom serve`, return what it wrote to stderr before it listened, then stop it."""
    port = free_port()
    lines: list[str] = []
    with subprocess.Popen(
        [str(NEWSROOM), "serve", "--port", str(port), "--workers", "1", "--threads", "1"],
        env=production_env(database_url, port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    ) as process:
        try:
            assert process.stderr is not None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                line = process.stderr.readline()
                if not line:
                    break
                lines.append(line)
                if "newsroom serving on" in line:
                    break
        finally:
            process.terminate()
            process.wait(timeout=15)
    return "".join(lines)


@pytest.mark.server
def test_serve_on_an_empty_database_explains_how_to_create_the_first_admin(
    database_url: str,
) -> None:
    output = _serve_until_listening(database_url)
    assert "the database has no users yet" in output
    assert "newsroom user create EMAIL USERNAME --role admin" in output
    assert "newsroom serving on" in output


@pytest.mark.server
def test_serve_says_nothing_about_users_once_one_exists(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(config_for_tests(database_url))
    try:
        assert run(app, "user", "create", "ada@example.com", "ada", input=PASSWORD).exit_code == 0
    finally:
        app.extensions["bastion"].db.dispose()
    output = _serve_until_listening(database_url)
    assert "no users yet" not in output
    assert "newsroom serving on" in output
