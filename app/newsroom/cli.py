"""The ``newsroom`` command: Flask's CLI group plus serve, db and user management."""

from __future__ import annotations

import os

import click
from flask.cli import FlaskGroup, with_appcontext

from flask_bastion import current_bastion

from . import create_app, migrate


@click.group(
    cls=FlaskGroup,
    create_app=create_app,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
)
def main() -> None:
    """newsroom: the Bastion reference app."""


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
    help="Worker processes (default: one per CPU).",
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

    migrate.upgrade(current_bastion().db.engine)
    current_bastion().db.engine.dispose()  # workers fork: they must not share our connections
    click.echo(f"newsroom serving on http://{host}:{port}", err=True)
    Granian(
        target="newsroom.wsgi:app",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers or (os.cpu_count() or 1),
        blocking_threads=threads,
        log_access=False,
    ).serve()
