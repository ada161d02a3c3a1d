"""What the benchmark does with HTTP outside wrk: sign in, find a deep cursor, time logins."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import requests
from flask import Flask


class Api:
    def __init__(self, base: str) -> None:
        self.base = base

    def _signed_in(self, identity: str, password: str) -> requests.Session:
        http = requests.Session()
        http.get(f"{self.base}/api/auth/session", timeout=10)
        response = http.post(
            f"{self.base}/api/auth/login",
            json={"identity": identity, "password": password},
            headers={"X-XSRF-TOKEN": http.cookies.get("XSRF-TOKEN") or ""},
            timeout=30,
        )
        if response.status_code != 200:
            raise RuntimeError(f"login failed: {response.status_code} {response.text}")
        return http

    def login_cookie(self, identity: str, password: str) -> str:
        """The ``Cookie`` header a signed-in browser sends: the session and XSRF-TOKEN cookies."""
        http = self._signed_in(identity, password)
        http.get(f"{self.base}/api/auth/session", timeout=10)  # as an SPA does after login
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        if "bastion_session=" not in cookie or "XSRF-TOKEN=" not in cookie:
            raise RuntimeError(f"unexpected cookies after login: {[c.name for c in http.cookies]}")
        response = requests.get(
            f"{self.base}/api/auth/session", headers={"Cookie": cookie}, timeout=10
        )
        if response.status_code != 200 or "Set-Cookie" in response.headers:
            raise RuntimeError("the cookies do not make a steady signed-in session")
        return cookie

    def status(self, url: str, *, cookie: str) -> int:
        return requests.get(url, headers={"Cookie": cookie}, timeout=30).status_code

    def cursor_url(self, cursor: str, per_page: int) -> str:
        return f"{self.base}/api/articles?cursor={quote(cursor, safe='')}&per_page={per_page}"

    def deep_cursor(self, cookie: str, *, total: int) -> str:
        """The cursor of the page after the first ``total - 100`` articles, walked to by cursor."""
        cursor = ""
        for _ in range(total // 100 - 1):
            response = requests.get(
                self.cursor_url(cursor, 100), headers={"Cookie": cookie}, timeout=30
            )
            response.raise_for_status()
            cursor = response.json()["next_cursor"]
            if not cursor:
                raise RuntimeError("the cursor walk ended early")
        return cursor

    def login_and_verify_latencies(
        self, app: Flask, identity: str, password: str, samples: int
    ) -> tuple[list[float], list[float]]:
        """Milliseconds per sequential login and per Argon2 verify here, taken in turns.

        Alternating puts both under the same background load; the verify uses the server's
        own Argon2 parameters (the same settings, loaded in this process).
        """
        passwords = app.extensions["bastion"].passwords
        password_hash = passwords.hash(password)
        http = requests.Session()
        http.get(f"{self.base}/api/auth/session", timeout=10)
        logins, verifies = [], []
        for _ in range(samples):
            headers = {"X-XSRF-TOKEN": http.cookies.get("XSRF-TOKEN") or ""}
            body = {"identity": identity, "password": password}
            started = time.perf_counter()
            response = http.post(
                f"{self.base}/api/auth/login", json=body, headers=headers, timeout=30
            )
            logins.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"login failed: {response.status_code} {response.text}")
            started = time.perf_counter()
            if not passwords.verify(password_hash, password):
                raise RuntimeError("Argon2 verify failed")
            verifies.append((time.perf_counter() - started) * 1000)
        return logins, verifies

    def access_token(self, identity: str, password: str) -> tuple[str | None, str]:
        """A bearer access token from POST /api/token, or None and why where there is none."""
        response = requests.post(
            f"{self.base}/api/token",
            json={"grant_type": "password", "identity": identity, "password": password},
            timeout=30,
        )
        if response.status_code in (404, 405):
            return None, "POST /api/token is not there"
        if response.status_code != 200:
            return None, f"POST /api/token answered {response.status_code}: {response.text[:200]}"
        token: Any = response.json()["access_token"]
        return str(token), ""
