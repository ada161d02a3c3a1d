"""Two stateless newsroom instances behind a real nginx, sharing one database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import PASSWORD, fresh_database
from tests.servers import free_port, newsroom_server, nginx, production_env

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp_path = tmp_path_factory.mktemp("cluster")
    with fresh_database(tmp_path) as database_url:
        yield from _run_cluster(database_url, tmp_path)


def _run_cluster(database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    proxy_port, port_a, port_b = free_port(), free_port(), free_port()
    public = f"http://127.0.0.1:{proxy_port}"
    env = production_env(database_url, proxy_port, PUBLIC_URL=public, TRUSTED_PROXIES="1")
    with (
        newsroom_server(env, port_a) as a,
        newsroom_server(env, port_b) as b,
        nginx(tmp_path / "nginx", [port_a, port_b], proxy_port) as proxy,
    ):
        yield {"proxy": proxy, "a": a, "b": b}


def _csrf(session: requests.Session, base: str) -> dict[str, str]:
    body = session.get(f"{base}/api/auth/session").json()
    return {"X-XSRF-TOKEN": body["csrf_token"], "Origin": base}


def test_a_session_made_on_one_instance_works_on_the_other_and_dies_on_both(
    cluster: dict[str, str],
) -> None:
    proxy, a, b = cluster["proxy"], cluster["a"], cluster["b"]
    browser = requests.Session()
    registered = browser.post(
        f"{proxy}/api/auth/register",
        json={"email": "ann@example.com", "username": "ann", "password": PASSWORD},
        headers=_csrf(browser, proxy),
    )
    assert registered.status_code == 201, registered.text
    session_cookie = browser.cookies.get("bastion_session")
    assert session_cookie

    # Cookies are per host, not per port: the same browser reaches each instance directly.
    for base in (a, b, proxy, proxy, proxy):
        answer = browser.get(f"{base}/api/auth/session")
        assert answer.status_code == 200
        assert answer.json()["user"]["username"] == "ann"

    logout = browser.post(f"{a}/api/auth/logout", headers=_csrf(browser, proxy))
    assert logout.status_code == 204
    replay = requests.get(f"{b}/api/auth/session", cookies={"bastion_session": session_cookie})
    assert replay.status_code == 401
    assert replay.json()["code"] == "not_authenticated"


def test_cross_site_post_through_the_proxy_is_refused_and_same_origin_passes(
    cluster: dict[str, str],
) -> None:
    proxy = cluster["proxy"]
    browser = requests.Session()
    headers = _csrf(browser, proxy)
    refused = browser.post(
        f"{proxy}/api/auth/login",
        json={"identity": "nobody", "password": PASSWORD},
        headers={**headers, "Origin": "http://evil.localhost"},
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    control = browser.post(
        f"{proxy}/api/auth/login",
        json={"identity": "nobody", "password": PASSWORD},
        headers=headers,
    )
    assert control.status_code == 401  # got past CSRF to the credential check
    assert control.json()["code"] == "invalid_credentials"


def test_nginx_refuses_huge_bodies_in_the_api_error_shape(cluster: dict[str, str]) -> None:
    answer = requests.post(
        f"{cluster['proxy']}/api/auth/login",
        data=b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json() == {
        "type": "about:blank",
        "title": "Content Too Large",
        "status": 413,
        "detail": "The request body is too large.",
        "code": "body_too_large",
    }


def test_security_headers_survive_the_proxy(cluster: dict[str, str]) -> None:
    answer = requests.get(f"{cluster['proxy']}/api/health")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Request-ID"]
