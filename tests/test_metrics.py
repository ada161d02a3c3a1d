"""Prometheus metrics: by route (never by path), sign-in outcomes, replays, 429s, the outbox
hooks, and the sum over every worker of a real `newsroom serve`, on a port of its own."""

from __future__ import annotations

import glob
import os
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from flask_bastion import exposition, metrics
from flask_bastion.testing import Clock, register
from tests.conftest import PASSWORD, REDIS_URL, fresh_database
from tests.servers import free_port, newsroom_server, production_env

DURATION = "bastion_http_request_duration_seconds_count"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"METRICS": True, "BASTION_LOGIN_LIMIT_PER_IDENTITY": "2/minute"}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def requests_of(route: str, method: str = "GET", status: str = "200") -> float:
    return value(DURATION, route=route, method=method, status=status)


def test_requests_are_counted_by_url_rule_and_status(app: Flask, client: FlaskClient) -> None:
    rule, missing = "/api/articles/<int:article_id>", "unmatched"
    before = (requests_of(rule, status="401"), requests_of(missing, status="404"))
    for article_id in (1, 2, 3):  # three paths, one series
        assert client.get(f"/api/articles/{article_id}").status_code == 401
    for path in ("/no/such/path", "/another/one"):
        assert client.get(path).status_code == 404
    assert requests_of(rule, status="401") == before[0] + 3
    assert requests_of(missing, status="404") == before[1] + 2
    samples = [s for m in REGISTRY.collect() for s in m.samples if s.name == DURATION]
    assert not any("/api/articles/1" in s.labels["route"] for s in samples)  # no raw paths


def test_an_unknown_method_is_one_series(app: Flask, client: FlaskClient) -> None:
    before = requests_of("unmatched", method="other", status="405")
    assert client.open("/api/health", method="BREW").status_code == 405
    assert requests_of("unmatched", method="other", status="405") == before + 1


def test_a_request_refused_before_its_view_keeps_its_route(app: Flask, client: FlaskClient) -> None:
    # The CSRF check refuses in a before-request hook; the route label is still the rule.
    before = requests_of("/api/articles", method="POST", status="403")
    assert client.post("/api/articles", json={}).status_code == 403
    assert requests_of("/api/articles", method="POST", status="403") == before + 1


def test_sign_in_outcomes_and_rate_limit_hits_are_counted(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    # The clock is frozen: past the free budget the delay (1 s) cannot run out mid-test.
    register(app.test_client(), email="ann@example.com", username="ann", password=PASSWORD)
    signins = "bastion_signins_total"
    before = {
        outcome: value(signins, outcome=outcome, client="app")
        for outcome in ("succeeded", "invalid_credentials", "rate_limited")
    }
    limited_before = value("bastion_rate_limited_requests_total", route="/api/token")
    good = {"identity": "ann", "password": PASSWORD}
    bad = {"identity": "ann", "password": "not-the-password"}
    assert client.post("/api/token", json=good).status_code == 200
    assert client.post("/api/token", json=bad).status_code == 401
    assert client.post("/api/token", json=bad).status_code == 401
    assert client.post("/api/token", json=bad).status_code == 429  # 2 failures a minute
    assert value(signins, outcome="succeeded", client="app") == before["succeeded"] + 1
    invalid = value(signins, outcome="invalid_credentials", client="app")
    assert invalid == before["invalid_credentials"] + 2
    assert value(signins, outcome="rate_limited", client="app") == before["rate_limited"] + 1
    limited = value("bastion_rate_limited_requests_total", route="/api/token")
    assert limited == limited_before + 1


def test_a_refresh_token_replay_is_counted(app: Flask, client: FlaskClient, clock: Clock) -> None:
    register(app.test_client(), email="ann@example.com", username="ann", password=PASSWORD)
    pair = client.post("/api/token", json={"identity": "ann", "password": PASSWORD}).json
    before = value("bastion_refresh_token_reuse_total")
    refresh = {"refresh_token": pair["refresh_token"]}
    assert client.post("/api/token/refresh", json=refresh).status_code == 200
    assert value("bastion_refresh_token_reuse_total") == before  # control: a rotation is no replay
    clock.advance(11)
    assert client.post("/api/token/refresh", json=refresh).status_code == 401
    assert value("bastion_refresh_token_reuse_total") == before + 1


def test_the_outbox_hooks_set_the_depth_and_count_failures() -> None:
    failures = value("bastion_outbox_send_failures_total")
    metrics.set_outbox_depth(7)
    metrics.outbox_send_failed()
    assert value("bastion_outbox_depth") == 7
    assert value("bastion_outbox_send_failures_total") == failures + 1
    metrics.set_outbox_depth(0)
    assert value("bastion_outbox_depth") == 0


def test_the_exposition_listener_answers_get_only() -> None:
    port = free_port()
    _, stop = exposition.serve_exposition("127.0.0.1", port)
    try:
        answer = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].startswith("text/plain; version=")
        assert "bastion_http_request_duration_seconds" in answer.text
        refused = requests.post(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert refused.status_code == 405
    finally:
        stop()


@pytest.mark.server
def test_metrics_add_up_every_worker_of_newsroom_serve(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"stale")  # an earlier run's: must be cleared
    with fresh_database(tmp_path) as database_url:
        env = production_env(
            database_url,
            port,
            METRICS_PORT=str(metrics_port),
            PROMETHEUS_MULTIPROC_DIR=str(directory),
            # Two workers need shared rate-limit counters.
            REDIS_URL=REDIS_URL or "redis://127.0.0.1:6379/15",
        )
        with newsroom_server(env, port, workers=2) as base:
            total = 0

            def hit(count: int) -> None:
                for _ in range(count):  # a new connection each: the workers share them out
                    answer = requests.get(
                        f"{base}/api/health", headers={"Connection": "close"}, timeout=10
                    )
                    assert answer.status_code == 200

            def serving() -> set[str]:  # the workers that have observed a request
                return {
                    re.search(r"_(\d+)\.db$", p)[1]  # type: ignore[index]
                    for p in glob.glob(str(directory / "histogram_*.db"))
                }

            # Each worker loads the app itself: the first may serve alone for a moment.
            deadline = time.monotonic() + 30
            while total == 0 or (len(serving()) < 2 and time.monotonic() < deadline):
                threads = [threading.Thread(target=hit, args=(15,)) for _ in range(4)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                total += 60
            scraped = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
            # The app's own port has no metrics, so nothing routed to it (nginx) exposes them.
            assert requests.get(f"{base}/metrics", timeout=5).status_code == 404
            workers = serving()
    pattern = re.compile(
        r'^bastion_http_request_duration_seconds_count\{method="GET",'
        r'route="/api/health",status="200"\} ([0-9.e+]+)$',
        re.M,
    )
    counted = sum(float(m) for m in pattern.findall(scraped))
    # The server's readiness wait made a few requests of its own before ours.
    assert total <= counted <= total + 100, scraped
    assert len(workers) == 2, f"one worker served everything: {workers}"


def test_a_scrape_forgets_the_live_gauges_of_dead_workers(tmp_path: Path) -> None:
    # No exit hook runs in a server's workers: the scrape itself sweeps their files.
    dead = subprocess.Popen(["true"])
    dead.wait()

    def record(kind: str, pid: int, name: str, value: float) -> Path:
        path = tmp_path / f"{kind}_{pid}.db"
        values = MmapedDict(str(path))
        values.write_value(mmap_key(name, name, (), (), "help"), value, 0.0)
        values.close()
        return path

    gone = record("gauge_livesum", dead.pid, "workers_busy", 5)
    alive = record("gauge_livesum", os.getpid(), "workers_busy", 2)
    counter = record("counter", dead.pid, "jobs_total", 3)  # what it counted stays counted
    app = exposition.exposition_app(str(tmp_path))
    statuses: list[str] = []
    body = b"".join(app({"REQUEST_METHOD": "GET"}, lambda s, h: statuses.append(s))).decode()
    assert statuses == ["200 OK"]
    assert (gone.exists(), alive.exists(), counter.exists()) == (False, True, True)
    assert "\nworkers_busy 2.0\n" in body  # the dead worker's 5 no longer adds up
    assert "\njobs_total 3.0\n" in body
