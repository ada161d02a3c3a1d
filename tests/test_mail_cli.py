"""`newsroom mail send` / `mail status`, and the senders in `newsroom serve`'s workers."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from click.testing import Result
from flask import Flask

from newsroom import create_app
from newsroom.cli import main
from tests.conftest import AppFactory, config_for_tests
from tests.servers import (
    NEWSROOM,
    ROOT,
    free_port,
    newsroom_server,
    production_env,
    wait_until_up,
)
from tests.smtp import SmtpServer
from tests.test_mail_sender import queue, rows


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(main, list(args))


def test_mail_send_delivers_what_is_due_and_reports_the_outbox(
    app_factory: AppFactory, smtp_server: SmtpServer
) -> None:
    app = app_factory(BASTION_MAIL_URL=smtp_server.url)
    queue(app, 3)
    result = run(app, "mail", "send")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"sent through smtp://127.0.0.1:{smtp_server.port}; "
        "outbox: 0 queued, 0 sending, 3 sent, 0 failed\n"
    )
    assert len(smtp_server.wait_for(3)) == 3


def test_mail_send_without_a_server_says_what_to_set(app_factory: AppFactory) -> None:
    app = app_factory(BASTION_MAIL_URL=None)  # development: allowed to start without one
    queue(app)
    result = run(app, "mail", "send")
    assert result.exit_code == 1
    assert "MAIL_URL" in result.stderr and "is not set" in result.stderr
    assert [r.status for r in rows(app)] == ["queued"]


def test_mail_status_counts_and_shows_failures_with_their_error(
    app_factory: AppFactory, smtp_server: SmtpServer
) -> None:
    app = app_factory(BASTION_MAIL_URL=smtp_server.url)
    smtp_server.refuse["gone@example.com"] = "550 5.1.1 mailbox unavailable"
    queue(app, 2)
    (failed_id,) = queue(app, to="gone@example.com")
    assert run(app, "mail", "send").exit_code == 0
    queue(app)  # queued after the pass: still waiting

    result = run(app, "mail", "status")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:4] == ["queued   1", "sending  0", "sent     2", "failed   1"]
    assert lines[5] == "failed (newest first, at most 20):"
    assert lines[6].startswith(f"  #{failed_id} ")
    assert lines[6].endswith(
        "test_message to gone@example.com after 1 attempt(s): "
        "recipient refused: 550 5.1.1 mailbox unavailable"
    )


@pytest.mark.server
def test_serve_sends_from_its_worker_and_stops_sending_with_itself(
    database_url: str, smtp_server: SmtpServer
) -> None:
    port = free_port()
    env = production_env(database_url, port, MAIL_URL=smtp_server.url)
    with newsroom_server(env, port):
        # Another instance's request queues mail (same database, migrated by serve).
        app = create_app(config_for_tests(database_url, BASTION_MAIL_URL=smtp_server.url))
        try:
            queue(app, 2)
            assert len(smtp_server.wait_for(2, timeout=20)) == 2
            deadline = time.monotonic() + 10
            while {r.status for r in rows(app)} != {"sent"}:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        finally:
            app.extensions["bastion"].db.dispose()
    # The server has stopped, and its sender with it: nothing sends what is queued now.
    app = create_app(config_for_tests(database_url, BASTION_MAIL_URL=smtp_server.url))
    try:
        queue(app)
        time.sleep(3)  # more than the sender's poll interval
        assert len(smtp_server.messages) == 2
        assert [r.status for r in rows(app)] == ["sent", "sent", "queued"]
    finally:
        app.extensions["bastion"].db.dispose()


@pytest.mark.server
def test_a_stopping_server_finishes_the_message_its_worker_is_sending(
    database_url: str, smtp_server: SmtpServer
) -> None:
    # A slow mail server: the message is still being answered when SIGTERM comes.
    smtp_server.handler.answer_after = 2.0
    port = free_port()
    env = production_env(database_url, port, MAIL_URL=smtp_server.url)
    command = [str(NEWSROOM), "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    app = create_app(config_for_tests(database_url, BASTION_MAIL_URL=smtp_server.url))
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/health", server)
        queue(app)
        assert smtp_server.handler.receiving.wait(timeout=20), "the worker never sent"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
        # Accepted by the server and recorded as sent: neither cut off nor left to its lease.
        assert len(smtp_server.messages) == 1
        assert [r.status for r in rows(app)] == ["sent"]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        app.extensions["bastion"].db.dispose()
