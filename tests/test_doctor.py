"""`newsroom doctor URL` against a real newsroom server and against a deliberately bad app."""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask, Response, jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import make_server

from newsroom.doctor import SPOOFED_ADDRESS, Doctor
from tests.conftest import PASSWORD, fresh_database
from tests.servers import NEWSROOM, ROOT, free_port, newsroom_server, production_env


def _register(base: str, username: str = "doctor") -> None:
    browser = requests.Session()
    csrf = browser.get(f"{base}/api/auth/session").json()["csrf_token"]
    response = browser.post(
        f"{base}/api/auth/register",
        json={"email": f"{username}@example.com", "username": username, "password": PASSWORD},
        headers={"X-XSRF-TOKEN": csrf, "Origin": base},
    )
    assert response.status_code == 201, response.text


def _doctor_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "DOCTOR_IDENTITY": "doctor", "DOCTOR_PASSWORD": PASSWORD}


def _checks(report: Any) -> set[str]:
    return {f.check for f in report.findings}


@pytest.mark.server
def test_a_good_plain_http_deployment_has_only_the_tls_finding(tmp_path: Path) -> None:
    port = free_port()
    with fresh_database(tmp_path) as database_url:
        env = production_env(database_url, port)
        with newsroom_server(env, port) as base:
            _register(base)
            result = subprocess.run(
                [str(NEWSROOM), "doctor", base],
                env=_doctor_env(env),
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    fails = [line for line in lines if line.startswith("FAIL")]
    plain_http = (
        f"FAIL [tls] {base} is plain HTTP: anyone on the path reads and changes the traffic, "
        "cookies cannot be Secure or __Host-, and HSTS cannot apply."
    )
    assert fails == [plain_http]
    for check in ("x-forwarded-for", "cookies", "headers", "cors", "exposed", "secrets"):
        assert f"ok   [{check}]" in lines, result.stdout
    assert lines[-1] == "1 finding"
    assert "     fix: Terminate TLS in front of the app" in result.stdout


@pytest.mark.server
def test_trusting_a_proxy_that_is_not_there_is_found(tmp_path: Path) -> None:
    # TRUSTED_PROXIES=1 with no proxy in front: the client's own X-Forwarded-For is believed.
    port = free_port()
    with fresh_database(tmp_path) as database_url:
        env = production_env(database_url, port, TRUSTED_PROXIES="1")
        with newsroom_server(env, port) as base:
            _register(base)
            report = Doctor(base, environ=_doctor_env(env)).run()
    assert _checks(report) == {"tls", "x-forwarded-for"}
    (finding,) = [f for f in report.findings if f.check == "x-forwarded-for"]
    assert SPOOFED_ADDRESS in finding.problem
    assert "TRUSTED_PROXIES" in finding.fix


# ---- a deliberately bad deployment ---------------------------------------------------------


def bad_app() -> Flask:
    """Everything the doctor looks for, done wrong."""
    app = Flask(__name__)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
    recorded: dict[str, str] = {}

    @app.get("/api/auth/session")
    def session() -> Response:
        response = jsonify(csrf_token="t")
        response.set_cookie("session", "anonymous")  # no HttpOnly, no SameSite
        return response

    @app.post("/api/auth/login")
    def login() -> Response:
        recorded["ip"] = request.remote_addr or ""
        response = jsonify(csrf_token="t")
        response.set_cookie("session", "signed-in", httponly=True, samesite="None")
        return response

    @app.get("/api/auth/sessions")
    def sessions() -> Response:
        return jsonify(sessions=[{"current": True, "ip": recorded.get("ip")}])

    @app.post("/api/auth/logout")
    def logout() -> Response:
        return jsonify()

    @app.get("/metrics")
    def metrics() -> Response:
        return Response("# TYPE requests counter\nrequests 1\n", mimetype="text/plain")

    @app.get("/dev/mail")
    def mailbox() -> Response:
        return Response("<h1>Dev mailbox</h1>", mimetype="text/html")

    @app.after_request
    def cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Origin"] = "*"
        elif origin:
            response.headers["Access-Control-Allow-Origin"] = origin  # reflected
        response.headers["Access-Control-Allow-Credentials"] = "true"
        return response

    return app


@pytest.fixture
def bad_server() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, bad_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def test_every_bad_thing_is_reported(bad_server: str) -> None:
    environ = {
        "SECRET_KEY": "changeme",
        "SECRET_KEY_FALLBACKS": secrets.token_urlsafe(48) + ",short-key-but-random-q8",
        "DOCTOR_IDENTITY": "anyone",
        "DOCTOR_PASSWORD": "anything",
    }
    report = Doctor(bad_server, environ=environ).run()
    problems = [(f.check, f.problem) for f in report.findings]
    text = "\n".join(f"{c}: {p}" for c, p in problems)
    assert _checks(report) == {
        "tls",
        "cookies",
        "headers",
        "cors",
        "x-forwarded-for",
        "exposed",
        "secrets",
    }, text
    assert report.passed == []
    expected = [
        ("cookies", "The cookie session (GET /api/auth/session) lacks HttpOnly"),
        ("cookies", "The cookie session (GET /api/auth/session) has SameSite=unset"),
        ("cookies", "The cookie session (POST /api/auth/login) has SameSite=None"),
        ("cors", "The preflight is answered with Access-Control-Allow-Origin: * and Allow-"),
        ("cors", "The simple request from https://evil.example is allowed (the origin refl"),
        ("cors", "The request from Origin: null from null is allowed (the origin reflected"),
        ("x-forwarded-for", f"The app recorded the forged X-Forwarded-For {SPOOFED_ADDRESS}"),
        ("exposed", "/metrics serves Prometheus metrics to anyone."),
        ("exposed", "/dev/mail answers 200: development helpers are public."),
        ("secrets", "SECRET_KEY is missing or a well-known placeholder."),
        ("secrets", "SECRET_KEY_FALLBACKS entry 2 is too weak."),
    ]
    for check, start in expected:
        assert any(c == check and p.startswith(start) for c, p in problems), (start, text)
    headers = {p for c, p in problems if c == "headers"}
    everywhere = "API answer, SPA page, API 404, page 404"
    for missing in (
        "No X-Content-Type-Options: nosniff",
        "No Content-Security-Policy",
        "Other sites may frame the answer (no frame-ancestors, no X-Frame-Options)",
        "No private Referrer-Policy",
        "No Cross-Origin-Opener-Policy",
        "No Cross-Origin-Resource-Policy",
    ):
        assert f"{missing} on: {everywhere}." in headers, text
    # The first fallback is strong: only the second is reported.
    assert not any("entry 1" in p for _, p in problems)


def test_the_command_prints_each_finding_with_its_fix_and_fails(bad_server: str) -> None:
    result = subprocess.run(
        [str(NEWSROOM), "doctor", bad_server],
        env={"PATH": "/usr/bin:/bin", "SECRET_KEY": secrets.token_urlsafe(48)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    out = result.stdout.splitlines()
    fails = [n for n, line in enumerate(out) if line.startswith("FAIL [")]
    assert fails and all(out[n + 1].startswith("     fix: ") for n in fails)
    assert "ok   [secrets]" in out
    assert any(line.startswith("skip [x-forwarded-for] set DOCTOR_IDENTITY") for line in out)
    assert out[-1] == f"{len(fails)} findings"


def test_nothing_listening_is_an_error_not_a_clean_bill() -> None:
    result = subprocess.run(
        [str(NEWSROOM), "doctor", f"http://127.0.0.1:{free_port()}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot check http://127.0.0.1:")


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a leaf for 127.0.0.1 signed by it: (ca, cert, key)."""
    ca_key, ca, key, csr, cert = (
        directory / n for n in ("ca.key", "ca.pem", "k.pem", "c.csr", "c.pem")
    )
    ext = directory / "leaf.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    p256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *p256, "-days", "1", "-subj", "/CN=doctor test CA",
            "-keyout", str(ca_key), "-out", str(ca))  # fmt: skip
    openssl("req", *p256, "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(csr))
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
            "-CAcreateserial", "-days", "1", "-extfile", str(ext), "-out", str(cert))  # fmt: skip
    return ca, cert, key


TLS_SERVE = (
    "import sys; from pathlib import Path; from granian import Granian; "
    "from granian.constants import Interfaces; "
    "Granian(target='newsroom.wsgi:app', address='127.0.0.1', port=int(sys.argv[1]), "
    "interface=Interfaces.WSGI, workers=1, ssl_cert=Path(sys.argv[2]), "
    "ssl_key=Path(sys.argv[3])).serve()"
)


@pytest.mark.server
def test_a_good_deployment_over_tls_has_only_the_redirect_finding(tmp_path: Path) -> None:
    # newsroom over TLS straight from Granian: everything right but the http -> https
    # redirect, which is the proxy's job (deploy/nginx); nothing else may be found.
    ca, cert, key = _certificates(tmp_path)
    port = free_port()
    with fresh_database(tmp_path) as database_url:
        env = production_env(database_url, port, PUBLIC_URL=f"https://127.0.0.1:{port}")
        upgrade = subprocess.run(
            [str(NEWSROOM), "db", "upgrade"], env=env, cwd=ROOT, capture_output=True, timeout=120
        )
        assert upgrade.returncode == 0, upgrade.stderr
        server = subprocess.Popen(
            [sys.executable, "-c", TLS_SERVE, str(port), str(cert), str(key)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"https://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    requests.get(base + "/healthz", verify=str(ca), timeout=2)
                    break
                except requests.RequestException:
                    assert server.poll() is None and time.monotonic() < deadline
                    time.sleep(0.2)
            browser = requests.Session()
            state = browser.get(f"{base}/api/auth/session", verify=str(ca)).json()
            registered = browser.post(
                f"{base}/api/auth/register",
                json={"email": "doctor@example.com", "username": "doctor", "password": PASSWORD},
                headers={"X-XSRF-TOKEN": state["csrf_token"], "Origin": base},
                verify=str(ca),
            )
            assert registered.status_code == 201, registered.text
            report = Doctor(base, verify=str(ca), environ=_doctor_env(env)).run()
            untrusted = Doctor(base, environ={}).run()  # control: the CA is what makes it verify
        finally:
            server.terminate()
            server.wait(timeout=30)
    problems = [(f.check, f.problem) for f in report.findings]
    # Granian drops a plain-http request on its TLS port: nothing redirects it.
    assert problems == [
        (
            "tls",
            f"Nothing answers http://127.0.0.1:{port}/: a visitor who types the bare name gets "
            "an error, not a redirect to https.",
        )
    ]
    assert set(report.passed) == {
        "x-forwarded-for",
        "cookies",
        "headers",
        "cors",
        "exposed",
        "secrets",
    }
    assert any(f.problem.startswith("The certificate does not verify") for f in untrusted.findings)
