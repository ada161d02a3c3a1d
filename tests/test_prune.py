"""Pruning: dead sessions and their refresh tokens go, in batches; replay evidence stays."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select

from flask_bastion import AuthSession, current_bastion
from flask_bastion.models import (
    AccountToken,
    KnownDevice,
    OutboxMessage,
    RefreshToken,
    TotpCredential,
    User,
)
from flask_bastion.prune import PeriodicPrune, prune
from flask_bastion.security.tokens import new_public_id, new_token, token_hash
from flask_bastion.testing import Clock, register, signed_in
from newsroom import create_app
from newsroom.cli import main
from tests.conftest import PASSWORD, config_for_tests
from tests.mfa_helpers import enroll
from tests.servers import free_port

HOUR = 3600
DAY = 24 * HOUR


def _user(app: Flask, now: datetime) -> int:
    with app.app_context(), current_bastion().db.engine.begin() as conn:
        result = conn.execute(
            insert(User).values(
                email="ann@example.com",
                email_key="ann@example.com",
                username="ann",
                username_key="ann",
                password_hash="x",
                active=True,
                created_at=now,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def _session(
    app: Flask,
    user_id: int,
    now: datetime,
    *,
    seen_ago: float,
    idle: int,
    expires_in: float,
    kind: str = "browser",
    name: str | None = None,
) -> str:
    sid = name or new_public_id()
    with app.app_context(), current_bastion().db.engine.begin() as conn:
        conn.execute(
            insert(AuthSession).values(
                id=sid,
                token_hash=token_hash(new_token()),
                user_id=user_id,
                kind=kind,
                remember=False,
                created_at=now - timedelta(days=1),
                last_seen_at=now - timedelta(seconds=seen_ago),
                authenticated_at=now - timedelta(days=1),
                expires_at=now + timedelta(seconds=expires_in),
                idle_timeout=idle,
                ip="",
                user_agent="",
            )
        )
    return sid


def _token(app: Flask, sid: str, now: datetime, *, age: float, used: bool) -> int:
    created = now - timedelta(seconds=age)
    with app.app_context(), current_bastion().db.engine.begin() as conn:
        result = conn.execute(
            insert(RefreshToken).values(
                session_id=sid,
                token_hash=token_hash(new_token()),
                created_at=created,
                expires_at=created + timedelta(days=14),
                used_at=created + timedelta(minutes=10) if used else None,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def _left(app: Flask) -> tuple[set[str], set[int]]:
    with app.app_context(), current_bastion().db.engine.connect() as conn:
        sessions = set(conn.scalars(select(AuthSession.id)))
        tokens = set(conn.scalars(select(RefreshToken.id)))
    return sessions, tokens


@pytest.fixture
def rows(app: Flask, clock: Clock) -> dict[str, Any]:
    """Rows of every kind, live and dead, around the frozen ``clock``."""
    now = clock()
    uid = _user(app, now)
    keep = {
        # Seen ten minutes ago, two hours of idleness allowed, eleven hours left.
        _session(app, uid, now, seen_ago=600, idle=2 * HOUR, expires_in=11 * HOUR),
        # One second short of its idle timeout.
        _session(app, uid, now, seen_ago=2 * HOUR - 1, idle=2 * HOUR, expires_in=HOUR),
        # "Remember me": three days idle of fourteen allowed.
        _session(app, uid, now, seen_ago=3 * DAY, idle=14 * DAY, expires_in=20 * DAY),
    }
    dead = {
        _session(app, uid, now, seen_ago=60, idle=2 * HOUR, expires_in=-1),  # past its end
        _session(app, uid, now, seen_ago=2 * HOUR + 1, idle=2 * HOUR, expires_in=HOUR),  # idle
        *(
            _session(app, uid, now, seen_ago=3 * HOUR, idle=2 * HOUR, expires_in=HOUR)
            for _ in range(9)
        ),
    }
    # A live app session (its family) twenty days into thirty: its used tokens, older than
    # their own 14-day expiry, are the evidence of a replay and stay.
    family = _session(app, uid, now, seen_ago=300, idle=14 * DAY, expires_in=10 * DAY, kind="token")
    keep.add(family)
    family_tokens = {
        _token(app, family, now, age=20 * DAY, used=True),
        _token(app, family, now, age=10 * DAY, used=True),
        _token(app, family, now, age=300, used=False),
    }
    # A dead family (its session idle past the refresh idle timeout): every token goes.
    gone = _session(app, uid, now, seen_ago=15 * DAY, idle=14 * DAY, expires_in=DAY, kind="token")
    dead.add(gone)
    dead_tokens = {
        _token(app, gone, now, age=16 * DAY, used=True),
        _token(app, gone, now, age=15 * DAY, used=False),
    }
    return {"keep": keep, "dead": dead, "tokens": family_tokens, "dead_tokens": dead_tokens}


def test_prune_deletes_exactly_the_dead_rows_in_batches(
    app: Flask, rows: dict[str, Any], clock: Clock
) -> None:
    assert _left(app) == (rows["keep"] | rows["dead"], rows["tokens"] | rows["dead_tokens"])
    with app.app_context():
        counts = prune(current_bastion().db.engine, batch=3)  # several batches of each table
    assert counts == {
        "refresh_tokens": 2,
        "sessions": len(rows["dead"]),
        "account_tokens": 0,
        "mail_outbox": 0,
        "security_events": 0,
        "passkey_challenges": 0,
        "known_devices": 0,
        "mfa_challenges": 0,
        "totp_setups": 0,
    }
    assert _left(app) == (rows["keep"], rows["tokens"])
    with app.app_context():  # nothing more to do
        assert set(prune(current_bastion().db.engine).values()) == {0}


def test_prune_command_prints_the_counts(app: Flask, rows: dict[str, Any]) -> None:
    result = app.test_cli_runner().invoke(main, ["prune", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"pruned 2 refresh_tokens, {len(rows['dead'])} sessions, 0 account_tokens, 0 mail_outbox, "
        "0 security_events, 0 passkey_challenges, 0 known_devices, 0 mfa_challenges, "
        "0 totp_setups\n"
    )
    assert _left(app) == (rows["keep"], rows["tokens"])


def test_one_time_tokens_go_at_their_expiry_and_sent_mail_after_thirty_days(
    app: Flask, clock: Clock
) -> None:
    now = clock()
    uid = _user(app, now)

    def token(expires_in: float, *, used: bool) -> int:
        with app.app_context(), current_bastion().db.engine.begin() as conn:
            result = conn.execute(
                insert(AccountToken).values(
                    user_id=uid,
                    purpose="confirm",
                    token_hash=token_hash(new_token()),
                    attempts=0,
                    created_at=now - timedelta(hours=1),
                    expires_at=now + timedelta(seconds=expires_in),
                    used_at=now - timedelta(minutes=5) if used else None,
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def mail(status: str, sent_days_ago: float | None) -> int:
        sent = None if sent_days_ago is None else now - timedelta(days=sent_days_ago)
        with app.app_context(), current_bastion().db.engine.begin() as conn:
            result = conn.execute(
                insert(OutboxMessage).values(
                    to_address="ann@example.com",
                    subject="s",
                    text_body="t",
                    html_body="h",
                    template="test_message",
                    message_id=f"<{new_token()}@example.com>",
                    created_at=now - timedelta(days=40),
                    status=status,
                    attempts=1,
                    next_attempt_at=now - timedelta(days=40),
                    sent_at=sent,
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    # A used link stays until it expires: opened again (a mail scanner first), it still
    # answers "already done" rather than "invalid".
    live_tokens = {token(HOUR, used=False), token(HOUR, used=True)}
    token(-1, used=False)
    token(-1, used=True)
    # Queued and failed mail is never pruned, whatever its age; sent mail after 30 days.
    kept_mail = {mail("sent", 29), mail("queued", None), mail("failed", None)}
    mail("sent", 31)

    with app.app_context():
        counts = prune(current_bastion().db.engine, batch=1)
    assert counts["account_tokens"] == 2
    assert counts["mail_outbox"] == 1
    with app.app_context(), current_bastion().db.engine.connect() as conn:
        assert set(conn.scalars(select(AccountToken.id))) == live_tokens
        assert set(conn.scalars(select(OutboxMessage.id))) == kept_mail


def test_a_replay_is_still_detected_after_pruning(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    register(app.test_client(), email="ann@example.com", username="ann", password=PASSWORD)
    pair = client.post("/api/token", json={"identity": "ann", "password": PASSWORD}).json
    successor = client.post("/api/token/refresh", json={"refresh_token": pair["refresh_token"]})
    assert successor.status_code == 200
    clock.advance(11)  # past the grace period
    with app.app_context():
        prune(current_bastion().db.engine)
    replay = client.post("/api/token/refresh", json={"refresh_token": pair["refresh_token"]})
    assert replay.status_code == 401
    # The replay revoked the family: the successor is dead too.
    after = client.post(
        "/api/token/refresh", json={"refresh_token": successor.json["refresh_token"]}
    )
    assert after.status_code == 401
    assert after.json["code"] == "invalid_grant"


def test_the_periodic_thread_prunes_on_its_own(app: Flask, rows: dict[str, Any]) -> None:
    pruner = PeriodicPrune(app, interval=0.05).start()
    try:
        deadline = time.monotonic() + 10
        while _left(app) != (rows["keep"], rows["tokens"]):
            assert time.monotonic() < deadline, "the periodic prune never ran"
            time.sleep(0.05)
    finally:
        pruner.stop()
    assert not pruner.thread.is_alive()


def test_a_prune_during_an_outage_logs_one_line_and_carries_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres"
    app = create_app(config_for_tests(url))
    with caplog.at_level(logging.WARNING, logger="flask_bastion.prune"):
        assert PeriodicPrune(app, interval=60).run_once() is None
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["pruning failed"]
    app.extensions["bastion"].db.dispose()


def test_serving_processes_prune_unless_turned_off(database_url: str) -> None:
    from flask_bastion.prune import start_periodic

    off = create_app(config_for_tests(database_url, BASTION_PRUNE_INTERVAL=0))
    assert start_periodic(off) is None
    on = create_app(config_for_tests(database_url, BASTION_PRUNE_INTERVAL=3600))
    pruner = start_periodic(on)
    assert pruner is not None and pruner.thread.is_alive() and pruner.thread.daemon
    pruner.stop()
    for app in (off, on):
        app.extensions["bastion"].db.dispose()


def test_known_devices_go_after_400_days_unseen(app: Flask, clock: Clock) -> None:
    now = clock()
    uid = _user(app, now)

    def device(seen_days_ago: float) -> int:
        with app.app_context(), current_bastion().db.engine.begin() as conn:
            result = conn.execute(
                insert(KnownDevice).values(
                    user_id=uid,
                    device_hash=token_hash(new_token()),
                    created_at=now - timedelta(days=500),
                    last_seen_at=now - timedelta(days=seen_days_ago),
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    kept = {device(1), device(399)}
    device(401)
    with app.app_context():
        assert prune(current_bastion().db.engine)["known_devices"] == 1
    with app.app_context(), current_bastion().db.engine.connect() as conn:
        assert set(conn.scalars(select(KnownDevice.id))) == kept


def test_an_authenticator_setup_never_confirmed_goes_after_a_day(
    app: Flask, ann: None, clock: Clock
) -> None:
    def setups() -> list[Any]:
        with app.app_context(), current_bastion().db.engine.connect() as conn:
            return list(conn.execute(select(TotpCredential.id, TotpCredential.confirmed_at)))

    def pruned() -> int:
        with app.app_context():
            return prune(current_bastion().db.engine)["totp_setups"]

    me = signed_in(app.test_client(), "app", "ann", PASSWORD)
    assert me.post("/api/auth/mfa/totp/setup").status_code == 200  # begun, never confirmed
    clock.advance(DAY - 60)
    assert pruned() == 0 and len(setups()) == 1  # someone may still be scanning it
    clock.advance(120)
    assert pruned() == 1 and setups() == []

    enroll(signed_in(app.test_client(), "app", "ann", PASSWORD), clock)
    clock.advance(30 * DAY)
    assert pruned() == 0  # a confirmed one is the second factor: never pruned
    [(_, confirmed_at)] = setups()
    assert confirmed_at is not None
