"""`newsroom serve` in a subprocess with production settings, reached over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import DATABASE_URL, ON_POSTGRES
from tests.servers import free_port, newsroom_server, production_env


@pytest.fixture(scope="session")
def live_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A temp SQLite file, or a PostgreSQL database created for this run and dropped after."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path_factory.mktemp('live') / 'newsroom.db'}"
        return
    name = f"live_{uuid.uuid4().hex[:12]}"
    admin = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class Live:
    base: str

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="session")
def live(live_database_url: str) -> Iterator[Live]:
    port = free_port()
    with newsroom_server(production_env(live_database_url, port), port) as base:
        yield Live(base)
