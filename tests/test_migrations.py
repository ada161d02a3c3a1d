"""The Alembic migrations build exactly the schema the models describe, on both backends.

The library's tables come from its own ``bastion`` branch and newsroom's from its ``newsroom``
branch; a database built by the older single-line history upgrades in place without losing a row.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, delete, insert, inspect, select

import newsroom.models  # noqa: F401  (registers the app's tables)
from flask_bastion import migrations as bastion_migrations
from flask_bastion.db import make_engine
from flask_bastion.models import Base
from newsroom import migrate

LEGACY_SCRIPTS = Path(__file__).resolve().parent / "legacy_migrations"
LIBRARY_TABLES = {
    "users",
    "roles",
    "user_roles",
    "auth_sessions",
    "refresh_tokens",
    "signing_keys",
    "mail_outbox",
    "account_tokens",
    "security_events",
    "passkey_users",
    "passkeys",
    "passkey_challenges",
    "known_devices",
    "totp_credentials",
    "recovery_codes",
    "mfa_challenges",
}
LIBRARY_HEAD = "bastion_0008"
HEADS = {LIBRARY_HEAD, "newsroom_0001"}

# The tables each revision of the old history had created.
LEGACY_TABLES = {
    "0001": {"users", "roles", "user_roles", "auth_sessions"},
    "0002": {"users", "roles", "user_roles", "auth_sessions", "articles"},
    "0003": {
        "users",
        "roles",
        "user_roles",
        "auth_sessions",
        "refresh_tokens",
        "signing_keys",
        "articles",
    },
}

T0 = datetime(2026, 11, 30, 9, 15, 42, 123456, tzinfo=UTC)

# One row or more in every table, with the values most likely to be mangled by a table rebuild:
# non-ASCII text, microseconds, NULLs, booleans, composite keys.
ROWS: dict[str, list[dict[str, Any]]] = {
    "roles": [
        {"id": 1, "name": "admin", "description": "Runs the place"},
        {"id": 7, "name": "editor", "description": ""},
    ],
    "users": [
        {
            "id": 1,
            "email": "Ada@Example.com",
            "email_key": "ada@example.com",
            "username": "Adá",
            "username_key": "adá",
            "password_hash": "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            "active": True,
            "created_at": T0,
            "last_login_at": T0 + timedelta(hours=1),
        },
        {
            "id": 2,
            "email": "bob@example.com",
            "email_key": "bob@example.com",
            "username": "bob",
            "username_key": "bob",
            "password_hash": "$argon2id$v=19$m=1024,t=1,p=1$b3RoZXJzYWx0$b3RoZXJoYXNo",
            "active": False,
            "created_at": T0,
            "last_login_at": None,
        },
    ],
    "user_roles": [
        {"user_id": 1, "role_id": 1},
        {"user_id": 1, "role_id": 7},
        {"user_id": 2, "role_id": 7},
    ],
    "auth_sessions": [
        {
            "id": "s" * 32,
            "token_hash": "a" * 64,
            "user_id": 1,
            "kind": "browser",
            "remember": True,
            "created_at": T0,
            "last_seen_at": T0 + timedelta(minutes=5),
            "authenticated_at": T0,
            "expires_at": T0 + timedelta(days=30),
            "idle_timeout": 1_209_600,
            "ip": "2001:db8::1",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) ☃",
        },
        {
            "id": "t" * 32,
            "token_hash": "b" * 64,
            "user_id": 2,
            "kind": "token",
            "remember": False,
            "created_at": T0,
            "last_seen_at": T0,
            "authenticated_at": T0,
            "expires_at": T0 + timedelta(hours=12),
            "idle_timeout": 7200,
            "ip": "",
            "user_agent": "",
        },
    ],
    "articles": [
        {
            "id": 1,
            "title": "Grüße aus Köln",
            "body": "Line one\nline two — with ünïcödé and 'quotes'",
            "author_id": 1,
            "created_at": T0,
            "updated_at": T0 + timedelta(seconds=1, microseconds=1),
            "version": 3,
        },
    ],
    "signing_keys": [
        {
            "kid": "k-2026-11-30",
            "algorithm": "EdDSA",
            "public_key": "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END ...\n",
            "private_key": "v1.nonce.ciphertext",
            "created_at": T0,
            "retired_at": None,
        },
        {
            "kid": "k-2026-11-01",
            "algorithm": "EdDSA",
            "public_key": "old public key",
            "private_key": "v1.old.ciphertext",
            "created_at": T0 - timedelta(days=29),
            "retired_at": T0,
        },
    ],
    "refresh_tokens": [
        {
            "id": 1,
            "session_id": "t" * 32,
            "token_hash": "c" * 64,
            "created_at": T0,
            "expires_at": T0 + timedelta(days=14),
            "used_at": T0 + timedelta(minutes=10),
        },
        {
            "id": 2,
            "session_id": "t" * 32,
            "token_hash": "d" * 64,
            "created_at": T0 + timedelta(minutes=10),
            "expires_at": T0 + timedelta(days=14),
            "used_at": None,
        },
    ],
}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def tables_of(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def stamped(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def schema_differences(engine: Engine, metadata: MetaData = Base.metadata) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def library_metadata() -> MetaData:
    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        if table.name in LIBRARY_TABLES:
            table.to_metadata(metadata)
    return metadata


def build_legacy_database(engine: Engine, revision: str) -> None:
    """Migrate ``engine`` with the old history, as a deployment of yesterday's newsroom did."""
    config = Config()
    config.set_main_option("script_location", str(LEGACY_SCRIPTS))
    config.attributes["engine"] = engine
    command.upgrade(config, revision)


def insert_rows(engine: Engine, tables: set[str]) -> None:
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:  # parents before children
            if table.name in tables:
                conn.execute(insert(table), ROWS[table.name])


def columns_of(engine: Engine, tables: set[str]) -> dict[str, list[str]]:
    """The columns each table has now: later revisions add some, which old rows lack."""
    inspector = inspect(engine)
    return {name: [c["name"] for c in inspector.get_columns(name)] for name in tables}


def contents(
    engine: Engine, tables: set[str], columns: dict[str, list[str]]
) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(
                    select(*(table.c[name] for name in columns[table.name])).order_by(
                        *table.primary_key.columns
                    )
                )
            ]
            for table in Base.metadata.sorted_tables
            if table.name in tables
        }


def test_upgrade_head_matches_models_and_downgrades_cleanly(engine: Engine) -> None:
    migrate.upgrade(engine)
    assert schema_differences(engine) == []
    assert stamped(engine) == HEADS
    migrate.upgrade(engine)  # a second run is a no-op
    assert stamped(engine) == HEADS
    migrate.downgrade(engine, "base")
    assert tables_of(engine) == set()


def test_the_history_is_two_branches_and_newsroom_holds_only_its_own_tables() -> None:
    engine = make_engine("sqlite://")
    try:
        script = ScriptDirectory.from_config(migrate.alembic_config(engine))
    finally:
        engine.dispose()
    assert set(script.get_heads()) == HEADS
    assert set(script.get_bases()) == {"bastion_0001", "newsroom_0001"}
    newsroom_revisions = [
        rev for rev in script.walk_revisions() if "newsroom" in (rev.branch_labels or ())
    ]
    assert [rev.revision for rev in newsroom_revisions] == ["newsroom_0001"]
    assert [Path(rev.path).parent for rev in newsroom_revisions] == [
        migrate.MIGRATIONS / "versions"
    ]
    library = [rev for rev in script.walk_revisions() if "bastion" in (rev.branch_labels or ())]
    assert {Path(rev.path).parent for rev in library} == {
        Path(bastion_migrations.version_location())
    }


def test_the_history_read_without_alembic_is_alembics() -> None:
    # /readyz reads the revision files itself (no Alembic in a served worker): it must find
    # the heads and revisions Alembic finds, for newsroom's history and the library's alone.
    engine = make_engine("sqlite://")
    try:
        for config, locations in (
            (migrate.alembic_config(engine), migrate.VERSION_LOCATIONS),
            (bastion_migrations.alembic_config(engine), ()),
        ):
            script = ScriptDirectory.from_config(config)
            read = bastion_migrations.history(locations)
            assert read.heads == set(script.get_heads())
            assert read.known == {rev.revision for rev in script.walk_revisions()}
    finally:
        engine.dispose()
    assert bastion_migrations.history(migrate.VERSION_LOCATIONS).heads == HEADS


def test_the_history_reader_follows_merges_and_skips_files_that_are_no_revision(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision: str = "b"\ndown_revision: str | None = "a"\n')
    (tmp_path / "c.py").write_text('revision = "c"\ndown_revision = "a"\ndepends_on = "b"\n')
    (tmp_path / "m.py").write_text('revision = "m"\ndown_revision = ("b", "c")\n')
    (tmp_path / "helpers.py").write_text("def helper() -> None: ...\n")
    history = bastion_migrations.history([tmp_path])
    library = bastion_migrations.history()
    assert history.heads == {"m"} | library.heads
    assert history.known == {"a", "b", "c", "m"} | library.known


def test_the_library_branch_alone_creates_exactly_the_library_tables(engine: Engine) -> None:
    bastion_migrations.upgrade(engine)
    assert tables_of(engine) == LIBRARY_TABLES
    assert schema_differences(engine, library_metadata()) == []
    assert stamped(engine) == {LIBRARY_HEAD}

    # An app that started with the library's migrations alone adds its own branch later.
    migrate.upgrade(engine)
    assert schema_differences(engine) == []
    assert stamped(engine) == HEADS


@pytest.mark.parametrize("old_revision", ["0001", "0002", "0003"])
def test_a_database_built_by_the_old_history_upgrades_in_place(
    engine: Engine, old_revision: str
) -> None:
    build_legacy_database(engine, old_revision)
    assert stamped(engine) == {old_revision}
    existing = LEGACY_TABLES[old_revision]
    assert tables_of(engine) == existing
    insert_rows(engine, existing)
    columns = columns_of(engine, existing)
    before = contents(engine, existing, columns)

    migrate.upgrade(engine)

    assert contents(engine, existing, columns) == before
    assert all(before[name] for name in existing)  # the comparison was not of empty tables
    assert tables_of(engine) == {*LIBRARY_TABLES, "articles"}
    assert stamped(engine) == HEADS
    assert schema_differences(engine) == []
    migrate.upgrade(engine)  # and it stays current
    assert stamped(engine) == HEADS
    assert contents(engine, existing, columns) == before


@pytest.mark.parametrize("old_revision", ["0001", "0002", "0003"])
def test_an_old_revision_id_still_names_the_same_schema(engine: Engine, old_revision: str) -> None:
    """``newsroom db upgrade --revision 0002`` builds what it always built."""
    migrate.upgrade(engine, old_revision)
    assert tables_of(engine) == LEGACY_TABLES[old_revision]
    assert stamped(engine) == set(migrate.LEGACY_REVISIONS[old_revision])
    migrate.upgrade(engine)
    assert schema_differences(engine) == []
    assert stamped(engine) == HEADS


def test_accounts_revision_confirms_everyone_already_signed_up(engine: Engine) -> None:
    """bastion_0004 adds email confirmation: accounts made before it count as confirmed (their
    ``confirmed_at`` is their ``created_at``), so nobody already signed up is locked out."""
    bastion_migrations.upgrade(engine, "bastion_0003")
    old_users = [{k: v for k, v in row.items()} for row in ROWS["users"]]
    with engine.begin() as conn:
        conn.execute(insert(Base.metadata.tables["users"]).values(old_users[0]))
        conn.execute(insert(Base.metadata.tables["users"]).values(old_users[1]))
    bastion_migrations.upgrade(engine)
    users = Base.metadata.tables["users"]
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                users.c.id, users.c.created_at, users.c.confirmed_at, users.c.login_count
            ).order_by(users.c.id)
        ).all()
    assert [tuple(row) for row in rows] == [(1, T0, T0, 0), (2, T0, T0, 0)]
    assert stamped(engine) == {LIBRARY_HEAD}
    bastion_migrations.downgrade(engine, "bastion_0003")
    assert "confirmed_at" not in {c["name"] for c in inspect(engine).get_columns("users")}
    assert "account_tokens" not in tables_of(engine)


def test_security_events_revision_round_trips(engine: Engine) -> None:
    """bastion_0007 adds the append-only security events table, with the details as JSON and
    ids that only grow; going back to bastion_0004 drops it and nothing else."""
    bastion_migrations.upgrade(engine)
    events = Base.metadata.tables["security_events"]
    with engine.begin() as conn:
        conn.execute(
            insert(events),
            [
                {
                    "occurred_at": T0,
                    "kind": "login_failed",
                    "user_id": 7,
                    "ip": "203.0.113.9",
                    "user_agent": "Mozilla/5.0 (Köln)",
                    "session_id": None,
                    "details": {"reason": "invalid_credentials", "client": "browser"},
                },
                {
                    "occurred_at": T0,
                    "kind": "signing_key_created",
                    "user_id": None,
                    "ip": None,
                    "user_agent": None,
                    "session_id": None,
                    "details": {},
                },
            ],
        )
        conn.execute(delete(events).where(events.c.id == 2))
        conn.execute(insert(events).values(occurred_at=T0, kind="logout", user_id=7, details={}))
    with engine.connect() as conn:
        rows = conn.execute(select(events.c.id, events.c.details).order_by(events.c.id)).all()
    # The deleted newest id is not handed out again: a cursor never skips a later event.
    assert [tuple(row) for row in rows] == [
        (1, {"reason": "invalid_credentials", "client": "browser"}),
        (3, {}),
    ]
    bastion_migrations.downgrade(engine, "bastion_0004")
    assert "security_events" not in tables_of(engine)
    assert "account_tokens" in tables_of(engine)
