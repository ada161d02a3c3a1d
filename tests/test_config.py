"""Configuration fails closed: outside development, each unsafe setting refuses to start."""

from __future__ import annotations

import secrets
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_bastion import Bastion, Settings, UnsafeConfiguration
from flask_bastion.coercion import convert
from flask_bastion.config import DEFAULTS, coerce, key_of, load_settings
from newsroom import create_app, settings

STRONG = secrets.token_urlsafe(48)
OWASP_ARGON2 = {
    "BASTION_ARGON2_TIME_COST": 2,
    "BASTION_ARGON2_MEMORY_COST": 19 * 1024,
    "BASTION_ARGON2_PARALLELISM": 1,
}


def production(database_url: str = "sqlite://", **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "SECRET_KEY": STRONG,
        "BASTION_ENV": "production",
        "BASTION_DATABASE_URL": database_url,
        "BASTION_PUBLIC_URL": "https://news.example.com",
        "BASTION_CORS_ORIGINS": "https://app.example.com",
        "BASTION_MAIL_URL": "smtp://127.0.0.1:25",
        **OWASP_ARGON2,
    }
    config.update(overrides)
    return config


def build(config: dict[str, Any]) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    Bastion(app)
    app.extensions["bastion"].db.dispose()
    return app


def test_a_safe_production_config_starts() -> None:
    app = build(production())
    settings = app.extensions["bastion"].settings
    assert settings.secure_cookies and settings.session_cookie_name == "__Host-bastion_session"


UNSAFE = [
    ({"SECRET_KEY": None}, "SECRET_KEY is missing or a well-known placeholder"),
    ({"SECRET_KEY": ""}, "SECRET_KEY is missing or a well-known placeholder"),
    ({"SECRET_KEY": "changeme"}, "SECRET_KEY is missing or a well-known placeholder"),
    ({"SECRET_KEY": "CHANGEME "}, "SECRET_KEY is missing or a well-known placeholder"),
    ({"SECRET_KEY": "secret"}, "SECRET_KEY is missing or a well-known placeholder"),
    ({"SECRET_KEY": "dev"}, "SECRET_KEY is missing or a well-known placeholder"),
    ({"SECRET_KEY": "a-short-key"}, "SECRET_KEY is too weak"),
    ({"SECRET_KEY": "ab" * 32}, "SECRET_KEY is too weak"),  # long but only two characters
    # Placeholders are found by their words, whatever the case, separators or padding.
    ({"SECRET_KEY": "changeme-changeme-changeme-123"}, "SECRET_KEY is missing or a well-known"),
    ({"SECRET_KEY": "My-Super-Secret-Key-For-Production-2026!"}, "SECRET_KEY is missing"),
    ({"SECRET_KEY": "Password_Password_Password_Password_1"}, "SECRET_KEY is missing"),
    ({"SECRET_KEY": "https://example.com/not-a-real-key/0123456789"}, "SECRET_KEY is missing"),
    ({"SECRET_KEY": "k9Qw2!Zp7Lm4Xy8R" * 3}, "SECRET_KEY is too weak"),  # one piece, repeated
    ({"SECRET_KEY_FALLBACKS": ["changeme"]}, "SECRET_KEY_FALLBACKS entry 1 is missing"),
    ({"SECRET_KEY_FALLBACKS": [STRONG, "short"]}, "SECRET_KEY_FALLBACKS entry 2 is too weak"),
    ({"SECRET_KEY_FALLBACKS": ["abcd" * 12]}, "SECRET_KEY_FALLBACKS entry 1 is too weak"),
    ({"DEBUG": True}, "Debug mode is on (FLASK_DEBUG=1 or app.debug)"),
    ({"BASTION_CORS_ORIGINS": "*"}, "CORS_ORIGINS contains '*'"),
    ({"BASTION_CORS_ORIGINS": "null"}, "CORS_ORIGINS contains 'null'"),
    ({"BASTION_CORS_ORIGINS": "https://a.example, *"}, "CORS_ORIGINS contains '*'"),
    ({"BASTION_CORS_ORIGINS": "http://app.example.com"}, "uses plain http: use https"),
    ({"BASTION_CORS_ORIGINS": "ftp://app.example.com"}, "is not an http(s) origin"),
    ({"BASTION_PUBLIC_URL": "http://news.example.com"}, "PUBLIC_URL 'http://news.example.com'"),
    ({"BASTION_PUBLIC_URL": "http://10.0.0.5:8000"}, "plain http on a public host"),
    ({"BASTION_PUBLIC_URL": "news.example.com"}, "is not an http(s) URL"),
    ({"BASTION_ARGON2_MEMORY_COST": 1024}, "BASTION_ARGON2_* parameters are below OWASP"),
    ({"BASTION_ARGON2_TIME_COST": 1}, "BASTION_ARGON2_* parameters are below OWASP"),
    ({"BASTION_ARGON2_PARALLELISM": 0}, "BASTION_ARGON2_* parameters are below OWASP"),
]


@pytest.mark.parametrize(("overrides", "message"), UNSAFE)
def test_production_refuses_unsafe_settings(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(UnsafeConfiguration) as refused:
        build(production(**overrides))
    assert len(refused.value.problems) == 1
    assert message in refused.value.problems[0]
    assert str(refused.value).startswith("Refusing to start with unsafe settings:")
    assert message in str(refused.value)


def test_secret_problems_say_how_to_make_a_good_key() -> None:
    with pytest.raises(UnsafeConfiguration) as refused:
        build(production(SECRET_KEY="changeme"))
    assert "secrets.token_urlsafe" in str(refused.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(UnsafeConfiguration) as refused:
        build(
            production(
                SECRET_KEY="changeme",
                BASTION_CORS_ORIGINS="*",
                BASTION_PUBLIC_URL="http://news.example.com",
                BASTION_ARGON2_MEMORY_COST=1024,
            )
        )
    problems = refused.value.problems
    assert len(problems) == 4
    for name in ("SECRET_KEY", "CORS_ORIGINS", "PUBLIC_URL", "BASTION_ARGON2"):
        assert any(name in p for p in problems), name


@pytest.mark.parametrize("env", ["development", "testing"])
@pytest.mark.parametrize(("overrides", "message"), [u for u in UNSAFE if u[0].get("SECRET_KEY", 1)])
def test_development_allows_them(env: str, overrides: dict[str, Any], message: str) -> None:
    app = build(production(BASTION_ENV=env, **overrides))
    assert app.extensions["bastion"].settings.development


@pytest.mark.parametrize(
    "public_url",
    ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000", "http://app.localhost"],
)
def test_http_is_allowed_on_loopback_in_production(public_url: str) -> None:
    app = build(production(BASTION_PUBLIC_URL=public_url, BASTION_CORS_ORIGINS=""))
    assert not app.extensions["bastion"].settings.secure_cookies


@pytest.mark.parametrize("env", ["production", "development"])
@pytest.mark.parametrize("key", ["BASTION_SESION_COOKIE", "BASTION_CORS_ORIGIN", "BASTION_CSRF"])
def test_unknown_bastion_keys_are_refused_everywhere(env: str, key: str) -> None:
    with pytest.raises(UnsafeConfiguration) as refused:
        build(production(BASTION_ENV=env, **{key: "x"}))
    assert refused.value.problems == [f"Unknown setting {key}: check its spelling."]


def test_a_missing_database_url_is_refused() -> None:
    with pytest.raises(UnsafeConfiguration, match="BASTION_DATABASE_URL is not set"):
        load_settings({"BASTION_ENV": "development"})


def test_production_is_the_default_env() -> None:
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        build({"BASTION_DATABASE_URL": "sqlite://", "SECRET_KEY": "changeme"})


# ---- newsroom: the environment variables -------------------------------------------------------


def environment(tmp_path: Any, **extra: str) -> dict[str, str]:
    return {
        "APP_ENV": "production",
        "SECRET_KEY": STRONG,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}",
        "PUBLIC_URL": "http://127.0.0.1:8000",
        "MAIL_URL": "smtp://127.0.0.1:25",
        **extra,
    }


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY is missing"),
        ({"SECRET_KEY": "changeme"}, "SECRET_KEY is missing or a well-known placeholder"),
        ({"CORS_ORIGINS": "*"}, "CORS_ORIGINS contains '*'"),
        ({"PUBLIC_URL": "http://news.example.com"}, "PUBLIC_URL"),
    ],
)
def test_newsroom_refuses_unsafe_environment(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], message: str
) -> None:
    for name, value in environment(tmp_path, **variables).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(UnsafeConfiguration, match=message):
        create_app()


def test_newsroom_defaults_to_production(tmp_path: Any) -> None:
    env = environment(tmp_path)
    del env["APP_ENV"]
    assert settings.from_env(env)["BASTION_ENV"] == "production"
    env["SECRET_KEY"] = ""
    assert settings.from_env(env)["SECRET_KEY"] in ("", None)  # never generated outside dev


def test_newsroom_generates_and_keeps_a_development_key(tmp_path: Any) -> None:
    env = {"APP_ENV": "development", "NEWSROOM_VAR_DIR": str(tmp_path / "var")}
    first = settings.from_env(env)["SECRET_KEY"]
    assert len(first) >= 32
    assert settings.from_env(env)["SECRET_KEY"] == first
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_newsroom_database_urls_get_a_driver(given: str, expected: str) -> None:
    assert settings.database_url({"DATABASE_URL": given}) == expected


def test_newsroom_default_database_is_sqlite_under_var(tmp_path: Any) -> None:
    url = settings.database_url({"NEWSROOM_VAR_DIR": str(tmp_path)})
    assert url == f"sqlite:///{tmp_path / 'newsroom.db'}"


def test_secret_key_fallbacks_come_from_the_environment(tmp_path: Any) -> None:
    env = environment(tmp_path, SECRET_KEY_FALLBACKS="old-one,older-one")
    assert settings.from_env(env)["SECRET_KEY_FALLBACKS"] == ["old-one", "older-one"]


@pytest.mark.parametrize("env", ["production", "development"])
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"BASTION_CORS_ORIGINS": "https://app.example.com:abc"},
            "CORS_ORIGINS entry 'https://app.example.com:abc' is not a valid URL.",
        ),
        (
            {"BASTION_CORS_ORIGINS": "http://[::1"},
            "CORS_ORIGINS entry 'http://[::1' is not a valid URL.",
        ),
        (
            {"BASTION_PUBLIC_URL": "https://news.example.com:99999"},
            "BASTION_PUBLIC_URL 'https://news.example.com:99999' is not a valid URL.",
        ),
    ],
)
def test_malformed_urls_are_refused_by_name(
    env: str, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(UnsafeConfiguration) as refused:
        build(production(BASTION_ENV=env, **overrides))
    assert refused.value.problems == [message]


def test_ratelimit_prefix_comes_from_the_environment(tmp_path: Any) -> None:
    assert settings.from_env(environment(tmp_path))["BASTION_RATELIMIT_PREFIX"] == "bastion"
    env = environment(tmp_path, RATELIMIT_PREFIX="newsroom-eu")
    assert settings.from_env(env)["BASTION_RATELIMIT_PREFIX"] == "newsroom-eu"


# ---- types: each setting converted from a string, or refused by name ---------------------------


def _as_string(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple | frozenset):
        return ",".join(value)
    return str(value)


def test_every_setting_loads_the_same_from_its_string_form() -> None:
    base = {"BASTION_ENV": "testing", "BASTION_DATABASE_URL": "sqlite://"}
    typed = load_settings({**DEFAULTS, **base})
    as_strings = {key: _as_string(value) for key, value in DEFAULTS.items()}
    from_strings = load_settings({**as_strings, **base})
    assert from_strings == typed
    assert typed == replace(Settings(), env="testing", database_url="sqlite://")


@pytest.mark.parametrize(
    ("key", "given", "attribute", "expected"),
    [
        ("BASTION_SESSION_IDLE_TIMEOUT", "7200", "session_idle_timeout", 7200),
        ("BASTION_SESSION_IDLE_TIMEOUT", " 900 ", "session_idle_timeout", 900),
        ("BASTION_ARGON2_PARALLELISM", "2", "argon2_parallelism", 2),
        ("BASTION_CSRF_HEADERS", "X-One, X-Two", "csrf_headers", ("X-One", "X-Two")),
        ("BASTION_CSRF_HEADERS", ["X-One", " X-Two "], "csrf_headers", ("X-One", "X-Two")),
        ("BASTION_CSRF_HEADERS", "X-One,,", "csrf_headers", ("X-One",)),
        ("BASTION_CORS_ORIGINS", ("https://a.example",), "cors_origins", {"https://a.example"}),
        ("BASTION_REDIS_URL", None, "redis_url", None),
        ("BASTION_TOKEN_AUDIENCE", "news", "token_audience", "news"),
    ],
)
def test_strings_and_lists_are_converted_to_the_setting_type(
    key: str, given: Any, attribute: str, expected: Any
) -> None:
    loaded = getattr(load_settings(production(**{key: given})), attribute)
    assert loaded == expected
    assert type(loaded) is type(expected) or isinstance(loaded, frozenset)


@pytest.mark.parametrize("env", ["production", "development"])
@pytest.mark.parametrize(
    ("key", "given", "message"),
    [
        ("BASTION_SESSION_IDLE_TIMEOUT", "2h", "must be an integer, not '2h'."),
        ("BASTION_SESSION_IDLE_TIMEOUT", "7200.0", "must be an integer, not '7200.0'."),
        ("BASTION_SESSION_IDLE_TIMEOUT", "", "must be an integer, not ''."),
        ("BASTION_SESSION_IDLE_TIMEOUT", 7200.0, "must be an integer, not float."),
        ("BASTION_SESSION_IDLE_TIMEOUT", True, "must be an integer, not bool."),
        ("BASTION_SESSION_IDLE_TIMEOUT", None, "must be an integer, not None."),
        ("BASTION_OPENAPI_TITLE", 3, "must be a string, not int."),
        ("BASTION_PUBLIC_URL", None, "must be a string, not None."),
        ("BASTION_TOKEN_ISSUER", 1, "must be a string or None, not int."),
        (
            "BASTION_CSRF_HEADERS",
            7,
            "must be a list of strings or a comma-separated string, not int.",
        ),
        (
            "BASTION_CORS_ORIGINS",
            ["https://a.example", None],
            "must be a list of strings or a comma-separated string, not list.",
        ),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_by_name(
    env: str, key: str, given: Any, message: str
) -> None:
    with pytest.raises(UnsafeConfiguration) as refused:
        build(production(BASTION_ENV=env, **{key: given}))
    assert refused.value.problems == [f"{key} {message}"]


def test_a_secret_in_a_url_of_the_wrong_type_is_not_repeated() -> None:
    with pytest.raises(UnsafeConfiguration) as refused:
        load_settings(production(BASTION_REDIS_URL=b"redis://:hunter2@cache"))
    assert refused.value.problems == ["BASTION_REDIS_URL must be a string or None, not bytes."]
    assert "hunter2" not in str(refused.value)


def test_every_wrong_type_is_reported_at_once() -> None:
    with pytest.raises(UnsafeConfiguration) as refused:
        load_settings(production(BASTION_HSTS_MAX_AGE="1y", BASTION_API_MAX_BODY="256k"))
    assert refused.value.problems == [
        "BASTION_API_MAX_BODY must be an integer, not '256k'.",
        "BASTION_HSTS_MAX_AGE must be an integer, not '1y'.",
    ]


def test_string_numbers_reach_the_safety_checks() -> None:
    with pytest.raises(UnsafeConfiguration) as refused:
        build(production(BASTION_ARGON2_MEMORY_COST="1024", BASTION_ACCESS_TOKEN_LIFETIME="30"))
    assert refused.value.problems == [
        "BASTION_ARGON2_* parameters are below OWASP's minimum "
        "(memory 19456 KiB, time cost 2, parallelism 1).",
        "BASTION_ACCESS_TOKEN_LIFETIME must be between 60 and 3600 seconds.",
    ]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        (" Yes ", True),
        ("1", True),
        (True, True),
        ("false", False),
        ("No", False),
        ("0", False),
        (False, False),
    ],
)
def test_booleans_are_read_strictly(given: Any, expected: bool) -> None:
    assert convert(given, bool) is expected


@pytest.mark.parametrize("given", ["", "on", "off", "2", "y", "t", 1, 0, None])
def test_anything_else_is_not_a_boolean(given: Any) -> None:
    with pytest.raises(ValueError):
        convert(given, bool)
    with pytest.raises(UnsafeConfiguration) as refused:
        coerce("APP_FLAG", given, bool)
    got = repr(given) if isinstance(given, str) or given is None else type(given).__name__
    assert refused.value.problems == [
        f"APP_FLAG must be true or false (or yes/no, 1/0), not {got}."
    ]


@pytest.mark.parametrize(
    ("given", "expected"), [("1.5", 1.5), (" 2 ", 2.0), (3, 3.0), (0.25, 0.25)]
)
def test_numbers_are_parsed(given: Any, expected: float) -> None:
    assert convert(given, float) == expected
    assert type(convert(given, float)) is float


@pytest.mark.parametrize("given", ["nan", "inf", "1,5", "", True, None])
def test_non_numbers_are_refused(given: Any) -> None:
    with pytest.raises(ValueError):
        convert(given, float)


@pytest.mark.parametrize(("given", "expected"), [("a, b", ("a", "b")), (["a"], ("a",)), ("", ())])
def test_lists_are_split_on_commas(given: Any, expected: tuple[str, ...]) -> None:
    assert convert(given, tuple[str, ...]) == expected
    assert convert(given, frozenset[str]) == frozenset(expected)


def test_the_defaults_are_the_settings_own() -> None:
    assert {key_of(f.name): f.default for f in fields(Settings)} == dict(DEFAULTS)
    assert all(f.metadata["doc"] for f in fields(Settings))


def test_a_random_bytes_secret_key_is_judged_not_crashed_on() -> None:
    strong = bytes(range(200, 248))  # not UTF-8, as os.urandom keys rarely are
    assert build(production(SECRET_KEY=strong)).extensions["bastion"].settings.secure_cookies
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY is too weak"):
        build(production(SECRET_KEY=b"\xff" * 48))


def test_newsroom_refuses_a_non_numeric_proxy_count(tmp_path: Any) -> None:
    assert settings.from_env(environment(tmp_path, TRUSTED_PROXIES="2"))["TRUSTED_PROXIES"] == 2
    with pytest.raises(UnsafeConfiguration) as refused:
        settings.from_env(environment(tmp_path, TRUSTED_PROXIES="two"))
    assert refused.value.problems == ["TRUSTED_PROXIES must be an integer, not 'two'."]


def test_newsroom_environment_strings_load_as_typed_settings(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REDIS_URL", raising=False)
    app = create_app({"BASTION_SESSION_IDLE_TIMEOUT": "7200", "BASTION_HSTS_MAX_AGE": "600"})
    try:
        loaded = app.extensions["bastion"].settings
        assert loaded.session_idle_timeout == 7200 and loaded.hsts_max_age == 600
    finally:
        app.extensions["bastion"].db.dispose()


def test_strong_fallback_keys_start_and_debug_is_fine_in_development() -> None:
    # Controls of the refusals above: random keys and fallbacks start in production...
    fallbacks = [secrets.token_urlsafe(48), secrets.token_bytes(48)]
    assert build(production(SECRET_KEY_FALLBACKS=fallbacks)).extensions["bastion"]
    # ...and debug mode is a development tool, allowed there.
    assert build(production(DEBUG=True, BASTION_ENV="development")).extensions["bastion"]


def test_flask_debug_in_the_environment_refuses_a_production_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")  # Flask reads it into app.config["DEBUG"]
    with pytest.raises(UnsafeConfiguration, match="Debug mode is on"):
        build(production())


def test_newsroom_run_is_refused_outside_development(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from newsroom.cli import main

    env = {
        "APP_ENV": "production",
        "SECRET_KEY": STRONG,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'n.db'}",
        "PUBLIC_URL": "https://news.example.com",
        "MAIL_URL": "smtp://127.0.0.1:25",
    }
    result = CliRunner().invoke(main, ["run"], env=env)
    assert result.exit_code == 1
    assert "`run` is Flask's development server" in result.output
    assert "newsroom serve" in result.output


def test_the_run_guard_lets_development_through(monkeypatch: pytest.MonkeyPatch) -> None:
    import click
    from click.testing import CliRunner

    from newsroom.cli import _development_only

    @click.command()
    def ran() -> None:
        click.echo("served")

    guarded = _development_only(ran)
    monkeypatch.setenv("APP_ENV", "development")
    assert CliRunner().invoke(guarded, []).output == "served\n"
    monkeypatch.setenv("APP_ENV", "production")
    assert CliRunner().invoke(guarded, []).exit_code == 1
