"""The ``newsroom`` command: Flask's CLI group plus serve, db and user management."""

from __future__ import annotations

import copy
import functools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from flask_bastion import BastionError, UnsafeConfiguration, User, current_bastion
from flask_bastion.config import DEVELOPMENT_ENVS

from . import admin_tasks, create_app, keys, mail_cli, migrate, seed
from .policy import KNOWN_ROLES
from .settings import DEFAULT_ENV


def _create_app() -> Flask:
    try:
        return create_app()
    except UnsafeConfiguration as exc:
        # Say what to change, not a stack trace; click exits non-zero.
        raise click.ClickException(str(exc)) from None


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
)
def main() -> None:
    """newsroom: the Bastion reference app."""


def _development_only(command: click.Command) -> click.Command:
    """``command`` (Flask's ``run``), refused outside development.

    Werkzeug's server is single-process, unhardened, and with debug on runs any Python a
    visitor types into a traceback page.
    """
    original = command.callback
    assert original is not None

    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        env = os.environ.get("APP_ENV", DEFAULT_ENV)
        if env not in DEVELOPMENT_ENVS:
            raise click.ClickException(
                f"`run` is Flask's development server; APP_ENV is {env!r}. "
                "Serve with `newsroom serve` (Granian), or set APP_ENV=development on your "
                "own machine."
            )
        return original(*args, **kwargs)

    guarded_command = copy.copy(command)  # Flask's own command object is shared: leave it be
    guarded_command.callback = guarded
    return guarded_command


main.add_command(_development_only(main.commands["run"]), "run")


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply pending migrations."""
    migrate.upgrade(current_bastion().db.engine, revision)
    click.echo(f"database at {revision}")


@main.command("serve")
@click.option(
    "--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1"
)
@click.option(
    "--port", type=int, default=lambda: int(os.environ.get("PORT", "8000")), show_default="8000"
)
@click.option(
    "--workers",
    type=int,
    default=lambda: int(os.environ.get("WEB_CONCURRENCY", "0")),
    help="Worker processes (default: one per CPU with REDIS_URL, else 1).",
)
@click.option(
    "--threads",
    type=int,
    default=lambda: int(os.environ.get("WEB_THREADS", "4")),
    show_default="4",
    help="Request threads per worker.",
)
@with_appcontext
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Apply pending migrations, then serve with Granian (a production server)."""
    from granian import Granian
    from granian.constants import Interfaces

    # Without Redis, rate-limit counters live in each worker's memory: N workers would each
    # allow the whole limit, so sign-in limits would silently multiply by N.
    shared_counters = current_bastion().settings.redis_url is not None
    if workers > 1 and not shared_counters:
        raise click.UsageError(
            "--workers above 1 needs REDIS_URL: without it each worker keeps its own"
            " rate-limit counters and every limit is multiplied by the number of workers."
        )
    workers = workers or ((os.cpu_count() or 1) if shared_counters else 1)
    migrate.upgrade(current_bastion().db.engine)
    if not admin_tasks.has_users(current_bastion().db.engine):
        # The command as typed (`.venv/bin/newsroom` under `make run`): the hint runs as is.
        command = os.path.relpath(sys.argv[0]) if os.sep in sys.argv[0] else "newsroom"
        click.echo(admin_tasks.FIRST_RUN_HINT.format(command=command), err=True)
    current_bastion().db.engine.dispose()  # workers fork: they must not share our connections
    # One mail sender per instance, a process of its own (see newsroom.mail_cli).
    sender = mail_cli.sender_process()
    click.echo(f"newsroom serving on http://{host}:{port}", err=True)
    try:
        Granian(
            target="newsroom.wsgi:app",
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=workers,
            blocking_threads=threads,
            log_access=False,
        ).serve()
    finally:
        mail_cli.stop_sender(sender)


@contextmanager
def _task_errors() -> Iterator[None]:
    """Domain and database errors as one clear line (and exit status 1), never a traceback."""
    try:
        yield
    except BastionError as error:
        details = "".join(f"\n  {e.field}: {e.message}" for e in error.errors)
        raise click.ClickException(f"{error.detail}{details}") from None
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise click.ClickException(
            f"database error: {reason}\n  Is the schema current? Run `newsroom db upgrade`."
        ) from None


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _read_password() -> str:
    """Prompted twice on a terminal, else one line of stdin: a password never goes in argv."""
    if _stdin_is_terminal():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not password:
        raise click.ClickException("no password on stdin (send it as one line).")
    return password


@main.group()
def user() -> None:
    """Manage accounts."""


@user.command("create")
@click.argument("email")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    metavar="ROLE",
    help=f"Give a role (repeatable): {', '.join(KNOWN_ROLES)}.",
)
@with_appcontext
def user_create(email: str, username: str, roles: tuple[str, ...]) -> None:
    """Create an active account; the password is prompted for, or read from stdin."""
    with _task_errors():
        admin_tasks.check_roles(roles)
        password = _read_password()
        created = admin_tasks.create_user(
            current_bastion(), email=email, username=username, password=password, roles=roles
        )
    click.echo(f"created user {created.username} (id {created.id}, roles: {_roles(created)})")


@user.command("set-roles")
@click.argument("username")
@click.argument("roles", nargs=-1, metavar="ROLE...")
@click.option("--clear", is_flag=True, help="Remove every role (when no ROLE is given).")
@with_appcontext
def user_set_roles(username: str, roles: tuple[str, ...], clear: bool) -> None:
    """Replace a user's roles; they apply on the user's next request."""
    if not roles and not clear:
        raise click.UsageError("give at least one ROLE, or --clear to remove every role.")
    if roles and clear:
        raise click.UsageError("--clear takes no ROLE.")
    with _task_errors():
        updated = admin_tasks.set_roles(current_bastion(), username, roles)
    click.echo(f"{updated.username} roles: {_roles(updated)}")


@user.command("deactivate")
@click.argument("username")
@with_appcontext
def user_deactivate(username: str) -> None:
    """Deactivate an account and end all its sessions at once."""
    with _task_errors():
        ended = admin_tasks.deactivate(current_bastion(), username)
    click.echo(f"deactivated {username}; ended {ended} session(s)")


def _roles(user: User) -> str:
    return ", ".join(user.role_names) or "none"


@main.command("seed")
@click.option(
    "--articles",
    type=click.IntRange(min=0, max=100_000_000),
    default=100,
    show_default=True,
    help="How many articles to add.",
)
@with_appcontext
def seed_command(articles: int) -> None:
    """Load demo users (once) and add demo articles by them.

    The demo users are created on the first run, with a generated password printed once;
    later runs keep them and add more articles.
    """
    state = current_bastion()
    with (
        _task_errors(),
        click.progressbar(length=articles, label="articles", file=sys.stderr) as bar,
    ):
        result = seed.seed(state, articles=articles, progress=bar.update)
    names = ", ".join(
        f"{u.username} ({', '.join(u.roles)})" if u.roles else u.username for u in result.users
    )
    if result.password is not None:
        click.echo(f"demo users created: {names}")
        click.echo(f"demo password (shown once): {result.password}")
    else:
        click.echo(f"demo users already exist (password unchanged): {names}")
    click.echo(f"added {result.articles} articles")


main.add_command(keys.keys)
main.add_command(mail_cli.mail)
