"""Bastion's settings: each declared once, typed, read from ``app.config``, refused when unsafe."""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, get_origin, get_type_hints
from urllib.parse import urlsplit

from .coercion import convert, describe, items, optional
from .security.origin import is_loopback, origin_of

DEVELOPMENT_ENVS = frozenset({"development", "testing"})

# Words of tutorials and templates: a key containing one ("changeme-changeme-123",
# "my-super-secret-key") was typed by a person from an example, so others can guess it.
PLACEHOLDER_WORDS = (
    "changeme",
    "changeit",
    "replaceme",
    "secret",
    "password",
    "passwd",
    "example",
    "placeholder",
    "default",
    "insecure",
    "development",
    "yourkey",
    "notsafe",
)
# Whole keys too short to hold a word above, but as well known.
PLACEHOLDER_SECRETS = frozenset({"", "dev", "test", "key", "todo", "xxx"})
MIN_SECRET_LENGTH = 32

# A header name is an RFC 9110 token; anything else no browser sends, so listing it is a typo.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

# OWASP's floor for Argon2id (m=19 MiB, t=2, p=1); weaker parameters refuse to start.
OWASP_MIN_MEMORY_KIB = 19 * 1024
OWASP_MIN_TIME_COST = 2

PREFIX = "BASTION_"


class UnsafeConfiguration(RuntimeError):
    """Raised at start-up when a setting would be unsafe outside development."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Refusing to start with unsafe settings:\n{lines}")


def _setting(default: Any, doc: str, *, shown: str | None = None, seconds: bool = False) -> Any:
    """A field of :class:`Settings`: its default and its one-line meaning (a docs table row).

    ``shown`` replaces the default in the docs where the value alone would mislead or sprawl;
    ``seconds`` adds a readable duration next to it.
    """
    return field(default=default, metadata={"doc": doc, "shown": shown, "seconds": seconds})


@dataclass(frozen=True)
class Settings:
    """Bastion's resolved settings; read with ``current_bastion().settings``.

    Each field is the ``BASTION_*`` key of the same name (``session_idle_timeout`` is
    ``BASTION_SESSION_IDLE_TIMEOUT``), declared here once with its type, default and meaning.
    """

    env: str = _setting("production", "`development`/`testing` relax the start-up refusals above")
    database_url: str = _setting(
        "",
        "SQLAlchemy URL of the database holding users and sessions",
        shown="required",
    )
    redis_url: str | None = _setting(
        None, "Redis for rate-limit counters shared by every instance; memory otherwise"
    )
    public_url: str = _setting(
        "http://127.0.0.1:8000",
        "URL users reach; `https` turns on `Secure`, the `__Host-` session cookie and HSTS; "
        "its origin is trusted for unsafe requests",
    )
    cors_origins: frozenset[str] = _setting(
        frozenset(),
        "exact origins (`scheme://host[:port]`) allowed with credentials; "
        "comma-separated string or list",
    )
    cors_allow_headers: tuple[str, ...] = _setting(
        (),
        "request headers pages on `CORS_ORIGINS` may send besides the ones the API reads "
        "(`Content-Type`, the CSRF headers, `Authorization`, ...); names only, no `*`",
    )
    api_prefix: str = _setting("/api", "where `openapi.json` and `docs` live")
    url_prefix: str = _setting("/api/auth", "prefix of the auth endpoints")
    session_cookie: str = _setting(
        "bastion_session", "session cookie name (`__Host-` is prepended over https)"
    )
    csrf_cookie: str = _setting(
        "XSRF-TOKEN",
        "readable CSRF cookie (the Angular/Axios name; `__Host-` is prepended over https)",
    )
    csrf_headers: tuple[str, ...] = _setting(
        ("X-XSRF-TOKEN", "X-CSRF-Token"), "headers that may echo the CSRF token"
    )
    session_idle_timeout: int = _setting(
        2 * 3600, "seconds without a request before a session ends", seconds=True
    )
    session_absolute_timeout: int = _setting(
        12 * 3600, "seconds after sign-in when a session ends regardless", seconds=True
    )
    remember_idle_timeout: int = _setting(
        14 * 24 * 3600, 'idle timeout with "remember me"', seconds=True
    )
    remember_absolute_timeout: int = _setting(
        30 * 24 * 3600,
        'absolute timeout with "remember me" (also the cookie\'s `Max-Age`)',
        seconds=True,
    )
    session_touch_interval: int = _setting(
        60,
        "a session's `last_seen_at` is written at most this often "
        "(idle timeouts are precise to this)",
        seconds=True,
    )
    auth_max_body: int = _setting(
        4 * 1024, "largest body the auth endpoints read (bytes); larger is 413"
    )
    api_max_body: int = _setting(256 * 1024, "largest body other JSON endpoints read")
    password_min_length: int = _setting(8, "shortest password (Unicode code points after NFKC)")
    password_max_length: int = _setting(256, "longest password; checked before hashing")
    common_passwords: int = _setting(
        10_000, "refuse the N most common leaked passwords (zxcvbn's list)"
    )
    password_refused_words: tuple[str, ...] = _setting(
        (),
        "words a password must not be, such as your service's name; `bastion` and the names of"
        " the public host always are",
    )
    password_hash_concurrency: int = _setting(
        2,
        "Argon2 hashes one process runs at once (each takes `argon2_memory_cost`); beyond it,"
        " a short wait, then 503",
    )
    argon2_time_cost: int = _setting(3, "Argon2id iterations (floor 2)")
    argon2_memory_cost: int = _setting(64 * 1024, "Argon2id memory in KiB (floor 19456)")
    argon2_parallelism: int = _setting(
        4, "Argon2id lanes (floor 1); hashes are upgraded at the next sign-in when these change"
    )
    login_limit_per_identity: str = _setting("10/minute", "failed sign-ins per account before 429")
    login_limit_per_ip: str = _setting("60/minute", "sign-in attempts per client address")
    register_limit_per_ip: str = _setting("20/hour", "registrations per client address")
    passkey_limit_per_ip: str = _setting(
        "60/minute", "passkey sign-in requests (options and assertions) per client address"
    )
    ratelimit_prefix: str = _setting(
        "bastion", "key prefix in Redis (several apps can share one Redis)"
    )
    hsts_max_age: int = _setting(
        365 * 24 * 3600, "HSTS max-age when `PUBLIC_URL` is https", seconds=True
    )
    content_security_policy: str = _setting(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'",
        "CSP for HTML pages that do not set their own (other answers get "
        "`default-src 'none'; frame-ancestors 'none'`)",
        shown="`default-src 'none'; script-src 'self'; ...; frame-ancestors 'none'`",
    )
    # Tokens for app clients (docs/tokens.md): short access JWTs, rotating refresh tokens.
    access_token_lifetime: int = _setting(
        10 * 60,
        "lifetime of an access JWT (60 to 3600 outside development); see [tokens.md](tokens.md)",
        seconds=True,
    )
    refresh_idle_timeout: int = _setting(
        14 * 24 * 3600,
        "an app session ends when its refresh token is not used for this long",
        seconds=True,
    )
    refresh_absolute_timeout: int = _setting(
        30 * 24 * 3600,
        "an app session ends this long after sign-in, however often it refreshes",
        seconds=True,
    )
    refresh_grace_period: int = _setting(
        10,
        "seconds in which re-presenting a just-rotated refresh token is a lost race "
        "(401, family kept), not a replay (family revoked)",
        seconds=True,
    )
    token_issuer: str | None = _setting(None, "`iss` of access tokens", shown="public origin")
    token_audience: str | None = _setting(
        None, "`aud` of access tokens", shown="public origin + API prefix"
    )
    signing_key_cache_ttl: int = _setting(
        30,
        "seconds each process caches the signing keys; a rotated key signs only after this "
        "delay, so every instance knows it first",
        seconds=True,
    )
    reauth_window: int = _setting(
        10 * 60,
        "how recent a sign-in (or `POST /api/auth/reauth`) must be to end other sessions",
        seconds=True,
    )
    # Mail (docs/mail.md): an outbox written with the change that causes a mail, and a sender.
    mail_url: str | None = _setting(
        None,
        "SMTP server: `smtp://host:port` (plain: loopback only outside development), "
        "`smtp+starttls://user:pass@host:587` or `smtps://user:pass@host:465`; required outside "
        "development; unset in development, mails stay in the outbox (`/dev/mail`)",
    )
    mail_from: str | None = _setting(
        None, "the `From` address of every mail", shown="`no-reply@` + the public host"
    )
    mail_app_name: str | None = _setting(
        None, "the name mails sign with (`app_name` in mail templates)", shown="the public host"
    )
    mail_ca_file: str | None = _setting(
        None,
        "CA certificates (PEM) that the SMTP server's certificate must chain to",
        shown="the system's",
    )
    mail_timeout: int = _setting(20, "seconds an SMTP connection or command may take", seconds=True)
    mail_retry_for: int = _setting(
        24 * 3600,
        "a mail the server keeps refusing for the moment is retried this long, then `failed`",
        seconds=True,
    )
    mail_poll_interval: int = _setting(
        2, "seconds the background sender waits between looks at the outbox", seconds=True
    )
    prune_interval: int = _setting(
        3600,
        "seconds between prunes of dead sessions and tokens in each serving process "
        "(`flask_bastion.prune`); 0 turns the periodic run off",
        seconds=True,
    )
    # The account lifecycle by email (docs/accounts.md).
    email_confirmation: str = _setting(
        "required",
        "`required`: sign-in waits for the emailed link; `optional`: sign-in at once, the link "
        "is mailed; `off`: nothing is mailed",
    )
    confirm_token_lifetime: int = _setting(
        3 * 24 * 3600, "how long an email confirmation link works", seconds=True
    )
    reset_token_lifetime: int = _setting(
        30 * 60,
        "how long a password reset link works (and until the password changes)",
        seconds=True,
    )
    email_change_token_lifetime: int = _setting(
        24 * 3600, "how long the link that applies an email change works", seconds=True
    )
    signin_code_lifetime: int = _setting(
        10 * 60, "how long an emailed sign-in code works (single use, 5 tries)", seconds=True
    )
    mail_limit_per_ip: str = _setting(
        "30/hour",
        "requests to mail-sending endpoints (register, resend, forgot, code, email change) "
        "per client address",
    )
    mail_limit_per_address: str = _setting(
        "5/hour",
        "mails those endpoints send to one address or account, counted whether or not "
        "it has an account",
    )
    account_mail_min_duration: float = _setting(
        0.25,
        "seconds register, resend, forgot and code request take at least, so the time of an "
        "answer does not tell whether the account exists",
    )
    # Second factor (docs/mfa.md).
    mfa_challenge_lifetime: int = _setting(
        5 * 60,
        "how long a sign-in waits for its second factor after the password or code (5 tries)",
        seconds=True,
    )
    mfa_limit_per_ip: str = _setting(
        "30/minute", "second-factor codes (`/mfa/verify`, `mfa_token` grants) per client address"
    )
    mfa_limit_per_account: str = _setting(
        "20/hour",
        "wrong second-factor codes per account, across its pending sign-ins, before 429",
    )
    spa_url: str = _setting(
        "",
        "where the SPA lives: a path on `PUBLIC_URL` or an absolute URL of an allowed origin; "
        "the views below are under it",
        shown="`{PUBLIC_URL}/app`",
    )
    post_confirm_view: str = _setting("/confirmed", "SPA view after an email is confirmed")
    confirm_error_view: str = _setting("/confirm-error", "SPA view for a bad confirm link")
    reset_view: str = _setting(
        "/reset-password", "SPA view that sets a new password (the token in the fragment)"
    )
    reset_error_view: str = _setting("/reset-password-error", "SPA view for a bad reset link")
    post_email_change_view: str = _setting(
        "/email-changed", "SPA view after an email change is applied"
    )
    email_change_error_view: str = _setting(
        "/email-change-error", "SPA view for a bad email-change link"
    )
    login_error_view: str = _setting(
        "/login-error", "SPA view for a sign-in that failed away from the SPA"
    )
    # Security events (docs/security-events.md).
    security_event_retention: int = _setting(
        365 * 24 * 3600,
        "security events older than this are pruned (`flask_bastion.prune`); 0 keeps them",
        seconds=True,
    )
    security_events_admin_role: str = _setting(
        "admin", "the role that may read every user's events (`GET /api/admin/security-events`)"
    )
    openapi_title: str = _setting("Bastion API", "title of the OpenAPI document")
    openapi_version: str = _setting("1.0.0", "version of the OpenAPI document")

    @property
    def development(self) -> bool:
        return self.env in DEVELOPMENT_ENVS

    @property
    def public_host(self) -> str:
        return urlsplit(self.public_url).hostname or "localhost"

    @property
    def sender_address(self) -> str:
        """The ``From`` of every mail: ``BASTION_MAIL_FROM`` or ``no-reply@`` the public host."""
        return self.mail_from or f"no-reply@{self.public_host}"

    @property
    def app_name(self) -> str:
        """The name mails sign with: ``BASTION_MAIL_APP_NAME`` or the public host."""
        return self.mail_app_name or self.public_host

    @property
    def secure_cookies(self) -> bool:
        """Cookies get ``Secure`` and the ``__Host-`` prefix when users reach us over https."""
        return urlsplit(self.public_url).scheme == "https"

    @property
    def public_origin(self) -> str:
        return origin_of(self.public_url)

    @property
    def spa_base_url(self) -> str:
        """The SPA's absolute URL, without a trailing slash: ``SPA_URL`` or ``PUBLIC_URL/app``."""
        base = self.spa_url or "/app"
        if base.startswith("/"):
            base = self.public_url.rstrip("/") + base
        return base.rstrip("/")

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

    @property
    def csrf_cookie_name(self) -> str:
        """The CSRF cookie as set: ``__Host-`` prepended over https, as for the session cookie.

        A sibling subdomain then cannot plant one; clients reading ``XSRF-TOKEN`` by name read
        this name over https (or the ``csrf_token`` of the JSON answers).
        """
        prefix = "__Host-" if self.secure_cookies else ""
        return prefix + self.csrf_cookie


def key_of(name: str) -> str:
    """The ``app.config`` key of a :class:`Settings` field: ``BASTION_`` + its upper-case name."""
    return PREFIX + name.upper()


_TYPES: dict[str, Any] = get_type_hints(Settings)
DEFAULTS: Mapping[str, Any] = types.MappingProxyType(
    {key_of(f.name): f.default for f in fields(Settings)}
)


def _refusal(key: str, value: Any, kind: Any) -> str:
    # A string is shown (it failed to parse as a number or flag, so it is no secret); any other
    # value only by its type, so a URL with a password in it never reaches a log.
    got = repr(value) if isinstance(value, str) or value is None else type(value).__name__
    return f"{key} must be {describe(kind)}, not {got}."


def coerce(key: str, value: Any, kind: Any) -> Any:
    """:func:`convert` for one setting outside :class:`Settings` (an app's own variable).

    Raises :class:`UnsafeConfiguration` naming ``key`` and the type it wants.
    """
    try:
        return convert(value, kind)
    except ValueError:
        raise UnsafeConfiguration([_refusal(key, value, kind)]) from None


# ---- loading ------------------------------------------------------------------------------------


def _parses(url: str) -> bool:
    try:
        origin_of(url)
    except ValueError:
        return False
    return True


def load_settings(config: Mapping[str, Any]) -> Settings:
    """Resolve ``BASTION_*`` keys over the defaults, then refuse unsafe values outside dev.

    Values given as strings (as environment variables are) are converted to the setting's type;
    one that is not of the type refuses to start, naming the key and the type it wants.
    """
    given = {k: v for k, v in config.items() if k.startswith(PREFIX)}
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:  # a misspelt security setting must not silently fall back to a default
        raise UnsafeConfiguration(
            [f"Unknown setting {name}: check its spelling." for name in unknown]
        )
    merged = {**DEFAULTS, **given}
    if not merged["BASTION_DATABASE_URL"]:
        raise UnsafeConfiguration(["BASTION_DATABASE_URL is not set: give a database URL."])
    values: dict[str, Any] = {}
    wrong: list[str] = []
    for f in fields(Settings):
        key, kind = key_of(f.name), _TYPES[f.name]
        try:
            values[f.name] = convert(merged[key], kind)
        except ValueError:
            wrong.append(_refusal(key, merged[key], kind))
    if wrong:
        raise UnsafeConfiguration(wrong)
    raw_origins = items(merged["BASTION_CORS_ORIGINS"])  # in the given order, for the messages
    malformed = [  # e.g. a port that is not a number: say which setting, not a bare ValueError
        f"{name} {url!r} is not a valid URL."
        for name, url in [
            ("BASTION_PUBLIC_URL", values["public_url"]),
            *(("CORS_ORIGINS entry", o) for o in raw_origins if o not in ("*", "null")),
        ]
        if not _parses(url)
    ]
    malformed += _bad_header_names(values["cors_allow_headers"])
    malformed += _mail_checks().malformed_mail_url(values["mail_url"])
    if malformed:
        raise UnsafeConfiguration(malformed)
    values["cors_origins"] = frozenset(
        origin_of(o) if o not in ("*", "null") else o for o in raw_origins
    )
    settings = Settings(**values)
    wrong = _account_problems(settings)
    if wrong:  # an open redirect or an unknown mode is a mistake in any environment
        raise UnsafeConfiguration(wrong)
    problems = unsafe_settings(
        settings,
        config.get("SECRET_KEY"),
        config.get("SECRET_KEY_FALLBACKS"),
        debug=bool(config.get("DEBUG")),
    )
    if problems and not settings.development:
        raise UnsafeConfiguration(problems)
    return settings


EMAIL_CONFIRMATION_MODES = ("required", "optional", "off")
# The settings naming an SPA view that an email link redirects to (docs/accounts.md).
SPA_VIEWS = (
    "post_confirm_view",
    "confirm_error_view",
    "reset_view",
    "reset_error_view",
    "post_email_change_view",
    "email_change_error_view",
    "login_error_view",
)


def _is_spa_path(value: str) -> bool:
    # A plain path: "//host" would be another site, and a query or fragment is ours to add.
    return value.startswith("/") and not value.startswith("//") and not set(value) & set("?#\\")


def allowed_redirect_origins(settings: Settings) -> frozenset[str]:
    """Where an email link may send a browser: our public origin and the allowed CORS origins."""
    return frozenset({settings.public_origin, *settings.cors_origins} - {"*", "null"})


def _redirect_target_problem(key: str, value: str, settings: Settings) -> str | None:
    if _is_spa_path(value):
        return None
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname and not parts.query + parts.fragment:
        if _parses(value) and origin_of(value) in allowed_redirect_origins(settings):
            return None
        return (
            f"{key} {value!r} is on an origin that is neither PUBLIC_URL's nor in CORS_ORIGINS:"
            " an email link must not send people to another site."
        )
    return f"{key} {value!r} must be a path such as /confirmed or an absolute http(s) URL."


def _account_problems(settings: Settings) -> list[str]:
    """Refusals for the account settings: the confirmation mode and the SPA redirect targets."""
    problems: list[str] = []
    if settings.email_confirmation not in EMAIL_CONFIRMATION_MODES:
        problems.append(
            f"BASTION_EMAIL_CONFIRMATION must be one of {', '.join(EMAIL_CONFIRMATION_MODES)},"
            f" not {settings.email_confirmation!r}."
        )
    if settings.security_event_retention < 0:
        problems.append("BASTION_SECURITY_EVENT_RETENTION must be 0 (keep) or more seconds.")
    if settings.spa_url:
        problem = _redirect_target_problem("BASTION_SPA_URL", settings.spa_url, settings)
        problems += [problem] if problem else []
    for name in SPA_VIEWS:
        problem = _redirect_target_problem(key_of(name), getattr(settings, name), settings)
        problems += [problem] if problem else []
    return problems


def _bad_header_names(names: tuple[str, ...]) -> list[str]:
    """Refusals for ``BASTION_CORS_ALLOW_HEADERS`` entries that are not header names."""
    problems: list[str] = []
    for name in names:
        if name == "*":
            # With credentials, browsers read "*" as a header literally named "*", not as "any":
            # it would allow nothing while looking like it allows everything.
            problems.append(
                "BASTION_CORS_ALLOW_HEADERS contains '*': name each header (with credentials, "
                "browsers do not read '*' as a wildcard)."
            )
        elif not HEADER_NAME.fullmatch(name):
            problems.append(f"BASTION_CORS_ALLOW_HEADERS entry {name!r} is not a header name.")
    return problems


def _mail_checks() -> types.ModuleType:
    # Imported when called: the mail package builds on this module's Settings.
    from .mail import url

    return url


def is_placeholder_secret(secret: str) -> bool:
    """Whether a key is one people copy from examples: a known one, or one with a tutorial
    word in it (compared on its letters and digits, so "Change_Me" is "changeme")."""
    letters = "".join(c for c in secret.lower() if c.isalnum())
    if secret.strip().lower() in PLACEHOLDER_SECRETS or not letters:
        return True
    return any(word in letters for word in PLACEHOLDER_WORDS)


def is_repetitive_secret(secret: str) -> bool:
    """Whether a key is one piece said twice or more ("k9Qw...k9Qw..."): however long, it is
    only as strong as that piece."""
    return any(
        secret == (secret[:size] * (len(secret) // size + 1))[: len(secret)]
        for size in range(1, len(secret) // 2 + 1)
    )


def secret_problems(name: str, value: Any) -> list[str]:
    """Why the key ``value`` (called ``name`` in the messages) is unsafe: none when it is fine.

    The rule start-up refuses by; ``newsroom doctor`` applies it to its own environment.
    """
    # Latin-1 reads any bytes, one character per byte: a random key (os.urandom) is rarely UTF-8.
    secret = value.decode("latin-1") if isinstance(value, bytes) else str(value or "")
    if is_placeholder_secret(secret):
        return [
            f"{name} is missing or a well-known placeholder: set a random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        ]
    if len(secret) < MIN_SECRET_LENGTH or len(set(secret)) < 12 or is_repetitive_secret(secret):
        return [f"{name} is too weak: use at least {MIN_SECRET_LENGTH} random characters."]
    return []


def unsafe_settings(
    settings: Settings,
    secret_key: Any,
    fallbacks: Any = (),
    *,
    debug: bool = False,
) -> list[str]:
    """Every reason these settings are unsafe for production, each saying what to change.

    ``fallbacks`` are the ``SECRET_KEY_FALLBACKS``: they still verify signatures, so each must
    be as strong as the key itself. ``debug`` is Flask's debug mode.
    """
    problems = secret_problems("SECRET_KEY", secret_key)
    for position, fallback in enumerate(fallbacks or (), start=1):
        problems += secret_problems(f"SECRET_KEY_FALLBACKS entry {position}", fallback)
    if debug:
        # The debugger runs any Python a visitor types into a traceback page.
        problems.append(
            "Debug mode is on (FLASK_DEBUG=1 or app.debug): it serves the Werkzeug debugger. "
            "Unset FLASK_DEBUG and serve with a production server (newsroom serve)."
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
    problems += _mail_checks().unsafe_mail_settings(settings)
    if not 60 <= settings.access_token_lifetime <= 3600:
        # A bearer token cannot be recalled from a client; keep its life short.
        problems.append("BASTION_ACCESS_TOKEN_LIFETIME must be between 60 and 3600 seconds.")
    return problems


# ---- the settings table of docs/configuration.md --------------------------------------------


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _shown_default(f: Any) -> str:
    if f.metadata["shown"] is not None:
        return str(f.metadata["shown"])
    value = f.default
    if isinstance(value, tuple | frozenset):
        return ", ".join(f"`{v}`" for v in value) or "empty"
    if f.metadata["seconds"] and value >= 600:  # short ones read plainly in seconds
        return f"`{value}` ({_duration(value)})"
    return f"`{value}`"


def _type_name(kind: Any) -> str:
    inner = optional(kind)
    if inner is not None:
        return f"{_type_name(inner)} or none"
    if get_origin(kind) in (tuple, frozenset):
        return "list"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}[kind]


def settings_table() -> str:
    """The Markdown table of every setting (key, type, default, meaning), as the docs show it."""
    rows = [
        "| key | type | default | meaning |",
        "| --- | --- | --- | --- |",
        *(
            f"| `{key_of(f.name)}` | {_type_name(_TYPES[f.name])} | {_shown_default(f)} "
            f"| {f.metadata['doc']} |"
            for f in fields(Settings)
        ),
    ]
    return "\n".join(rows) + "\n"
