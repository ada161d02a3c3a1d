"""nginx at the edge, as `newsroom deploy nginx` renders it, over TLS from a throwaway CA.

Two stateless newsroom instances sit behind it on one database (and one Redis in the
PostgreSQL + Redis pass). The SPA comes from the build; /api/ and the pages from the instances.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import ssl
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from newsroom import settings as newsroom_settings
from newsroom.cli import main as newsroom_cli
from newsroom.deploy import NginxSite, render_nginx
from newsroom.views.spa import SOURCE_DIST, build_at
from tests.conftest import PASSWORD, REDIS_URL, fresh_database
from tests.servers import (
    NEWSROOM,
    ROOT,
    Edge,
    Tls,
    free_port,
    make_tls,
    newsroom_server,
    nginx,
    production_env,
)

pytestmark = pytest.mark.server

OBSERVATORY = ROOT / "tests" / "tools" / "node_modules" / "@mdn" / "mdn-http-observatory"
HALF_A_YEAR = 183 * 24 * 3600


@dataclass(frozen=True)
class Cluster:
    edge: Edge
    tls: Tls
    a: str
    b: str
    logs: tuple[Path, Path]
    env: dict[str, str]

    @property
    def proxy(self) -> str:
        return self.edge.base

    def session(self) -> requests.Session:
        """A client that trusts our CA (and nothing is ever verify=False)."""
        client = requests.Session()
        client.trust_env = False  # else REQUESTS_CA_BUNDLE would win over our CA
        client.verify = str(self.tls.ca)
        return client


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, tls: Tls) -> Iterator[Cluster]:
    tmp_path = tmp_path_factory.mktemp("cluster")
    with fresh_database(tmp_path) as database_url:
        https_port, http_port, port_a, port_b = free_port(), free_port(), free_port(), free_port()
        env = production_env(
            database_url,
            https_port,
            PUBLIC_URL=f"https://localhost:{https_port}",
            TRUSTED_PROXIES="1",
            LOG_LEVEL="INFO",  # the audit trail (client addresses) is read by a test
        )
        logs = (tmp_path / "a.log", tmp_path / "b.log")
        with (
            newsroom_server(env, port_a, log=logs[0]) as a,
            newsroom_server(env, port_b, log=logs[1]) as b,
            nginx(tmp_path / "nginx", [port_a, port_b], tls, https_port, http_port) as edge,
        ):
            yield Cluster(edge, tls, a, b, logs, env)


def _csrf(client: requests.Session, base: str) -> dict[str, str]:
    body = client.get(f"{base}/api/auth/session").json()
    return {"X-XSRF-TOKEN": body["csrf_token"], "Origin": base}


def register_browser(cluster: Cluster, name: str) -> requests.Session:
    browser = cluster.session()
    answer = browser.post(
        f"{cluster.proxy}/api/auth/register",
        json={"email": f"{name}@example.com", "username": name, "password": PASSWORD},
        headers=_csrf(browser, cluster.proxy),
    )
    assert answer.status_code == 201, answer.text
    return browser


def _session_cookie(browser: requests.Session) -> dict[str, str]:
    return {"__Host-bastion_session": browser.cookies["__Host-bastion_session"]}


# Direct to an instance, as nginx would send it: the cookies travel only over https.
VIA_TLS = {"X-Forwarded-Proto": "https"}


def _assets() -> tuple[str, str]:
    """A public file of the build (the entry chunk) and a private one (a lazy page chunk)."""
    build = build_at(SOURCE_DIST)
    assert build is not None and build.has_shell, "run `make web` first"
    public = next(f for f in sorted(build.public_files) if f.endswith(".js"))
    private = next(
        f"assets/{p.name}"
        for p in sorted((SOURCE_DIST / "assets").glob("*.js"))
        if f"assets/{p.name}" not in build.public_files
    )
    return public, private


# ---- the rendered config ------------------------------------------------------------------------


def test_the_command_renders_the_config_the_tests_run(tmp_path: Path, tls: Tls) -> None:
    output = tmp_path / "nginx.conf"
    args = ["deploy", "nginx", "--host", "news.example.org", "--upstream", "10.0.0.2:8000",
            "--upstream", "10.0.0.3:8000", "--tls-cert", str(tls.cert), "--tls-key", str(tls.key),
            "--run-dir", str(tmp_path), "-o", str(output)]  # fmt: skip
    result = CliRunner().invoke(newsroom_cli, args)
    assert result.exit_code == 0, result.output
    site = NginxSite(
        host="news.example.org",
        upstreams=("10.0.0.2:8000", "10.0.0.3:8000"),
        tls_cert=tls.cert,
        tls_key=tls.key,
        run_dir=tmp_path,
    )
    config = output.read_text()
    assert config == render_nginx(site)
    assert "@@" not in config
    assert "server 10.0.0.2:8000 max_fails=1 fail_timeout=5s;" in config
    assert "return 301 https://news.example.org$request_uri;" in config
    assert f"client_max_body_size {newsroom_settings.MAX_BODY};" in config
    # Never appended to what the client sent: the app trusts exactly this one hop.
    assert "$proxy_add_x_forwarded_for" not in config
    assert config.count("proxy_set_header X-Forwarded-For $remote_addr;") == 3
    checked = subprocess.run(
        [
            "/usr/sbin/nginx",
            "-t",
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "error.log"),
            "-c",
            str(output),
        ],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--host", "news.example.org; evil", "--host must be a host name"),
        ("--upstream", "10.0.0.2:8000; include /etc/passwd", "cannot go into an nginx config"),
    ],
)
def test_the_command_refuses_values_that_would_break_out_of_a_directive(
    tmp_path: Path, tls: Tls, flag: str, value: str, message: str
) -> None:
    given = {"--host": "news.example.org", "--upstream": "10.0.0.2:8000", flag: value}
    args = ["deploy", "nginx", *(x for pair in given.items() for x in pair),
            "--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]  # fmt: skip
    result = CliRunner().invoke(newsroom_cli, args)
    assert result.exit_code == 2
    assert message in result.output


# ---- TLS and the way in -------------------------------------------------------------------------


def test_plain_http_is_sent_to_https_on_the_public_name(cluster: Cluster) -> None:
    for base in (cluster.edge.http_base, cluster.proxy.replace("https://", "http://")):
        answer = requests.get(
            f"{base}/app/articles?page=2", headers={"Host": "evil.example"}, allow_redirects=False
        )
        assert answer.status_code == 301, base
        assert answer.headers["Location"] == f"{cluster.proxy}/app/articles?page=2"


@pytest.mark.parametrize(
    ("version", "accepted"),
    [
        (ssl.TLSVersion.TLSv1_3, True),
        (ssl.TLSVersion.TLSv1_2, True),
        (ssl.TLSVersion.TLSv1_1, False),
        (ssl.TLSVersion.TLSv1, False),
    ],
    ids=["1.3", "1.2", "1.1", "1.0"],
)
def test_only_tls_1_2_and_1_3_are_spoken(
    cluster: Cluster, version: ssl.TLSVersion, accepted: bool
) -> None:
    context = ssl.create_default_context(cafile=str(cluster.tls.ca))
    context.set_ciphers("ALL:@SECLEVEL=0")  # let our client offer old versions: the server decides
    with warnings.catch_warnings():  # old versions are deprecated: offering them is the test
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = version
    port = int(cluster.proxy.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        if accepted:
            with context.wrap_socket(raw, server_hostname="localhost") as conn:
                assert conn.version() == version.name.replace("_", ".")
        else:
            # The server's alert, not our client declining to offer the version.
            with pytest.raises(ssl.SSLError, match="ALERT_PROTOCOL_VERSION"):
                context.wrap_socket(raw, server_hostname="localhost")


# ---- headers on every kind of answer ------------------------------------------------------------


def _answers(cluster: Cluster) -> dict[str, requests.Response]:
    public, private = _assets()
    browser = register_browser(cluster, "hana")
    anonymous = cluster.session()
    base = cluster.proxy
    return {
        "api json": anonymous.get(f"{base}/api/health"),
        "api 404": anonymous.get(f"{base}/api/no-such-thing"),
        "api 401": anonymous.get(f"{base}/api/auth/session"),
        "page": anonymous.get(f"{base}/login"),
        "page 404": anonymous.get(f"{base}/no-such-page"),
        "app route": anonymous.get(f"{base}/app/articles/7"),
        "shell": anonymous.get(f"{base}/app/"),
        "public asset": anonymous.get(f"{base}/app/{public}"),
        "private asset": browser.get(f"{base}/app/{private}"),
        "gate 401": anonymous.get(f"{base}/app/{private}"),
        "static 404": browser.get(f"{base}/app/assets/no-such-file.js"),
        "nginx 413": anonymous.post(f"{base}/api/articles", data=b"x" * (2 * 1024 * 1024)),
    }


EXPECTED_STATUS = {
    "api json": 200,
    "api 404": 404,
    "api 401": 401,
    "page": 200,
    "page 404": 404,
    "app route": 200,
    "shell": 200,
    "public asset": 200,
    "private asset": 200,
    "gate 401": 401,
    "static 404": 404,
    "nginx 413": 413,
}


def _assert_security_headers(answer: requests.Response, kind: str) -> None:
    headers = answer.headers
    # Exact values: a header set twice (by the app and by nginx) would read "nosniff, nosniff".
    assert headers["X-Content-Type-Options"] == "nosniff", kind
    assert headers["X-Frame-Options"] == "DENY", kind
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", kind
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin", kind
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin", kind
    csp = headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'") and csp.count("default-src") == 1, kind
    assert csp.endswith("frame-ancestors 'none'"), kind
    assert "unsafe" not in csp, kind
    hsts = headers["Strict-Transport-Security"]
    max_age = int(hsts.split(";")[0].removeprefix("max-age="))
    assert max_age >= HALF_A_YEAR and hsts.endswith("; includeSubDomains"), kind
    assert "Server" not in headers or headers["Server"] == "nginx", kind  # no version


def test_every_kind_of_answer_carries_the_security_headers(cluster: Cluster) -> None:
    answers = _answers(cluster)
    for kind, answer in answers.items():
        assert answer.status_code == EXPECTED_STATUS[kind], (kind, answer.text[:200])
        _assert_security_headers(answer, kind)
    for kind in ("app route", "shell", "page"):  # documents get the page policy
        assert "script-src 'self'" in answers[kind].headers["Content-Security-Policy"], kind
    for kind in ("api 404", "api 401", "gate 401", "static 404", "nginx 413"):
        assert answers[kind].headers["Content-Type"] == "application/problem+json", kind
    assert answers["nginx 413"].json()["code"] == "body_too_large"
    assert answers["gate 401"].json() == {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "Sign in to load the app.",
        "code": "not_authenticated",
    }


def test_instances_down_give_503_problems_on_the_api_and_a_page_elsewhere(
    tmp_path: Path, tls: Tls
) -> None:
    with nginx(tmp_path, [free_port(), free_port()], tls, wait_for="/app/") as edge:
        api = requests.get(f"{edge.base}/api/articles", verify=str(tls.ca), timeout=10)
        page = requests.get(f"{edge.base}/login", verify=str(tls.ca), timeout=10)
        _, private = _assets()
        gated = requests.get(f"{edge.base}/app/{private}", verify=str(tls.ca), timeout=10)
        shell = requests.get(f"{edge.base}/app/articles", verify=str(tls.ca), timeout=10)
    assert api.status_code == 503
    assert api.headers["Content-Type"] == "application/problem+json"
    assert api.headers["Retry-After"] == "5"
    assert api.json() == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The service is briefly unavailable. Try again in a few seconds.",
        "code": "service_unavailable",
    }
    assert page.status_code == 503 and page.headers["Content-Type"] == "text/html"
    assert gated.status_code == 503  # the gate cannot ask: closed, never open
    assert shell.status_code == 200  # the SPA itself does not need the instances
    for kind, answer in {"api": api, "page": page, "gated": gated, "shell": shell}.items():
        _assert_security_headers(answer, kind)


# ---- the SPA at the edge ------------------------------------------------------------------------


def test_app_routes_get_the_shell_and_hashed_assets_are_immutable_and_precompressed(
    cluster: Cluster,
) -> None:
    public, _ = _assets()
    client = cluster.session()
    shell = client.get(f"{cluster.proxy}/app/articles/7/edit")
    assert shell.status_code == 200
    assert shell.text == (SOURCE_DIST / "index.html").read_text()
    assert shell.headers["Cache-Control"] == "no-store"

    asset = client.get(f"{cluster.proxy}/app/{public}", headers={"Accept-Encoding": "gzip"})
    assert asset.status_code == 200
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert asset.headers["Content-Encoding"] == "gzip"
    compressed = (SOURCE_DIST / f"{public}.gz").read_bytes()
    assert asset.headers["Content-Length"] == str(len(compressed))  # the file made at build
    assert gzip.decompress(compressed) == (SOURCE_DIST / public).read_bytes()
    assert asset.content == (SOURCE_DIST / public).read_bytes()  # requests decoded it

    assert client.get(f"{cluster.proxy}/app/.vite/manifest.json").status_code == 404


def test_private_chunks_are_served_only_to_a_signed_in_browser(cluster: Cluster) -> None:
    _, private = _assets()
    url = f"{cluster.proxy}/app/{private}"
    browser = register_browser(cluster, "gita")
    allowed = browser.get(url)
    assert allowed.status_code == 200
    assert allowed.content == (SOURCE_DIST / private).read_bytes()
    assert allowed.headers["Cache-Control"] == "private, no-cache"
    assert "Cookie" in allowed.headers["Vary"]

    assert cluster.session().get(url).status_code == 401  # no cookie
    forged = cluster.session().get(url, cookies={"__Host-bastion_session": "x" * 43})
    assert forged.status_code == 401
    # Revalidating a cached copy asks the gate too: after sign-out, no 304 and no file.
    cookie = _session_cookie(browser)
    etag = allowed.headers["ETag"]
    assert browser.get(url, headers={"If-None-Match": etag}).status_code == 304
    logout = browser.post(f"{cluster.proxy}/api/auth/logout", headers=_csrf(browser, cluster.proxy))
    assert logout.status_code == 204
    after = cluster.session().get(url, cookies=cookie, headers={"If-None-Match": etag})
    assert after.status_code == 401


def test_auth_check_is_204_or_401_without_a_body(cluster: Cluster) -> None:
    browser = register_browser(cluster, "ines")
    for base in (cluster.a, cluster.b):
        signed_in = requests.get(
            f"{base}/api/auth/check", cookies=_session_cookie(browser), headers=VIA_TLS
        )
        assert (signed_in.status_code, signed_in.content) == (204, b"")
        anonymous = requests.get(f"{base}/api/auth/check", headers=VIA_TLS)
        assert (anonymous.status_code, anonymous.content) == (401, b"")


# ---- the client's address ------------------------------------------------------------------------


def _audit_lines(cluster: Cluster, request_id: str) -> list[dict[str, object]]:
    lines = []
    for log in cluster.logs:
        for line in log.read_text().splitlines():
            if request_id in line and line.startswith("{"):
                lines.append(json.loads(line))
    return lines


def test_a_client_sent_x_forwarded_for_never_becomes_the_client_address(
    cluster: Cluster,
) -> None:
    client = cluster.session()
    spoofed = "203.0.113.7"
    answers = [
        client.post(
            f"{cluster.proxy}/api/token",
            json={"identity": "nobody", "password": "wrong-password-1"},
            headers={
                "X-Forwarded-For": spoofed,
                "X-Real-IP": spoofed,
                "Forwarded": f"for={spoofed}",
            },
        )
        for _ in range(2)
    ]
    for answer in answers:
        assert answer.status_code == 401
        events = [
            e for e in _audit_lines(cluster, answer.headers["X-Request-ID"])
            if e.get("message") == "login_failed"
        ]  # fmt: skip
        assert len(events) == 1, events  # the control: the event is there to be read
        assert events[0]["ip"] == "127.0.0.1"
    assert not any(spoofed in log.read_text() for log in cluster.logs)


# ---- the Observatory ----------------------------------------------------------------------------


def _observatory() -> Path:
    """The scanner from tests/tools (make tools); installed here when it is missing."""
    scan = OBSERVATORY / "src" / "scan.js"
    if not scan.is_file():
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=ROOT / "tests" / "tools",
            check=True,
        )
    # Offline: the preload list would be downloaded by the install script we did not run.
    (OBSERVATORY / "conf" / "hsts-preload.json").write_text("{}")
    return scan


def test_the_mdn_observatory_grades_the_edge_a_plus(cluster: Cluster) -> None:
    scan = _observatory()
    host = cluster.proxy.removeprefix("https://")
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(cluster.tls.ca)}
    result = subprocess.run(
        ["node", str(scan), host], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    failed = {
        name: test.get("result")
        for name, test in report.get("tests", {}).items()
        if not test.get("pass")
    }
    assert report["scan"]["grade"] == "A+", (report["scan"], failed)
    assert not failed


# ---- several instances (the session, its end, and shared limits) -----------------------------


def test_a_session_made_on_one_instance_works_on_the_other_and_dies_on_both(
    cluster: Cluster,
) -> None:
    browser = register_browser(cluster, "ann")
    cookie = _session_cookie(browser)
    for base in (cluster.a, cluster.b):
        answer = requests.get(f"{base}/api/auth/session", cookies=cookie, headers=VIA_TLS)
        assert answer.status_code == 200
        assert answer.json()["user"]["username"] == "ann"

    logout = requests.post(
        f"{cluster.a}/api/auth/logout",
        cookies={**cookie, **browser.cookies.get_dict()},
        headers={**_csrf(browser, cluster.proxy), **VIA_TLS},
    )
    assert logout.status_code == 204
    for base in (cluster.b, cluster.proxy):
        replay = requests.get(
            f"{base}/api/auth/session", cookies=cookie, headers=VIA_TLS, verify=str(cluster.tls.ca)
        )
        assert replay.status_code == 401
        assert replay.json()["code"] == "not_authenticated"


def _token_pair(base: str, identity: str, password: str = PASSWORD) -> requests.Response:
    return requests.post(f"{base}/api/token", json={"identity": identity, "password": password})


def test_deactivation_on_one_instance_ends_sessions_and_tokens_on_both(cluster: Cluster) -> None:
    browser = register_browser(cluster, "bea")
    cookie = _session_cookie(browser)
    pair = _token_pair(cluster.a, "bea")
    assert pair.status_code == 200, pair.text
    bearer = {"Authorization": f"Bearer {pair.json()['access_token']}"}
    for base in (cluster.a, cluster.b):
        assert requests.get(f"{base}/api/auth/session", headers=bearer).status_code == 200

    deactivated = subprocess.run(
        [str(NEWSROOM), "user", "deactivate", "bea"],
        env=cluster.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert deactivated.returncode == 0, deactivated.stderr
    for base in (cluster.a, cluster.b):
        by_cookie = requests.get(f"{base}/api/auth/session", cookies=cookie, headers=VIA_TLS)
        assert by_cookie.status_code == 401
        by_token = requests.get(f"{base}/api/auth/session", headers=bearer)
        assert by_token.status_code == 401
        assert by_token.json()["code"] == "invalid_token"


def test_refresh_token_reuse_on_one_instance_revokes_the_family_on_both(
    cluster: Cluster,
) -> None:
    register_browser(cluster, "cleo")
    first = _token_pair(cluster.a, "cleo").json()
    rotated = requests.post(
        f"{cluster.a}/api/token/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200
    current = rotated.json()
    bearer = {"Authorization": f"Bearer {current['access_token']}"}
    assert requests.get(f"{cluster.b}/api/auth/session", headers=bearer).status_code == 200

    # Past the grace period a replayed refresh token is theft, not a lost race.
    time.sleep(10.5)  # BASTION_REFRESH_GRACE_PERIOD's default
    replay = requests.post(
        f"{cluster.b}/api/token/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 401
    for base in (cluster.a, cluster.b):
        assert requests.get(f"{base}/api/auth/session", headers=bearer).status_code == 401
    newest = requests.post(
        f"{cluster.a}/api/token/refresh", json={"refresh_token": current["refresh_token"]}
    )
    assert newest.status_code == 401  # the whole family is gone, the newest token too


@pytest.mark.postgres
def test_sign_in_limits_are_shared_by_the_instances(cluster: Cluster) -> None:
    assert REDIS_URL, "the PostgreSQL pass runs with REDIS_URL: shared limits live in Redis"
    register_browser(cluster, "dora")
    statuses = [
        _token_pair((cluster.a, cluster.b)[i % 2], "dora", f"wrong-password-{i}").status_code
        for i in range(11)
    ]
    # 10 failures per account per minute, counted together: each instance alone saw 5 or 6.
    assert statuses == [401] * 10 + [429]
    for base in (cluster.a, cluster.b):
        assert _token_pair(base, "dora").status_code == 429  # even the right password waits
