"""The Alembic environment for newsroom's history as it was before the library owned its schema.

The revisions in ``versions/`` are copies of newsroom's old 0001-0003, kept only to build the
databases that the in-place upgrade test starts from.
"""

from __future__ import annotations

from alembic import context

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
