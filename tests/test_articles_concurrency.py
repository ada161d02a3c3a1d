"""Two editors at once: If-Match is a compare-and-swap, so exactly one wins and none is lost."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from flask_bastion import Principal, clock, current_bastion
from flask_bastion.errors import PreconditionFailed
from flask_bastion.sessions import lookup
from flask_bastion.testing import SignedIn
from newsroom.flows import articles
from newsroom.schemas import ArticleUpdate
from tests.newsroom_helpers import article_row, insert_articles, member


@pytest.fixture
def alice(app: Flask) -> SignedIn:
    return member(app, "alice")


def test_two_concurrent_editors_never_both_win(app: Flask, alice: SignedIn) -> None:
    """Real threads and connections: per round, exactly one 200, one 412, and no lost update.

    Runs in both passes; in the PostgreSQL pass the two requests hold two pooled connections.
    """
    erin = member(app, "erin", "editor")
    (article_id,) = insert_articles(app, alice.id, 1)
    path = f"/api/articles/{article_id}"
    editors = [alice, erin]
    headers = [e.headers("PATCH") for e in editors]  # fetched up front: the race is the PATCH alone
    for round_ in range(8):
        etag = alice.get(path).headers["ETag"]
        barrier = threading.Barrier(2)
        results: dict[str, Any] = {}

        def edit(
            index: int,
            etag: str = etag,
            barrier: threading.Barrier = barrier,
            round_: int = round_,
            results: dict[str, Any] = results,
        ) -> None:
            editor = editors[index]
            barrier.wait()
            response = editor.client.patch(
                path,
                json={"title": f"{editor.username} {round_}"},
                headers={**headers[index], "If-Match": etag},
            )
            results[editor.username] = response

        threads = [threading.Thread(target=edit, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(r.status_code for r in results.values())
        assert statuses == [200, 412], statuses
        (winner,) = [name for name, r in results.items() if r.status_code == 200]
        row = article_row(app, article_id)
        assert row.title == f"{winner} {round_}"
        assert row.version == round_ + 2


@pytest.mark.postgres
def test_compare_and_swap_when_both_passed_the_etag_check(app: Flask, alice: SignedIn) -> None:
    """Interleave two editors by hand: both read version 1, the first holds its row lock."""
    (article_id,) = insert_articles(app, alice.id, 1)
    with app.app_context():
        engine = current_bastion().db.engine
        with engine.connect() as probe:
            seen = articles.get_article(probe, article_id).revision
        principal = _principal(app, alice)
        outcome: dict[str, Any] = {}
        second_pid: list[int] = []

        def second_editor() -> None:
            try:
                with engine.connect() as conn, conn.begin():
                    second_pid.append(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
                    articles.update_article(
                        conn,
                        principal,
                        article_id,
                        ArticleUpdate(title="second"),
                        expected={seen},
                        now=clock.now(),
                    )
                outcome["result"] = "won"
            except PreconditionFailed:
                outcome["result"] = "412"

        first = engine.connect()
        try:
            first.begin()
            articles.update_article(
                first,
                principal,
                article_id,
                ArticleUpdate(title="first"),
                expected={seen},
                now=clock.now(),
            )
            thread = threading.Thread(target=second_editor, daemon=True)
            thread.start()
            # The second editor has passed its ETag check once its UPDATE waits for our lock.
            waiting = 0
            with engine.connect() as watcher:
                for _ in range(200):
                    pid = second_pid[0] if second_pid else 0
                    waiting = watcher.execute(WAITING_UPDATES, {"pid": pid}).scalar_one()
                    watcher.rollback()  # pg_stat_activity is a snapshot per transaction
                    if waiting:
                        break
                    time.sleep(0.05)
            assert waiting == 1, "the second UPDATE never waited for the first one's row lock"
            first.commit()
        finally:
            first.close()  # never leave the row locked, whatever failed
        thread.join(timeout=10)
    assert outcome == {"result": "412"}  # refused by the version compare-and-swap
    row = article_row(app, article_id)
    assert (row.title, row.version) == ("first", 2)


WAITING_UPDATES = text(
    "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid AND wait_event_type = 'Lock' "
    "AND query LIKE 'UPDATE articles%'"
)


def _principal(app: Flask, who: SignedIn) -> Principal:
    state = app.extensions["bastion"]
    cookie = who.client.get_cookie(state.settings.session_cookie_name)
    assert cookie is not None
    with app.app_context():  # a unit of work of its own, ended before the editors start
        principal = lookup(state.db, cookie.value, settings=state.settings, now=clock.now())
    assert principal is not None
    return principal
