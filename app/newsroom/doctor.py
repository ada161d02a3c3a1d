"""``newsroom doctor URL``: check a running deployment from the outside, as a visitor would.

Each check looks at real answers (headers, cookies, redirects) and reports findings, each with
its fix; what it cannot see from outside is said as a skipped check, never passed as clean.
It sends nothing an attacker could not, and signs in only with the test account it is given
(``DOCTOR_IDENTITY`` and ``DOCTOR_PASSWORD``), signing out again.
"""

from __future__ import annotations

import os
import secrets
import socket
import ssl
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from flask_bastion.config import secret_problems

TIMEOUT = 10
EVIL_ORIGIN = "https://evil.example"
SPOOFED_ADDRESS = "203.0.113.77"  # TEST-NET-3: never a real client
HSTS_MIN_AGE = 180 * 24 * 3600  # six months, the Observatory's floor
PRIVATE_REFERRER_POLICIES = frozenset(
    {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
)
# Paths that must not answer the public: metrics, and development-only helpers.
METRICS_PATHS = ("/metrics", "/api/metrics")
DEV_PATHS = ("/dev/", "/dev/mail", "/dev/outbox")
CERTIFICATE_FIX = (
    "Serve a certificate for this name from a CA browsers trust, with its chain "
    "(or pass --ca-bundle for a private CA)."
)


@dataclass(frozen=True)
class Finding:
    check: str
    problem: str
    fix: str


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    def find(self, check: str, problem: str, fix: str) -> None:
        self.findings.append(Finding(check, problem, fix))

    def lines(self) -> Iterator[str]:
        for name in self.passed:
            yield f"ok   [{name}]"
        for name, why in self.skipped:
            yield f"skip [{name}] {why}"
        for f in self.findings:
            yield f"FAIL [{f.check}] {f.problem}\n     fix: {f.fix}"
        count = len(self.findings)
        yield f"{count} finding{'s' if count != 1 else ''}" if count else "no findings"


class Doctor:
    """The checks against one base URL; :meth:`run` runs them all into a :class:`Report`."""

    def __init__(
        self,
        base_url: str,
        *,
        verify: bool | str = True,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        self.base = urlunsplit((parts.scheme, parts.netloc, "", "", "")).rstrip("/")
        self.https = parts.scheme == "https"
        self.verify = verify
        self.environ = dict(os.environ if environ is None else environ)
        # `verify` goes with each request: requests lets REQUESTS_CA_BUNDLE override a
        # session's own setting.
        self.http = requests.Session()
        self.report = Report()
        self.answers: dict[str, requests.Response] = {}
        self.cookies: list[tuple[str, Any]] = []  # (the answer it came from, the Morsel)

    # ---- plumbing ---------------------------------------------------------------------------

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return self.http.get(self.base + path, timeout=TIMEOUT, verify=self.verify, **kwargs)

    def _collect_cookies(self, where: str, response: requests.Response) -> None:
        for header in response.raw.headers.getlist("Set-Cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            self.cookies += [(where, morsel) for morsel in jar.values()]

    def run(self) -> Report:
        nonce = secrets.token_hex(6)
        try:
            first = self.get("/api/auth/session")
        except requests.exceptions.SSLError as error:
            # Nothing else can be looked at safely: a browser would stop here too.
            self.report.find(
                "tls",
                f"The certificate does not verify (nothing else was checked): {error}.",
                CERTIFICATE_FIX,
            )
            return self.report
        self.answers = {
            "API answer": first,
            "SPA page": self.get("/app/"),
            "API 404": self.get(f"/api/doctor-{nonce}"),
            "page 404": self.get(f"/doctor-{nonce}"),
        }
        self._collect_cookies("GET /api/auth/session", self.answers["API answer"])
        checks: list[tuple[str, Callable[[], None]]] = [
            ("tls", self.check_tls),
            ("x-forwarded-for", self.check_forwarded_for),  # signs in: more cookies to judge
            ("cookies", self.check_cookies),
            ("headers", self.check_headers),
            ("cors", self.check_cors),
            ("exposed", self.check_exposed),
            ("secrets", self.check_secrets),
        ]
        for name, check in checks:
            before = len(self.report.findings) + len(self.report.skipped)
            check()
            if len(self.report.findings) + len(self.report.skipped) == before:
                self.report.passed.append(name)
        return self.report

    # ---- TLS and HSTS -----------------------------------------------------------------------

    def check_tls(self) -> None:
        host = urlsplit(self.base).hostname or ""
        if not self.https:
            self.report.find(
                "tls",
                f"{self.base} is plain HTTP: anyone on the path reads and changes the traffic, "
                "cookies cannot be Secure or __Host-, and HSTS cannot apply.",
                "Terminate TLS in front of the app (deploy/nginx), redirect http to https, and "
                "set PUBLIC_URL to the https URL.",
            )
            return
        version = self._tls_version(host, urlsplit(self.base).port or 443)
        if version is not None and version not in ("TLSv1.2", "TLSv1.3"):
            self.report.find(
                "tls",
                f"The server negotiated {version}.",
                "Allow only TLS 1.2 and 1.3 (nginx: ssl_protocols TLSv1.2 TLSv1.3).",
            )
        self._check_redirect_to_https()
        for kind, answer in self.answers.items():
            hsts = answer.headers.get("Strict-Transport-Security", "")
            age = _max_age(hsts)
            if age is None or age < HSTS_MIN_AGE:
                self.report.find(
                    "tls",
                    f"The {kind} has "
                    + (f"Strict-Transport-Security: {hsts}" if hsts else "no HSTS header")
                    + " (at least six months wanted).",
                    "Send Strict-Transport-Security: max-age=31536000; includeSubDomains on "
                    "every answer (nginx: add_header ... always).",
                )

    def _tls_version(self, host: str, port: int) -> str | None:
        context = ssl.create_default_context(
            cafile=self.verify if isinstance(self.verify, str) else None
        )
        if self.verify is False:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            with (
                socket.create_connection((host, port), timeout=TIMEOUT) as raw,
                context.wrap_socket(raw, server_hostname=host) as tls,
            ):
                return tls.version()
        except ssl.SSLCertVerificationError as error:
            self.report.find(
                "tls",
                f"The certificate does not verify: {error.verify_message}.",
                CERTIFICATE_FIX,
            )
        except OSError as error:
            self.report.find("tls", f"No TLS handshake: {error}.", "Check the TLS listener.")
        return None

    def _check_redirect_to_https(self) -> None:
        parts = urlsplit(self.base)
        # On the default port, plain http is port 80; on another port, the same port (nginx
        # answers plain http on its TLS port with error_page 497).
        netloc = parts.hostname if parts.port in (None, 443) else parts.netloc
        plain = f"http://{netloc}/"
        try:
            answer = requests.get(plain, timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException:
            self.report.find(
                "tls",
                f"Nothing answers {plain}: a visitor who types the bare name gets an error, "
                "not a redirect to https.",
                "Listen on plain http only to redirect: return 301 https://$host$request_uri.",
            )
            return
        location = answer.headers.get("Location", "")
        if answer.status_code not in (301, 302, 307, 308) or not location.startswith("https://"):
            self.report.find(
                "tls",
                f"{plain} answers {answer.status_code} instead of redirecting to https.",
                "Redirect every plain-http request: return 301 https://$host$request_uri.",
            )

    # ---- cookies ----------------------------------------------------------------------------

    def check_cookies(self) -> None:
        if not self.cookies:
            self.report.skipped.append(
                ("cookies", "no cookie was set by GET /api/auth/session (or the sign-in)")
            )
            return
        for where, morsel in self.cookies:
            name = morsel.key
            readable_by_design = "xsrf" in name.lower() or "csrf" in name.lower()
            if not morsel["httponly"] and not readable_by_design:
                self.report.find(
                    "cookies",
                    f"The cookie {name} ({where}) lacks HttpOnly: a script can read it.",
                    "Set HttpOnly on every cookie except the CSRF token's.",
                )
            samesite = str(morsel["samesite"]).lower()
            if samesite not in ("lax", "strict"):
                self.report.find(
                    "cookies",
                    f"The cookie {name} ({where}) has SameSite={morsel['samesite'] or 'unset'}.",
                    "Set SameSite=Lax (or Strict) so other sites' requests do not carry it.",
                )
            if not self.https:
                continue  # Secure and __Host- need https: the TLS finding says so once
            if not morsel["secure"]:
                self.report.find(
                    "cookies",
                    f"The cookie {name} ({where}) lacks Secure.",
                    "Set PUBLIC_URL to the https URL: Bastion then marks every cookie Secure.",
                )
            if not name.startswith("__Host-") or morsel["domain"] or morsel["path"] != "/":
                self.report.find(
                    "cookies",
                    f"The cookie {name} ({where}) is not a __Host- cookie (prefix, Path=/, no "
                    "Domain): a sibling subdomain can set or overwrite it.",
                    "Set PUBLIC_URL to the https URL: Bastion then uses __Host- names.",
                )

    # ---- security headers -------------------------------------------------------------------

    def check_headers(self) -> None:
        missing: dict[tuple[str, str], list[str]] = {}
        for kind, answer in self.answers.items():
            for problem, fix in _header_problems(answer.headers):
                missing.setdefault((problem, fix), []).append(kind)
        for (problem, fix), kinds in missing.items():
            self.report.find("headers", f"{problem} on: {', '.join(kinds)}.", fix)

    # ---- CORS -------------------------------------------------------------------------------

    def check_cors(self) -> None:
        preflight = self.http.options(
            self.base + "/api/auth/login",
            headers={
                "Origin": EVIL_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-xsrf-token",
            },
            timeout=TIMEOUT,
            verify=self.verify,
        )
        simple = self.get("/api/auth/session", headers={"Origin": EVIL_ORIGIN})
        null = self.get("/api/auth/session", headers={"Origin": "null"})
        for label, answer, origin in (
            ("preflight", preflight, EVIL_ORIGIN),
            ("simple request", simple, EVIL_ORIGIN),
            ("request from Origin: null", null, "null"),
        ):
            allowed = answer.headers.get("Access-Control-Allow-Origin")
            credentials = answer.headers.get("Access-Control-Allow-Credentials", "") == "true"
            if allowed == "*":
                self.report.find(
                    "cors",
                    f"The {label} is answered with Access-Control-Allow-Origin: *"
                    + (" and Allow-Credentials: true." if credentials else "."),
                    "List the exact origins of your front ends in CORS_ORIGINS; never '*'.",
                )
            elif allowed == origin:
                self.report.find(
                    "cors",
                    f"The {label} from {origin} is allowed (the origin reflected"
                    + (", with credentials)." if credentials else ")."),
                    "Allow only the exact origins in CORS_ORIGINS; never echo the Origin.",
                )

    # ---- X-Forwarded-For --------------------------------------------------------------------

    def check_forwarded_for(self) -> None:
        identity = self.environ.get("DOCTOR_IDENTITY")
        password = self.environ.get("DOCTOR_PASSWORD")
        if not identity or not password:
            self.report.skipped.append(
                (
                    "x-forwarded-for",
                    "set DOCTOR_IDENTITY and DOCTOR_PASSWORD of a test account: the doctor signs "
                    "in with a forged X-Forwarded-For and reads the address its session recorded",
                )
            )
            return
        browser = requests.Session()
        options: dict[str, Any] = {"timeout": TIMEOUT, "verify": self.verify}
        state = browser.get(self.base + "/api/auth/session", **options).json()
        headers = {
            "X-XSRF-TOKEN": state.get("csrf_token", ""),
            "Origin": self.base,
            "X-Forwarded-For": SPOOFED_ADDRESS,
        }
        login = browser.post(
            self.base + "/api/auth/login",
            json={"identity": identity, "password": password},
            headers=headers,
            **options,
        )
        if login.status_code != 200:
            self.report.skipped.append(
                ("x-forwarded-for", f"signing in as {identity} answered {login.status_code}")
            )
            return
        self._collect_cookies("POST /api/auth/login", login)
        listed = browser.get(self.base + "/api/auth/sessions", **options).json()
        current = [s for s in listed.get("sessions", []) if s.get("current")]
        csrf = login.json().get("csrf_token", "")
        browser.post(
            self.base + "/api/auth/logout",
            headers={"X-XSRF-TOKEN": csrf, "Origin": self.base},
            **options,
        )
        if current and current[0].get("ip") == SPOOFED_ADDRESS:
            self.report.find(
                "x-forwarded-for",
                f"The app recorded the forged X-Forwarded-For {SPOOFED_ADDRESS} as the client's "
                "address: anyone can dodge per-address rate limits and fake the audit trail.",
                "Have the proxy overwrite the header (proxy_set_header X-Forwarded-For "
                "$remote_addr) and set TRUSTED_PROXIES to the number of proxies, not more.",
            )

    # ---- what must not be public ------------------------------------------------------------

    def check_exposed(self) -> None:
        fallback = self.answers["page 404"]
        for path in METRICS_PATHS:
            answer = self.get(path)
            if answer.status_code == 200 and "# TYPE " in answer.text:
                self.report.find(
                    "exposed",
                    f"{path} serves Prometheus metrics to anyone.",
                    "Serve metrics on their own private listener (newsroom serve "
                    "--metrics-port, bound to 127.0.0.1) and never proxy that port.",
                )
        for path in DEV_PATHS:
            answer = self.get(path)
            # An SPA fallback answers any path with its page: only a different 200 is a route.
            if answer.status_code == 200 and answer.content != fallback.content:
                self.report.find(
                    "exposed",
                    f"{path} answers 200: development helpers are public.",
                    "Run with APP_ENV=production; development routes exist only in development.",
                )

    # ---- secrets ----------------------------------------------------------------------------

    def check_secrets(self) -> None:
        key = self.environ.get("SECRET_KEY")
        if key is None:
            self.report.skipped.append(
                ("secrets", "no SECRET_KEY here: run the doctor with the deployment's environment")
            )
            return
        problems = secret_problems("SECRET_KEY", key)
        fallbacks = [s for s in self.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if s]
        for position, fallback in enumerate(fallbacks, start=1):
            problems += secret_problems(f"SECRET_KEY_FALLBACKS entry {position}", fallback)
        for problem in problems:
            what, _, fix = problem.partition(": ")
            self.report.find("secrets", what + ".", fix or "Use a long random key.")


def _max_age(hsts: str) -> int | None:
    for part in hsts.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "max-age" and value.strip('"').isdigit():
            return int(value.strip('"'))
    return None


def _header_problems(headers: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """What is wrong with one answer's security headers, as (problem, fix) pairs."""
    if headers.get("X-Content-Type-Options", "").lower() != "nosniff":
        yield "No X-Content-Type-Options: nosniff", "Send it on every answer."
    csp = headers.get("Content-Security-Policy", "")
    if not csp:
        yield (
            "No Content-Security-Policy",
            "Send a CSP on every answer (default-src 'none' for non-pages).",
        )
    elif "'unsafe-inline'" in csp or "'unsafe-eval'" in csp:
        yield "The CSP allows 'unsafe-inline' or 'unsafe-eval'", "Remove the unsafe sources."
    framing = "frame-ancestors" in csp or headers.get("X-Frame-Options", "").upper() in (
        "DENY",
        "SAMEORIGIN",
    )
    if not framing:
        yield (
            "Other sites may frame the answer (no frame-ancestors, no X-Frame-Options)",
            "Add frame-ancestors 'none' to the CSP (and X-Frame-Options: DENY).",
        )
    policy = headers.get("Referrer-Policy", "").lower().split(",")[-1].strip()
    if policy not in PRIVATE_REFERRER_POLICIES:
        yield (
            "No private Referrer-Policy",
            "Send Referrer-Policy: strict-origin-when-cross-origin (or stricter).",
        )
    if "Cross-Origin-Opener-Policy" not in headers:
        yield "No Cross-Origin-Opener-Policy", "Send Cross-Origin-Opener-Policy: same-origin."
    if "Cross-Origin-Resource-Policy" not in headers:
        yield "No Cross-Origin-Resource-Policy", "Send Cross-Origin-Resource-Policy: same-origin."


def diagnose(base_url: str, *, verify: bool | str = True) -> Report:
    """Run every check against ``base_url``; raises ``requests.RequestException`` when nothing
    answers there at all."""
    return Doctor(base_url, verify=verify).run()
