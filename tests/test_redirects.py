"""Where mailed links send the browser: SPA views from settings, checked at start-up, context in
the query and secrets only in the fragment."""

from __future__ import annotations

from typing import Any

import pytest

from flask_bastion.config import UnsafeConfiguration, load_settings
from flask_bastion.spa_redirects import view_url

BASE = {"BASTION_DATABASE_URL": "sqlite://", "BASTION_ENV": "testing"}


def settings(**config: Any) -> Any:
    return load_settings({**BASE, **config})


def test_the_defaults_are_the_seed_guides_names_under_public_url_app() -> None:
    s = settings(BASTION_PUBLIC_URL="https://news.example")
    assert s.spa_base_url == "https://news.example/app"
    assert view_url(s, "post_confirm_view") == "https://news.example/app/confirmed"
    assert view_url(s, "confirm_error_view") == "https://news.example/app/confirm-error"
    assert view_url(s, "reset_view") == "https://news.example/app/reset-password"
    assert view_url(s, "reset_error_view") == "https://news.example/app/reset-password-error"
    assert view_url(s, "post_email_change_view") == "https://news.example/app/email-changed"
    assert view_url(s, "email_change_error_view") == "https://news.example/app/email-change-error"
    assert view_url(s, "login_error_view") == "https://news.example/app/login-error"


def test_context_goes_in_the_query_and_secrets_in_the_fragment() -> None:
    s = settings(BASTION_PUBLIC_URL="https://news.example")
    url = view_url(
        s,
        "reset_view",
        query={"email": "a+b@example.com", "code": "expired"},
        fragment={"token": "abc-_1"},
    )
    assert url == (
        "https://news.example/app/reset-password?email=a%2Bb%40example.com&code=expired"
        "#token=abc-_1"
    )


def test_an_spa_on_another_allowed_origin() -> None:
    s = settings(
        BASTION_PUBLIC_URL="http://127.0.0.1:8000",
        BASTION_CORS_ORIGINS="http://localhost:5173",
        BASTION_SPA_URL="http://localhost:5173/app",
        BASTION_RESET_ERROR_VIEW="http://localhost:5173/oops",
    )
    assert view_url(s, "post_confirm_view") == "http://localhost:5173/app/confirmed"
    assert view_url(s, "reset_error_view", query={"code": "invalid"}) == (
        "http://localhost:5173/oops?code=invalid"
    )


def test_a_path_spa_url_is_on_the_public_url() -> None:
    s = settings(BASTION_PUBLIC_URL="https://news.example/", BASTION_SPA_URL="/web/")
    assert view_url(s, "post_confirm_view") == "https://news.example/web/confirmed"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "BASTION_SPA_URL",
            "https://evil.example/app",
            "BASTION_SPA_URL 'https://evil.example/app' is on an origin that is neither "
            "PUBLIC_URL's nor in CORS_ORIGINS: an email link must not send people to another "
            "site.",
        ),
        (
            "BASTION_POST_CONFIRM_VIEW",
            "//evil.example/confirmed",
            "BASTION_POST_CONFIRM_VIEW '//evil.example/confirmed' must be a path such as "
            "/confirmed or an absolute http(s) URL.",
        ),
        (
            "BASTION_RESET_VIEW",
            "javascript:alert(1)",
            "BASTION_RESET_VIEW 'javascript:alert(1)' must be a path such as /confirmed or an "
            "absolute http(s) URL.",
        ),
        (
            "BASTION_CONFIRM_ERROR_VIEW",
            "/error?x=1",
            "BASTION_CONFIRM_ERROR_VIEW '/error?x=1' must be a path such as /confirmed or an "
            "absolute http(s) URL.",
        ),
        (
            "BASTION_EMAIL_CONFIRMATION",
            "maybe",
            "BASTION_EMAIL_CONFIRMATION must be one of required, optional, off, not 'maybe'.",
        ),
    ],
)
def test_unsafe_targets_refuse_to_start_in_every_environment(
    key: str, value: str, message: str
) -> None:
    with pytest.raises(UnsafeConfiguration) as refused:
        settings(BASTION_PUBLIC_URL="https://news.example", **{key: value})
    assert refused.value.problems == [message]


def test_newsroom_maps_spa_url_and_email_confirmation() -> None:
    from newsroom.settings import from_env

    env = {"APP_ENV": "production", "SECRET_KEY": "k" * 48}
    config = from_env({**env, "SPA_URL": "/app", "EMAIL_CONFIRMATION": "optional"})
    assert config["BASTION_SPA_URL"] == "/app"
    assert config["BASTION_EMAIL_CONFIRMATION"] == "optional"
    assert from_env(env)["BASTION_EMAIL_CONFIRMATION"] == "required"
