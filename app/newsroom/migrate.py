"""Alembic, driven from code: ``newsroom db upgrade`` and ``newsroom serve`` call these.

newsroom's revisions (``migrations/versions``, the ``newsroom`` branch) hold only its own
tables. The library's tables come from flask_bastion's ``bastion`` branch, which the config
includes; newsroom's first revision depends on the library's first, so one upgrade applies both
in order.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, column, delete, insert, select, table

from flask_bastion import migrations as bastion_migrations

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# newsroom's own revision directories (the library's are added wherever one is needed).
VERSION_LOCATIONS = (MIGRATIONS / "versions",)

# Before the library owned its schema, newsroom's history was one line: 0001 (users, roles,
# sessions), 0002 (articles), 0003 (refresh tokens, signing keys). The bastion and newsroom
# branches run exactly the same operations, so a database stamped with an old id already has
# the schema of the revisions it maps to here: re-stamping is the whole upgrade, and no table
# is rebuilt and no row copied. (Alembic stamps only heads: newsroom_0001 implies bastion_0001,
# the revision it depends on.)
LEGACY_REVISIONS: dict[str, tuple[str, ...]] = {
    "0001": ("bastion_0001",),
    "0002": ("newsroom_0001",),
    "0003": ("bastion_0002", "newsroom_0001"),
}

_alembic_version = table("alembic_version", column("version_num"))


def alembic_config(engine: Engine) -> Config:
    return bastion_migrations.alembic_config(
        engine, script_location=MIGRATIONS, version_locations=VERSION_LOCATIONS
    )


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply pending migrations (a no-op when the schema is current)."""
    if engine.url.get_backend_name() == "sqlite" and engine.url.database:
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    from alembic import command  # only commands load Alembic; a served worker never does

    adopt_legacy_revisions(engine)
    config = alembic_config(engine)
    for target in _targets(revision):
        command.upgrade(config, target)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    adopt_legacy_revisions(engine)
    command.downgrade(alembic_config(engine), revision)


def _targets(revision: str) -> tuple[str, ...]:
    # "head" has always meant "the whole schema current"; with two branches that is "heads".
    # An old revision id names the same schema as the new revisions it maps to.
    if revision == "head":
        return ("heads",)
    return LEGACY_REVISIONS.get(revision, (revision,))


def adopt_legacy_revisions(engine: Engine) -> None:
    """Re-stamp a database migrated by the old single-line history with the new revision ids."""
    with engine.begin() as conn:
        if not engine.dialect.has_table(conn, "alembic_version"):
            return
        stamped = set(conn.scalars(select(_alembic_version.c.version_num)))
        if len(stamped) != 1 or not stamped <= LEGACY_REVISIONS.keys():
            return
        (old,) = stamped
        # Two processes starting at once (several `newsroom serve`) both see the old id; the one
        # whose delete finds no row lost the race and leaves the stamp to the winner.
        deleted = conn.execute(
            delete(_alembic_version).where(_alembic_version.c.version_num == old)
        )
        if deleted.rowcount != 1:
            return
        conn.execute(
            insert(_alembic_version), [{"version_num": new} for new in LEGACY_REVISIONS[old]]
        )
