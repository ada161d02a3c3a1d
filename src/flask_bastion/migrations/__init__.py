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

import ast
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

if TYPE_CHECKING:
    from alembic.config import Config

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
    from alembic.config import Config  # Alembic is for commands, not for serving (history below)

    locations = all_version_locations(version_locations)
    config = Config()
    # Config values pass through ConfigParser interpolation: a literal % must be doubled.
    config.set_main_option("script_location", str(script_location or SCRIPTS).replace("%", "%%"))
    config.set_main_option("path_separator", "os")  # paths may contain spaces or commas
    config.set_main_option("version_locations", os.pathsep.join(locations).replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def all_version_locations(version_locations: Iterable[str | Path] = ()) -> list[str]:
    """``version_locations`` as strings, with the library's own directory added when absent."""
    locations = [str(location) for location in version_locations]
    if version_location() not in locations:
        locations.append(version_location())
    return locations


@dataclass(frozen=True)
class History:
    """What the code knows of its migration history: its heads and every revision id."""

    heads: frozenset[str]
    known: frozenset[str]


def history(version_locations: Iterable[str | Path] = ()) -> History:
    """The heads and revisions of the history in ``version_locations`` (and the library's).

    Read from each revision file's ``revision`` and ``down_revision`` assignments, without
    Alembic: a served worker needs only this (for ``/readyz``), and importing Alembic and the
    template engine it brings costs every worker about 11 MiB. A head is a revision no other
    revision names as its ``down_revision`` (``depends_on`` orders, it does not continue a
    branch), which is Alembic's rule; ``tests/test_migrations.py`` pins that both agree.
    """
    parents: dict[str, tuple[str, ...]] = {}
    for location in all_version_locations(version_locations):
        for path in sorted(Path(location).glob("*.py")):
            found = _revision_of(path)
            if found is not None:
                parents[found[0]] = found[1]
    continued = {parent for down in parents.values() for parent in down}
    return History(heads=frozenset(parents.keys() - continued), known=frozenset(parents))


def _revision_of(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """A revision file's id and the ids it continues; None for a file that is no revision."""
    values: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            values[target.id] = ast.literal_eval(value)
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str):
        return None
    if isinstance(down, str):
        return revision, (down,)
    if isinstance(down, list | tuple):  # a merge revision continues several
        return revision, tuple(str(parent) for parent in down)
    return revision, ()  # a base: down_revision = None


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Create or bring up to date the library's tables (a no-op when they are current)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo the library's revisions down to ``revision`` (``"base"`` drops every table)."""
    from alembic import command

    command.downgrade(alembic_config(engine), revision)
