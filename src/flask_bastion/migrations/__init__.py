"""Bastion's tables as Alembic revisions: the ``bastion`` branch, which the library maintains.

An app with no Alembic history of its own runs them with :func:`upgrade`::

    from flask_bastion import migrations
    migrations.upgrade(engine)

An app with its own history includes the branch in it:

* build its Alembic config with :func:`alembic_config` (``script_location`` = the app's
  Alembic directory, ``version_locations`` = its own revision directories), or add
  :func:`version_location` to the ``version_locations`` of a config it builds itself;
* give its first revision ``down_revision = None``, a branch label of its own, and
  ``depends_on = "bastion_0001"`` (or the later ``bastion`` revision whose tables it needs), so
  Alembic creates the library's tables first;
* upgrade to ``heads``: the library's branch and the app's are two heads of one history.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

BRANCH = "bastion"
SCRIPTS = Path(__file__).resolve().parent


def version_location() -> str:
    """The directory of the ``bastion`` revisions, for an Alembic ``version_locations`` list."""
    return str(SCRIPTS / "versions")


def alembic_config(
    engine: Engine,
    *,
    script_location: str | Path | None = None,
    version_locations: Iterable[str | Path] = (),
) -> Config:
    """An Alembic config that migrates ``engine`` with a history that includes ``bastion``.

    :param engine: the database; the environment script reads it from
        ``config.attributes["engine"]``.
    :param script_location: the app's Alembic directory (its ``env.py``). By default the
        library's own, whose environment knows only the models on :class:`flask_bastion.Base`.
    :param version_locations: the app's own revision directories; the library's is always added.
    """
    locations = [str(location) for location in version_locations]
    if version_location() not in locations:
        locations.append(version_location())
    config = Config()
    # Config values pass through ConfigParser interpolation: a literal % must be doubled.
    config.set_main_option("script_location", str(script_location or SCRIPTS).replace("%", "%%"))
    config.set_main_option("path_separator", "os")  # paths may contain spaces or commas
    config.set_main_option("version_locations", os.pathsep.join(locations).replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Create or bring up to date the library's tables (a no-op when they are current)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo the library's revisions down to ``revision`` (``"base"`` drops every table)."""
    command.downgrade(alembic_config(engine), revision)
