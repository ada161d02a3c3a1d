"""Alembic environment: the engine comes from newsroom, the metadata from the models.

The history it runs is newsroom's branch plus the library's ``bastion`` branch
(``newsroom.migrate.alembic_config`` lists both version locations).
"""

from __future__ import annotations

from alembic import context

import newsroom.models  # noqa: F401  (registers newsroom's tables on the shared metadata)
from flask_bastion.models import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    )
    with context.begin_transaction():
        context.run_migrations()
