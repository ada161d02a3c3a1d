"""Configuration fails closed: outside development, each unsafe setting refuses to start."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from flask import Flask

from flask_bastion import Bastion, UnsafeConfiguration
from flask_bastion.config import load_settings
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
        **OWASP_ARGON2,
    }
    config.update(overrides)
    return config


def build(config: dict[str, Any]) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    Bastion(app)
    app.extensions["bastion"].db.engine.dispose()
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
