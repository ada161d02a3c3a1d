"""Security events: a row for each event, kept or dropped with the request's unit of work,
read back by its user and by admins only, page by page, and pruned after the retention."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from flask_bastion import current_bastion
from flask_bastion.access import csrf_exempt
from flask_bastion.audit import AuditEvent, record
from flask_bastion.clock import now as clock_now
from flask_bastion.errors import Conflict
from flask_bastion.models import SecurityEvent, User
from flask_bastion.prune import prune
from flask_bastion.testing import (
    ClientKind,
    Clock,
    assert_problem,
    invalid,
    signed_in,
)
from flask_bastion.views.context import record as record_for_request
from tests.account_helpers import NEW_PASSWORD, PASSWORD, Mailbox, path_of, post, register
from tests.roles import grant_roles
from tests.smtp import SmtpServer

OWN = "/api/auth/security-events"
ADMIN = "/api/admin/security-events"
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) SecurityEventsTest/1.0"


@pytest.fixture
def app_config(smtp_server: SmtpServer) -> dict[str, Any]:
    return {"BASTION_MAIL_URL": smtp_server.url}


def rows(app: Flask, **where: Any) -> list[SecurityEvent]:
    """The stored events, oldest first, optionally only those matching ``where``."""
    with app.app_context(), current_bastion().db.unit_of_work() as session:
        stmt = select(SecurityEvent).filter_by(**where).order_by(SecurityEvent.id)
        found = list(session.scalars(stmt))
        session.expunge_all()
        return found


def kinds(app: Flask, **where: Any) -> list[str]:
    return [row.kind for row in rows(app, **where)]


def user_id(app: Flask, username: str) -> int:
    with app.app_context(), current_bastion().db.unit_of_work() as session:
        return session.scalars(select(User.id).where(User.username_key == username)).one()


# ---- each event kind reachable today, through the real endpoints -----------------------------


def test_sign_in_failure_and_success_are_kept_with_the_user(
    app: Flask, ann: None, client_kind: ClientKind
) -> None:
    ann_id = user_id(app, "ann")
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = BROWSER_UA
    if client_kind == "browser":
        wrong = post(client, "/api/auth/login", {"identity": "ann", "password": "not-it-at-all"})
        nobody = post(client, "/api/auth/login", {"identity": "nobody", "password": PASSWORD})
    else:
        wrong = client.post("/api/token", json={"identity": "ann", "password": "not-it-at-all"})
        nobody = client.post("/api/token", json={"identity": "nobody", "password": PASSWORD})
    assert wrong.status_code == nobody.status_code == 401
    me = signed_in(client, client_kind, "ann", PASSWORD)

    failed = rows(app, kind="login_failed")
    # The refused requests rolled back; their events stand. A wrong password names the
    # account it was tried on; an unknown identity names nobody (and is never stored).
    assert [(r.user_id, r.details) for r in failed] == [
        (ann_id, {"reason": "invalid_credentials", "client": client_kind}),
        (None, {"reason": "invalid_credentials", "client": client_kind}),
    ]
    assert all(r.ip == "127.0.0.1" and r.user_agent == BROWSER_UA for r in failed)
    (succeeded,) = rows(app, kind="login_succeeded")
    assert succeeded.user_id == ann_id == me.id
    assert succeeded.details == {"client": client_kind}
    assert succeeded.session_id is not None and len(succeeded.session_id) > 8
    if client_kind == "browser":  # an app gets a fresh client of its own from signed_in
        assert succeeded.user_agent == BROWSER_UA
    assert "nobody" not in str([r.details for r in rows(app)])


def test_code_sign_in_is_recorded_with_its_method(app: Flask, ann: None, mailbox: Mailbox) -> None:
    client = app.test_client()
    assert post(client, "/api/auth/code/request", {"identity": "ann"}).status_code == 202
    code = mailbox.code("ann@example.com")
    wrong = "000000" if code != "000000" else "111111"
    refused = post(client, "/api/auth/code/verify", {"identity": "ann", "code": wrong})
    assert refused.status_code == 401
    done = post(client, "/api/auth/code/verify", {"identity": "ann", "code": code})
    assert done.status_code == 200, done.get_data(as_text=True)
    ann_id = user_id(app, "ann")
    assert [(r.kind, r.user_id, r.details) for r in rows(app, user_id=ann_id)][-2:] == [
        ("login_failed", ann_id, {"reason": "invalid_code", "client": "browser", "method": "code"}),
        ("login_succeeded", ann_id, {"client": "browser", "method": "code"}),
    ]


def test_sign_out_is_recorded_for_both_client_kinds(
    app: Flask, ann: None, client_kind: ClientKind
) -> None:
    me = signed_in(app.test_client(), client_kind, "ann", PASSWORD)
    session_id = rows(app, kind="login_succeeded")[-1].session_id
    assert me.sign_out().status_code in (200, 204)
    kind = "logout" if client_kind == "browser" else "token_revoked"
    (ended,) = rows(app, kind=kind)
    assert (ended.user_id, ended.session_id) == (me.id, session_id)


def test_password_change_and_its_wrong_password_are_recorded(app: Flask, ann: None) -> None:
    me = signed_in(app.test_client(), "browser", "ann", PASSWORD)
    change = "/api/auth/password/change"
    refused = me.post(change, {"current_password": "wrong-wrong", "new_password": NEW_PASSWORD})
    assert refused.status_code == 401
    done = me.post(change, {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert done.status_code == 200
    failed, changed = rows(app, kind="reauth_failed") + rows(app, kind="password_changed")
    session_id = rows(app, kind="login_succeeded")[-1].session_id
    assert (failed.user_id, failed.session_id, failed.details) == (
        me.id,
        session_id,
        {"reason": "invalid_credentials"},
    )
    assert (changed.user_id, changed.session_id, changed.details) == (
        me.id,
        session_id,
        {"ended": 1},  # the session the registration opened
    )


def test_password_reset_is_recorded(app: Flask, ann: None, mailbox: Mailbox) -> None:
    client = app.test_client()
    assert (
        post(client, "/api/auth/password/forgot", {"email": "ann@example.com"}).status_code == 202
    )
    token = mailbox.link("ann@example.com", "/password/reset/").rsplit("/", 1)[1]
    done = client.post("/api/auth/password/reset", json={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 200
    (reset,) = rows(app, kind="password_reset")
    assert reset.user_id == user_id(app, "ann")


def test_email_change_request_and_apply_are_recorded(
    app: Flask, ann: None, mailbox: Mailbox
) -> None:
    me = signed_in(app.test_client(), "app", "ann", PASSWORD)
    asked = me.post("/api/auth/email/change", {"email": "ann@new.example", "password": PASSWORD})
    assert asked.status_code == 202
    link = mailbox.link("ann@new.example", "/api/auth/email/change/")
    assert app.test_client().get(path_of(link)).status_code == 303  # a GET that writes
    assert [r.user_id for r in rows(app, kind="email_change_requested")] == [me.id]
    (changed,) = rows(app, kind="email_changed")
    # Opened from a mail client: nobody signed in, the link's account is named.
    assert (changed.user_id, changed.session_id) == (me.id, None)


def test_ending_a_session_is_recorded(app: Flask, ann: None) -> None:
    me = signed_in(app.test_client(), "browser", "ann", PASSWORD)
    sessions = me.get("/api/auth/sessions").json["sessions"]
    (session,) = [s for s in sessions if s["current"]]
    assert me.delete(f"/api/auth/sessions/{session['id']}").status_code == 204
    (ended,) = rows(app, kind="session_ended")
    assert (ended.user_id, ended.session_id) == (me.id, session["id"])


def test_refresh_token_reuse_names_the_familys_user(
    app: Flask, ann: None, client: FlaskClient, clock: Clock
) -> None:
    pair = client.post("/api/token", json={"identity": "ann", "password": PASSWORD}).json
    renewed = client.post("/api/token/refresh", json={"refresh_token": pair["refresh_token"]})
    assert renewed.status_code == 200
    clock.advance(11)  # past the grace period: a replay
    replay = client.post("/api/token/refresh", json={"refresh_token": pair["refresh_token"]})
    assert replay.status_code == 401
    (reused,) = rows(app, kind="refresh_token_reused")
    session_id = rows(app, kind="login_succeeded")[-1].session_id
    assert (reused.user_id, reused.session_id) == (user_id(app, "ann"), session_id)
    assert reused.occurred_at == clock.current  # Bastion's one clock


def test_registration_and_access_denied_are_recorded(app: Flask) -> None:
    me = register(app.test_client(), "bob@example.com", "bob")
    assert me.status_code == 201
    bob = user_id(app, "bob")
    assert kinds(app, user_id=bob) == ["user_registered"]
    denied = app.test_client()
    signed_in(denied, "browser", "bob", PASSWORD)
    assert denied.get(ADMIN).status_code == 403
    (refusal,) = rows(app, kind="access_denied")
    assert refusal.user_id == bob
    assert refusal.details == {
        "method": "GET",
        "path": ADMIN,
        "reason": "forbidden",
        "required": ["admin"],
    }


# ---- kept or dropped with the unit of work ---------------------------------------------------


@pytest.fixture
def probe(app: Flask) -> Flask:
    """Routes that record an event next to a write, then succeed or fail."""

    @csrf_exempt
    def succeed_then_fail(outcome: str) -> Response:
        db = current_bastion().db.session
        db.execute(update(User).where(User.username_key == "ann").values(login_count=99))
        record_for_request(AuditEvent.PASSWORD_CHANGED, user_id=1)
        if outcome == "fail":
            raise Conflict()
        if outcome == "refuse":
            try:
                raise Conflict()
            except Conflict:
                record_for_request(AuditEvent.REAUTH_FAILED, user_id=1, reason="conflict")
                raise
        return Response(status=204)

    @csrf_exempt
    def fail_at_commit() -> Response:
        # ann's address again: refused by the unique index only when the commit flushes it.
        current_bastion().db.session.add(
            User(
                email="ann@example.com",
                email_key="ann@example.com",
                username="ann2",
                username_key="ann2",
                password_hash="x",
                created_at=clock_now(),
            )
        )
        record_for_request(AuditEvent.PASSWORD_CHANGED, user_id=1)
        record_for_request(AuditEvent.LOGIN_FAILED, user_id=1, reason="probe")
        return Response(status=204)

    app.add_url_rule("/probe/<outcome>", view_func=succeed_then_fail, methods=["POST"])
    app.add_url_rule("/probe-commit", view_func=fail_at_commit, methods=["POST"])
    return app


def login_count(app: Flask) -> int:
    with app.app_context(), current_bastion().db.unit_of_work() as session:
        return session.scalars(select(User.login_count).where(User.username_key == "ann")).one()


def test_a_success_event_is_kept_only_when_its_request_commits(probe: Flask, ann: None) -> None:
    client = probe.test_client()
    assert client.post("/probe/fail").status_code == 409
    assert login_count(probe) == 0  # the request's write rolled back ...
    assert kinds(probe, kind="password_changed") == []  # ... and so did its event
    assert client.post("/probe/succeed").status_code == 204
    assert login_count(probe) == 99
    assert kinds(probe, kind="password_changed") == ["password_changed"]


def test_a_refusal_is_kept_although_its_request_rolls_back(probe: Flask, ann: None) -> None:
    assert probe.test_client().post("/probe/refuse").status_code == 409
    assert login_count(probe) == 0
    # Recorded while the error propagated: the refusal stands, the success beside it does not.
    assert kinds(probe, user_id=1) == ["user_registered", "reauth_failed"]


def test_when_the_commit_itself_fails_only_the_refusal_is_kept(probe: Flask, ann: None) -> None:
    probe.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error is answered
    answer = probe.test_client().post("/probe-commit")
    assert answer.status_code == 500
    assert kinds(probe, user_id=1) == ["user_registered", "login_failed"]
    # An error that escapes the app altogether (here the test client re-raises it) skips the
    # response hooks: the teardown still writes the refusal.
    probe.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(IntegrityError):
        probe.test_client().post("/probe-commit")
    assert kinds(probe, user_id=1) == ["user_registered", "login_failed", "login_failed"]


def test_a_table_that_cannot_be_written_never_fails_the_request(
    app: Flask, ann: None, caplog: pytest.LogCaptureFixture
) -> None:
    with app.app_context(), current_bastion().db.engine.begin() as conn:
        conn.execute(text("DROP TABLE security_events"))
    with caplog.at_level(logging.ERROR, logger="flask_bastion.security_events"):
        me = signed_in(app.test_client(), "browser", "ann", PASSWORD)
    assert me.id == user_id(
        app, "ann"
    )  # signed in: the event's loss is logged, not answered as a 500
    assert "security event(s) not written" in caplog.text


def test_outside_a_request_an_event_is_written_at_once(app: Flask) -> None:
    with app.app_context():
        record(AuditEvent.SIGNING_KEY_ROTATED, ip=None, kid="k1")
    (rotated,) = rows(app, kind="signing_key_rotated")
    assert (rotated.user_id, rotated.ip, rotated.user_agent, rotated.details) == (
        None,
        None,
        None,
        {"kid": "k1"},
    )


# ---- who sees what ---------------------------------------------------------------------------


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    """ann and bob, each signed in once; carol, an admin."""
    for name in ("ann", "bob", "carol"):
        register(app.test_client(), f"{name}@example.com", name)
    grant_roles(app, user_id(app, "carol"), "admin")
    return {
        name: signed_in(app.test_client(), "browser", name, PASSWORD)
        for name in ("ann", "bob", "carol")
    }


def test_each_user_sees_only_their_own_events_newest_first(
    app: Flask, people: dict[str, Any]
) -> None:
    ann, bob = people["ann"], people["bob"]
    assert bob.get(ADMIN).status_code == 403  # recorded for admins, not shown to bob
    page = ann.get(OWN).json
    assert page["next_cursor"] is None
    assert [item["kind"] for item in page["items"]] == ["login_succeeded", "user_registered"]
    newest = page["items"][0]
    stored = rows(app, user_id=ann.id)[-1]
    assert datetime.fromisoformat(newest.pop("occurred_at")) == stored.occurred_at
    assert newest == {
        "id": stored.id,
        "kind": "login_succeeded",
        "ip": "127.0.0.1",
        "user_agent": stored.user_agent,
        "session_id": stored.session_id,
        "details": {"client": "browser"},
    }
    assert "access_denied" in kinds(app, user_id=bob.id)
    assert [item["kind"] for item in bob.get(OWN).json["items"]] == [
        "login_succeeded",
        "user_registered",
    ]


def test_an_app_client_reads_its_own_events_too(app: Flask, ann: None) -> None:
    me = signed_in(app.test_client(), "app", "ann", PASSWORD)
    listed = me.get(OWN)
    assert listed.status_code == 200
    assert listed.headers["Cache-Control"] == "no-store"
    assert [item["kind"] for item in listed.json["items"]] == ["login_succeeded", "user_registered"]


def test_anonymous_and_non_admin_callers_are_refused(app: Flask, people: dict[str, Any]) -> None:
    anonymous = app.test_client()
    for path in (OWN, ADMIN, f"{ADMIN}?kind=nonsense"):
        assert_problem(anonymous.get(path), 401, "not_authenticated", detail="Sign in to continue.")
    assert_problem(
        people["ann"].get(f"{ADMIN}?kind=nonsense"),
        403,
        "forbidden",
        detail="Your roles do not allow this.",
    )


def test_an_admin_sees_everyone_and_filters_by_user_and_kind(
    app: Flask, people: dict[str, Any]
) -> None:
    ann, bob, carol = people["ann"], people["bob"], people["carol"]
    assert bob.get(ADMIN).status_code == 403
    everything = carol.get(f"{ADMIN}?per_page=100").json["items"]
    assert [item["id"] for item in everything] == [r.id for r in reversed(rows(app))]
    assert {item["user_id"] for item in everything} == {ann.id, bob.id, carol.id}
    by_bob = carol.get(f"{ADMIN}?user_id={bob.id}").json["items"]
    assert [item["kind"] for item in by_bob] == [
        "access_denied",
        "login_succeeded",
        "user_registered",
    ]
    sign_ins = carol.get(f"{ADMIN}?kind=login_succeeded").json["items"]
    assert [item["user_id"] for item in sign_ins] == [carol.id, bob.id, ann.id]
    both = carol.get(f"{ADMIN}?kind=user_registered&user_id={ann.id}").json
    assert [(i["kind"], i["user_id"]) for i in both["items"]] == [("user_registered", ann.id)]
    assert_problem(
        carol.get(f"{ADMIN}?kind=nonsense"),
        invalid(("kind", "unknown_kind", "No event has this kind.")),
    )
    assert carol.get(f"{ADMIN}?user_id=0").status_code == 422


def test_a_role_other_than_admin_can_be_named(app_factory: Any) -> None:
    app = app_factory(BASTION_SECURITY_EVENTS_ADMIN_ROLE="auditor")
    register(app.test_client(), "dan@example.com", "dan")
    grant_roles(app, user_id(app, "dan"), "admin")
    dan = signed_in(app.test_client(), "browser", "dan", PASSWORD)
    assert dan.get(ADMIN).status_code == 403
    grant_roles(app, dan.id, "auditor")
    assert dan.get(ADMIN).status_code == 200


# ---- pages -----------------------------------------------------------------------------------


def test_pages_follow_the_cursor_to_the_end(app: Flask, ann: None) -> None:
    me = signed_in(app.test_client(), "app", "ann", PASSWORD)
    with app.app_context():
        for n in range(23):
            record(AuditEvent.PASSWORD_CHANGED, ip="192.0.2.1", user_id=me.id, n=n)
    expected = [r.id for r in reversed(rows(app, user_id=me.id))]
    assert len(expected) == 25
    seen: list[int] = []
    sizes = []
    cursor = ""
    while True:
        page = me.get(OWN, query_string={"cursor": cursor, "per_page": 10}).json
        sizes.append(len(page["items"]))
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert sizes == [10, 10, 5]
    assert seen == expected  # newest first, none twice, none left out
    default = me.get(OWN).json
    assert len(default["items"]) == 20 and default["next_cursor"] is not None


def test_bad_page_arguments_are_422_never_500(app: Flask, ann: None) -> None:
    me = signed_in(app.test_client(), "browser", "ann", PASSWORD)
    with app.app_context():
        for _ in range(3):
            record(AuditEvent.PASSWORD_CHANGED, ip=None, user_id=me.id)
    cursor = me.get(OWN, query_string={"per_page": 1}).json["next_cursor"]
    payload, signature = cursor.split(".")
    forged_cursor = invalid(("cursor", "invalid_cursor", "The cursor is malformed or forged."))
    for bad in (
        f"{payload}.{signature[:-2]}AA",  # a signature that is not ours
        "djEgMQ.bm90LWEtbWFj",  # "v1 1" with a made-up MAC
        "not a cursor",
        "ü.ü",
        f"{payload}{payload}.{signature}",
    ):
        assert_problem(me.get(OWN, query_string={"cursor": bad}), forged_cursor)
    assert me.get(OWN, query_string={"per_page": 0}).status_code == 422
    assert me.get(OWN, query_string={"per_page": 101}).status_code == 422
    assert me.get(OWN, query_string={"cursor": "x" * 300}).status_code == 422


def test_a_cursor_from_another_secret_key_is_refused(app_factory: Any) -> None:
    first, second = app_factory(), app_factory()
    register(first.test_client(), "ann@example.com", "ann")
    me = signed_in(first.test_client(), "browser", "ann", PASSWORD)
    with first.app_context():
        for _ in range(3):
            record(AuditEvent.PASSWORD_CHANGED, ip=None, user_id=me.id)
    cursor = me.get(OWN, query_string={"per_page": 1}).json["next_cursor"]
    again = signed_in(second.test_client(), "browser", "ann", PASSWORD)
    assert_problem(
        again.get(OWN, query_string={"cursor": cursor}),
        invalid(("cursor", "invalid_cursor", "The cursor is malformed or forged.")),
    )


# ---- retention -------------------------------------------------------------------------------


def test_events_past_the_retention_are_pruned_in_batches(app: Flask, clock: Clock) -> None:
    start = clock.current
    with app.app_context():
        for _ in range(5):
            record(AuditEvent.SIGNING_KEY_CREATED, ip=None, kid="old")
        clock.advance(200 * 24 * 3600)
        record(AuditEvent.SIGNING_KEY_CREATED, ip=None, kid="newer")
        clock.set(start + timedelta(days=365, seconds=1))  # the first five are past a year
        counts = prune(current_bastion().db.engine, batch=2)
    assert counts["security_events"] == 5
    assert [r.details["kid"] for r in rows(app)] == ["newer"]


def test_a_shorter_retention_and_keep_for_ever(app_factory: Any, clock: Clock) -> None:
    short = app_factory(BASTION_SECURITY_EVENT_RETENTION=3600)
    with short.app_context():
        record(AuditEvent.SIGNING_KEY_CREATED, ip=None, kid="k")
        clock.advance(3599)
        assert prune(current_bastion().db.engine)["security_events"] == 0
        clock.advance(1)
        assert prune(current_bastion().db.engine)["security_events"] == 1
    forever = app_factory(BASTION_SECURITY_EVENT_RETENTION=0)
    with forever.app_context():
        record(AuditEvent.SIGNING_KEY_CREATED, ip=None, kid="k")
        clock.advance(10 * 365 * 24 * 3600)
        assert prune(current_bastion().db.engine)["security_events"] == 0
    assert len(rows(forever)) == 1


def test_an_apps_own_events_are_stored_and_filterable(app: Flask, people: dict[str, Any]) -> None:
    carol, bob = people["carol"], people["bob"]
    changed = carol.patch(f"/api/admin/users/{bob.id}", {"roles": ["editor"]})
    assert changed.status_code == 200
    listed = carol.get(ADMIN, query_string={"kind": "user_updated_by_admin"}).json["items"]
    assert [(i["user_id"], i["details"]["actor_id"]) for i in listed] == [(bob.id, carol.id)]
    # bob reads that an admin changed his account.
    assert bob.get(OWN).json["items"][0]["kind"] == "user_updated_by_admin"
