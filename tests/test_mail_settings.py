"""BASTION_MAIL_URL / MAIL_URL: the three forms, and what refuses to start."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from flask_bastion import UnsafeConfiguration
from flask_bastion.config import load_settings
from flask_bastion.mail import InvalidMailUrl, MailServer, parse_mail_url
from newsroom import create_app, settings
from tests.test_config import STRONG, production


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:2525", MailServer("plain", "127.0.0.1", 2525)),
        ("smtp://localhost", MailServer("plain", "localhost", 25)),
        (
            "smtp+starttls://mailer:p%40ss%3Aw%2Frd%25@smtp.example.com:587",
            MailServer("starttls", "smtp.example.com", 587, "mailer", "p@ss:w/rd%"),
        ),
        (
            "smtp+starttls://apikey:s3cret@smtp.example.com",
            MailServer("starttls", "smtp.example.com", 587, "apikey", "s3cret"),
        ),
        (
            "smtps://ada%40example.com:pw@mail.example.com:465/",
            MailServer("tls", "mail.example.com", 465, "ada@example.com", "pw"),
        ),
        ("SMTPS://mail.example.com", MailServer("tls", "mail.example.com", 465)),
    ],
)
def test_the_three_forms_parse(url: str, expected: MailServer) -> None:
    assert parse_mail_url(url) == expected


def test_the_password_is_never_shown() -> None:
    server = parse_mail_url("smtps://mailer:hunter2@mail.example.com")
    assert "hunter2" not in repr(server)
    assert server.describe() == "smtps://mail.example.com:465"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.com", "scheme 'http' is not one of smtp://"),
        ("smtp+tls://mail.example.com", "scheme 'smtp+tls' is not one of"),
        ("mail.example.com:25", "is not one of smtp://"),
        ("smtps://", "has no host"),
        ("smtps://u:hunter2@mail.example.com:port", "is not a valid URL"),
        ("smtps://u:hunter2@mail.example.com:99999", "is not a valid URL"),
        ("smtps://mail.example.com/relay", "has a path or query"),
        ("smtps://mail.example.com?tls=no", "has a path or query"),
        ("smtp://u:hunter2@127.0.0.1:25", "would travel unencrypted"),
        ("smtps://:hunter2@mail.example.com", "has a password but no user name"),
    ],
)
def test_anything_else_is_refused_without_repeating_the_password(url: str, message: str) -> None:
    with pytest.raises(InvalidMailUrl) as refused:
        parse_mail_url(url)
    assert message in str(refused.value)
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize("env", ["production", "development"])
def test_a_malformed_mail_url_refuses_to_start_everywhere(env: str) -> None:
    with pytest.raises(UnsafeConfiguration) as refused:
        load_settings(production(BASTION_ENV=env, BASTION_MAIL_URL="smtps://u:hunter2@h:x"))
    assert refused.value.problems == [
        "BASTION_MAIL_URL is not a valid URL (is the port a number? are special characters "
        "in the password percent-encoded?)."
    ]
    assert "hunter2" not in str(refused.value)


def test_production_refuses_to_start_without_a_mail_server() -> None:
    with pytest.raises(UnsafeConfiguration) as refused:
        load_settings(production(BASTION_MAIL_URL=None))
    assert refused.value.problems == [
        "BASTION_MAIL_URL (newsroom: MAIL_URL) is not set: give the SMTP server mail is sent "
        "through, e.g. smtp+starttls://user:password@smtp.example.com:587 or "
        "smtp://127.0.0.1:25 for a relay on this machine."
    ]


@pytest.mark.parametrize("host", ["mail.example.com", "10.0.0.7", "[2001:db8::1]"])
def test_production_refuses_plain_smtp_to_another_machine(host: str) -> None:
    with pytest.raises(UnsafeConfiguration) as refused:
        load_settings(production(BASTION_MAIL_URL=f"smtp://{host}:25"))
    (problem,) = refused.value.problems
    assert problem.startswith(f"BASTION_MAIL_URL smtp://{host.strip('[]')}:25 is plain SMTP")
    assert "use smtp+starttls:// or smtps://" in problem


@pytest.mark.parametrize(
    "url",
    [
        "smtp://127.0.0.1:25",
        "smtp://localhost:1025",
        "smtp://[::1]:25",
        "smtp+starttls://u:p@smtp.example.com:587",
        "smtps://u:p@smtp.example.com",
    ],
)
def test_production_starts_with_loopback_plain_or_encrypted_smtp(url: str) -> None:
    assert load_settings(production(BASTION_MAIL_URL=url)).mail_url == url


def test_development_starts_without_a_mail_server_or_with_any() -> None:
    assert (
        load_settings(production(BASTION_ENV="development", BASTION_MAIL_URL=None)).mail_url is None
    )
    lan = production(BASTION_ENV="development", BASTION_MAIL_URL="smtp://mail.lan:25")
    assert load_settings(lan).mail_url == "smtp://mail.lan:25"


def test_newsroom_reads_mail_from_the_environment(tmp_path: Any) -> None:
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": STRONG,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}",
        "PUBLIC_URL": "https://news.example.com",
        "MAIL_URL": "smtps://u:p@smtp.example.com",
        "MAIL_FROM": "desk@news.example.com",
        "MAIL_CA_FILE": "/etc/ssl/mail-ca.pem",
    }
    config = settings.from_env(env)
    assert config["BASTION_MAIL_URL"] == "smtps://u:p@smtp.example.com"
    assert config["BASTION_MAIL_FROM"] == "desk@news.example.com"
    assert config["BASTION_MAIL_CA_FILE"] == "/etc/ssl/mail-ca.pem"
    loaded = load_settings(config)
    assert loaded.sender_address == "desk@news.example.com"
    assert loaded.app_name == "Newsroom"
    del env["MAIL_FROM"]
    assert load_settings(settings.from_env(env)).sender_address == "no-reply@news.example.com"


def test_newsroom_in_production_without_mail_url_refuses_saying_what_to_set(
    tmp_path: Any,
) -> None:
    from newsroom.cli import main

    env = {
        "APP_ENV": "production",
        "SECRET_KEY": STRONG,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}",
        "PUBLIC_URL": "http://127.0.0.1:8000",
        "MAIL_URL": "",
    }
    with pytest.raises(UnsafeConfiguration, match="MAIL_URL"):
        create_app(settings.from_env(env))
    result = CliRunner().invoke(main, ["mail", "status"], env=env)
    assert result.exit_code == 1
    assert "BASTION_MAIL_URL (newsroom: MAIL_URL) is not set" in result.output
    assert "Traceback" not in result.output
