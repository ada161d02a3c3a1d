"""Bastion's settings: typed, read once from ``app.config``, and refused when unsafe."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .security.origin import is_loopback, origin_of

DEVELOPMENT_ENVS = frozenset({"development", "testing"})

# Secrets that appear in tutorials and templates; a key equal to one of these is public.
PLACEHOLDER_SECRETS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "dev",
        "development",
        "default",
        "replace-me",
        "your-secret-key",
        "super-secret",
        "supersecret",
        "insecure",
        "test",
    }
)
MIN_SECRET_LENGTH = 32

# OWASP's floor for Argon2id (m=19 MiB, t=2, p=1); weaker parameters refuse to start.
OWASP_MIN_MEMORY_KIB = 19 * 1024
OWASP_MIN_TIME_COST = 2

DEFAULTS: dict[str, Any] = {
    "BASTION_ENV": "production",
    "BASTION_DATABASE_URL": None,
    "BASTION_REDIS_URL": None,
    "BASTION_PUBLIC_URL": "http://127.0.0.1:8000",
    "BASTION_CORS_ORIGINS": (),
    "BASTION_API_PREFIX": "/api",
    "BASTION_URL_PREFIX": "/api/auth",
    "BASTION_SESSION_COOKIE": "bastion_session",
    "BASTION_CSRF_COOKIE": "XSRF-TOKEN",
    "BASTION_CSRF_HEADERS": ("X-XSRF-TOKEN", "X-CSRF-Token"),
    "BASTION_SESSION_IDLE_TIMEOUT": 2 * 3600,
    "BASTION_SESSION_ABSOLUTE_TIMEOUT": 12 * 3600,
    "BASTION_REMEMBER_IDLE_TIMEOUT": 14 * 24 * 3600,
    "BASTION_REMEMBER_ABSOLUTE_TIMEOUT": 30 * 24 * 3600,
    "BASTION_SESSION_TOUCH_INTERVAL": 60,
    "BASTION_AUTH_MAX_BODY": 4 * 1024,
    "BASTION_API_MAX_BODY": 256 * 1024,
    "BASTION_PASSWORD_MIN_LENGTH": 8,
    "BASTION_PASSWORD_MAX_LENGTH": 256,
    "BASTION_COMMON_PASSWORDS": 10_000,
    "BASTION_ARGON2_TIME_COST": 3,
    "BASTION_ARGON2_MEMORY_COST": 64 * 1024,
    "BASTION_ARGON2_PARALLELISM": 4,
    "BASTION_LOGIN_LIMIT_PER_IDENTITY": "10/minute",
    "BASTION_LOGIN_LIMIT_PER_IP": "60/minute",
    "BASTION_REGISTER_LIMIT_PER_IP": "20/hour",
    "BASTION_RATELIMIT_PREFIX": "bastion",
    "BASTION_HSTS_MAX_AGE": 365 * 24 * 3600,
    "BASTION_CONTENT_SECURITY_POLICY": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    # Tokens for app clients (docs/tokens.md): short access JWTs, rotating refresh tokens.
    "BASTION_ACCESS_TOKEN_LIFETIME": 10 * 60,
    "BASTION_REFRESH_IDLE_TIMEOUT": 14 * 24 * 3600,
    "BASTION_REFRESH_ABSOLUTE_TIMEOUT": 30 * 24 * 3600,
    "BASTION_REFRESH_GRACE_PERIOD": 10,
    "BASTION_TOKEN_ISSUER": None,
    "BASTION_TOKEN_AUDIENCE": None,
    "BASTION_SIGNING_KEY_CACHE_TTL": 30,
    "BASTION_REAUTH_WINDOW": 10 * 60,
    "BASTION_OPENAPI_TITLE": "Bastion API",
    "BASTION_OPENAPI_VERSION": "1.0.0",
}


class UnsafeConfiguration(RuntimeError):
    """Raised at start-up when a setting would be unsafe outside development."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Refusing to start with unsafe settings:\n{lines}")


@dataclass(frozen=True)
class Settings:
    """Bastion's resolved settings; read with ``current_bastion().settings``."""

    env: str
    database_url: str
    redis_url: str | None
    public_url: str
    cors_origins: frozenset[str]
    api_prefix: str
    url_prefix: str
    session_cookie: str
    csrf_cookie: str
    csrf_headers: tuple[str, ...]
    session_idle_timeout: int
    session_absolute_timeout: int
    remember_idle_timeout: int
    remember_absolute_timeout: int
    session_touch_interval: int
    auth_max_body: int
    api_max_body: int
    password_min_length: int
    password_max_length: int
    common_passwords: int
    argon2_time_cost: int
    argon2_memory_cost: int
    argon2_parallelism: int
    login_limit_per_identity: str
    login_limit_per_ip: str
    register_limit_per_ip: str
    ratelimit_prefix: str
    hsts_max_age: int
    content_security_policy: str
    access_token_lifetime: int
    refresh_idle_timeout: int
    refresh_absolute_timeout: int
    refresh_grace_period: int
    token_issuer: str | None
    token_audience: str | None
    signing_key_cache_ttl: int
    reauth_window: int
    openapi_title: str
    openapi_version: str

    @property
    def development(self) -> bool:
        return self.env in DEVELOPMENT_ENVS

    @property
    def secure_cookies(self) -> bool:
        """Cookies get ``Secure`` and the ``__Host-`` prefix when users reach us over https."""
        return urlsplit(self.public_url).scheme == "https"

    @property
    def public_origin(self) -> str:
        return origin_of(self.public_url)

    @property
    def issuer(self) -> str:
        """The ``iss`` of our access tokens: ``BASTION_TOKEN_ISSUER`` or the public origin."""
        return self.token_issuer or self.public_origin

    @property
    def audience(self) -> str:
        """The ``aud`` of our access tokens: ``BASTION_TOKEN_AUDIENCE`` or the API's URL."""
        return self.token_audience or self.public_origin + self.api_prefix

    @property
    def session_cookie_name(self) -> str:
        # __Host- binds the cookie to our exact host and path /, so a sibling domain cannot set it.
        prefix = "__Host-" if self.secure_cookies else ""
        return prefix + self.session_cookie


def _parses(url: str) -> bool:
    try:
        origin_of(url)
    except ValueError:
        return False
    return True


def _as_origins(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    return tuple(v.strip() for v in value if v and v.strip())


def load_settings(config: Mapping[str, Any]) -> Settings:
    """Resolve ``BASTION_*`` keys over the defaults, then refuse unsafe values outside dev."""
    given = {k: v for k, v in config.items() if k.startswith("BASTION_")}
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:  # a misspelt security setting must not silently fall back to a default
        raise UnsafeConfiguration(
            [f"Unknown setting {name}: check its spelling." for name in unknown]
        )
    merged = {**DEFAULTS, **given}
    if not merged["BASTION_DATABASE_URL"]:
        raise UnsafeConfiguration(["BASTION_DATABASE_URL is not set: give a database URL."])
    raw_origins = _as_origins(merged["BASTION_CORS_ORIGINS"])
    malformed = [  # e.g. a port that is not a number: say which setting, not a bare ValueError
        f"{name} {url!r} is not a valid URL."
        for name, url in [
            ("BASTION_PUBLIC_URL", merged["BASTION_PUBLIC_URL"]),
            *(("CORS_ORIGINS entry", o) for o in raw_origins if o not in ("*", "null")),
        ]
        if not _parses(url)
    ]
    if malformed:
        raise UnsafeConfiguration(malformed)
    settings = Settings(
        **{
            key.removeprefix("BASTION_").lower(): value
            for key, value in merged.items()
            if key != "BASTION_CORS_ORIGINS"
        },
        cors_origins=frozenset(origin_of(o) if o not in ("*", "null") else o for o in raw_origins),
    )
    problems = unsafe_settings(settings, config.get("SECRET_KEY"))
    if problems and not settings.development:
        raise UnsafeConfiguration(problems)
    return settings


def unsafe_settings(settings: Settings, secret_key: Any) -> list[str]:
    """Every reason these settings are unsafe for production, each saying what to change."""
    problems: list[str] = []
    # Latin-1 reads any bytes, one character per byte: a random key (os.urandom) is rarely UTF-8.
    secret = (
        secret_key.decode("latin-1") if isinstance(secret_key, bytes) else str(secret_key or "")
    )
    if secret.strip().lower() in PLACEHOLDER_SECRETS:
        problems.append(
            "SECRET_KEY is missing or a well-known placeholder: set a random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    elif len(secret) < MIN_SECRET_LENGTH or len(set(secret)) < 12:
        problems.append(
            f"SECRET_KEY is too weak: use at least {MIN_SECRET_LENGTH} random characters."
        )
    for origin in settings.cors_origins:
        if origin in ("*", "null"):
            problems.append(
                f"CORS_ORIGINS contains {origin!r}: list exact origins such as "
                "https://app.example.com (credentials are never allowed for "
                "wildcards or null)."
            )
        elif urlsplit(origin).scheme not in ("http", "https") or not urlsplit(origin).hostname:
            problems.append(f"CORS_ORIGINS entry {origin!r} is not an http(s) origin.")
        elif urlsplit(origin).scheme == "http" and not is_loopback(urlsplit(origin).hostname):
            problems.append(f"CORS_ORIGINS entry {origin!r} uses plain http: use https.")
    public = urlsplit(settings.public_url)
    if public.scheme not in ("http", "https") or not public.hostname:
        problems.append(f"PUBLIC_URL {settings.public_url!r} is not an http(s) URL.")
    elif public.scheme == "http" and not is_loopback(public.hostname):
        problems.append(
            f"PUBLIC_URL {settings.public_url!r} is plain http on a public host: "
            "serve it over https so cookies can be Secure."
        )
    if (
        settings.argon2_memory_cost < OWASP_MIN_MEMORY_KIB
        or settings.argon2_time_cost < OWASP_MIN_TIME_COST
        or settings.argon2_parallelism < 1
    ):
        problems.append(
            "BASTION_ARGON2_* parameters are below OWASP's minimum "
            "(memory 19456 KiB, time cost 2, parallelism 1)."
        )
    if not 60 <= settings.access_token_lifetime <= 3600:
        # A bearer token cannot be recalled from a client; keep its life short.
        problems.append("BASTION_ACCESS_TOKEN_LIFETIME must be between 60 and 3600 seconds.")
    return problems
