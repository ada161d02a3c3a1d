"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import newsroom.models  # noqa: F401  (registers the app's tables)
from flask_bastion.db import make_engine
from flask_bastion.models import Base
from newsroom import migrate


def test_upgrade_head_matches_models_and_downgrades_cleanly(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        migrate.upgrade(engine)  # a second run is a no-op
        migrate.downgrade(engine, "base")
        with engine.connect() as conn:
            tables = set(engine.dialect.get_table_names(conn)) - {"alembic_version"}
        assert tables == set()
    finally:
        engine.dispose()
