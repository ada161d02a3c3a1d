"""The ``newsroom`` command: Flask's CLI group plus serve, db and user management."""

from __future__ import annotations

import copy
import functools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from flask_bastion import BastionError, UnsafeConfiguration, User, current_bastion, prune
from flask_bastion.config import DEVELOPMENT_ENVS
from flask_bastion.mail import longest_send

from . import admin_tasks, keys, mail_cli, migrate, seed, serving
from .deploy import DeployError, NginxSite, render_nginx
from .factory import create_app
from .policy import KNOWN_ROLES
from .settings import DEFAULT_ENV
from .views.spa import SOURCE_DIST


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
@click.option(
    "--metrics-port",
    type=click.IntRange(min=0, max=65535),
    default=lambda: int(os.environ.get("METRICS_PORT", "0")),
    show_default="0 (off)",
    help="Serve Prometheus metrics of every worker on this port (a listener of its own).",
)
@click.option(
    "--metrics-host",
    default=lambda: os.environ.get("METRICS_HOST", "127.0.0.1"),
    show_default="127.0.0.1",
    help="Address of the metrics listener; keep it private.",
)
@click.option(
    "--graceful-timeout",
    type=click.IntRange(min=0),
    default=lambda: int(os.environ.get("GRACEFUL_TIMEOUT", "0")),
    show_default="0: 30, or with MAIL_URL the time one mail may take to send plus 10",
    help="Seconds a stopping worker may take to finish its requests and mail before it is killed.",
)
@with_appcontext
def serve(
    host: str,
    port: int,
    workers: int,
    threads: int,
    metrics_port: int,
    metrics_host: str,
    graceful_timeout: int,
) -> None:
    """Apply pending migrations, then serve with Granian (a production server)."""
    # Without Redis, rate-limit counters live in each worker's memory: N workers would each
    # allow the whole limit, so sign-in limits would silently multiply by N.
    shared_counters = current_bastion().settings.redis_url is not None
    if workers > 1 and not shared_counters:
        raise click.UsageError(
            "--workers above 1 needs REDIS_URL: without it each worker keeps its own"
            " rate-limit counters and every limit is multiplied by the number of workers."
        )
    workers = workers or ((os.cpu_count() or 1) if shared_counters else 1)
    settings = current_bastion().settings
    # A stopping worker lets its mail sender finish the message in flight: killed sooner, a
    # message the mail server accepted but we did not record as sent would go out twice.
    sending = longest_send(settings.mail_timeout) if settings.mail_url else 0
    graceful_timeout = graceful_timeout or max(serving.GRACEFUL_TIMEOUT, sending + 10)
    if graceful_timeout <= sending:
        raise click.UsageError(
            f"--graceful-timeout ({graceful_timeout} s) must be more than the {sending} s one"
            f" mail may take to send (4 x MAIL_TIMEOUT + 5), or a stop could send it twice."
        )
    migrate.upgrade(current_bastion().db.engine)
    if not admin_tasks.has_users(current_bastion().db.engine):
        # The command as typed (`.venv/bin/newsroom` under `make run`): the hint runs as is.
        command = os.path.relpath(sys.argv[0]) if os.sep in sys.argv[0] else "newsroom"
        click.echo(admin_tasks.FIRST_RUN_HINT.format(command=command), err=True)
    if settings.mail_url:
        click.echo("mail: each worker sends the outbox (see docs/mail.md)", err=True)
    else:
        click.echo(
            "mail: MAIL_URL is not set, so nothing is sent; queued mails are at /dev/mail",
            err=True,
        )
    current_bastion().db.dispose()
    click.echo(f"newsroom serving on http://{host}:{port}", err=True)
    # This process holds the whole app; the server's supervisor needs none of it (see
    # newsroom.serving): it becomes that module, same process id, and the workers load the app.
    serving.hand_over(
        serving.command(
            host=host,
            port=port,
            workers=workers,
            threads=threads,
            metrics_host=metrics_host,
            metrics_port=metrics_port,
            graceful_timeout=graceful_timeout,
        )
    )


@main.group()
def deploy() -> None:
    """Render the configs of a deployment (see docs/deployment.md)."""


@deploy.command("nginx", with_appcontext=False)
@click.option("--host", required=True, help="The public host name (news.example.org).")
@click.option(
    "--upstream",
    "upstreams",
    multiple=True,
    required=True,
    metavar="HOST:PORT",
    help="A `newsroom serve` instance (repeatable).",
)
@click.option(
    "--spa-dist",
    type=click.Path(file_okay=False, path_type=Path),
    default=SOURCE_DIST,
    show_default="web/dist",
    help="The built SPA (`make web`).",
)
@click.option("--tls-cert", type=click.Path(path_type=Path), required=True)
@click.option("--tls-key", type=click.Path(path_type=Path), required=True)
@click.option("--https-listen", default="443", show_default=True, help="[ADDRESS:]PORT")
@click.option("--http-listen", default="80", show_default=True, help="[ADDRESS:]PORT")
@click.option(
    "--run-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/var/lib/newsroom-nginx"),
    show_default=True,
    help="nginx's pid file, error log and temp files.",
)
@click.option("--user", default=None, help="The user nginx's workers run as.")
@click.option(
    "-o", "--output", type=click.File("w"), default="-", help="Where to write (default: stdout)."
)
def deploy_nginx(
    host: str,
    upstreams: tuple[str, ...],
    spa_dist: Path,
    tls_cert: Path,
    tls_key: Path,
    https_listen: str,
    http_listen: str,
    run_dir: Path,
    user: str | None,
    output: TextIO,
) -> None:
    """Write nginx.conf for this deployment (render again after each `make web`)."""
    site = NginxSite(
        host=host,
        upstreams=upstreams,
        tls_cert=tls_cert.absolute(),
        tls_key=tls_key.absolute(),
        spa_dist=spa_dist.absolute(),
        https_listen=https_listen,
        http_listen=http_listen,
        run_dir=run_dir.absolute(),
        user=user,
    )
    try:
        output.write(render_nginx(site))
    except DeployError as error:
        raise click.UsageError(str(error)) from None


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


@main.command("prune")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1, max=100_000),
    default=prune.BATCH,
    show_default=True,
    help="Rows deleted per transaction.",
)
@with_appcontext
def prune_command(batch_size: int) -> None:
    """Delete expired sessions and the refresh tokens of dead sessions, in small batches."""
    with _task_errors():
        counts = prune.prune(current_bastion().db.engine, batch=batch_size)
    click.echo("pruned " + ", ".join(f"{n} {name}" for name, n in counts.items()))


@main.command("doctor", with_appcontext=False)  # runs anywhere: no app, no database
@click.argument("url")
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Trust this CA file for the URL's certificate (a private CA).",
)
def doctor_command(url: str, ca_bundle: str | None) -> None:
    """Check a running deployment at URL from the outside; exit 1 on any finding.

    Reads SECRET_KEY (and SECRET_KEY_FALLBACKS) from this environment, and signs in with
    DOCTOR_IDENTITY and DOCTOR_PASSWORD when given (a test account).
    """
    import requests

    from . import doctor

    if urlsplit(url).scheme not in ("http", "https"):
        raise click.UsageError("URL must start with https:// (or http://).")
    try:
        report = doctor.diagnose(url, verify=ca_bundle or True)
    except requests.RequestException as error:
        raise click.ClickException(f"cannot check {url}: {error}") from None
    for line in report.lines():
        click.echo(line)
    if report.findings:
        sys.exit(1)


main.add_command(keys.keys)
main.add_command(mail_cli.mail)
