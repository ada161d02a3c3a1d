"""Signing keys: the JWKS, rotation with overlap across instances, and keys at rest."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from flask_bastion import current_bastion
from flask_bastion.models import SigningKey
from flask_bastion.testing import Clock
from newsroom.keys import keys as keys_command
from tests.conftest import AppFactory
from tests.token_helpers import (
    assert_invalid_token,
    bearer,
    header_of,
    issue,
    register,
)

JWKS = "/.well-known/jwks.json"
SESSION = "/api/auth/session"


@pytest.fixture
def pair(app: Flask, client: FlaskClient) -> dict[str, Any]:
    register(app.test_client())
    return issue(client)


def kids(client: FlaskClient) -> list[str]:
    return [k["kid"] for k in client.get(JWKS).json["keys"]]


def rotate(app: Flask) -> str:
    result = app.test_cli_runner().invoke(keys_command, ["rotate"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("new signing key ")
    return result.output.split()[3]


def test_the_jwks_publishes_the_public_key_only(client: FlaskClient) -> None:
    response = client.get(JWKS)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=30"
    [key] = response.json["keys"]
    assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")


def test_tokens_name_the_published_kid(client: FlaskClient, pair: dict[str, Any]) -> None:
    assert header_of(pair["access_token"])["kid"] in kids(client)


def test_private_keys_are_encrypted_at_rest(app: Flask, pair: dict[str, Any]) -> None:
    with app.app_context():
        rows = current_bastion().db.session.scalars(select(SigningKey)).all()
    assert len(rows) == 1
    assert rows[0].private_key.startswith("v1.")
    assert "PRIVATE KEY" not in rows[0].private_key
    assert "PUBLIC KEY" in rows[0].public_key


def test_rotation_overlaps_old_and_new_keys(
    app: Flask, client: FlaskClient, pair: dict[str, Any], clock: Clock
) -> None:
    old_kid = header_of(pair["access_token"])["kid"]
    new_kid = rotate(app)
    assert new_kid != old_kid
    # Published at once, so every instance trusts it before any token is signed with it...
    assert set(kids(client)) == {old_kid, new_kid}
    # ...and the old key keeps signing for one cache period.
    assert header_of(issue(client)["access_token"])["kid"] == old_kid
    clock.advance(31)
    fresh = issue(client)
    assert header_of(fresh["access_token"])["kid"] == new_kid
    # Old tokens stay valid until they expire, and the old key stays published.
    assert client.get(SESSION, headers=bearer(pair["access_token"])).status_code == 200
    assert set(kids(client)) == {old_kid, new_kid}
    clock.advance(600)
    assert_invalid_token(client.get(SESSION, headers=bearer(pair["access_token"])))
    assert client.get(SESSION, headers=bearer(issue(client)["access_token"])).status_code == 200
    # Once every token it signed has expired (plus a cache period), the old key is gone.
    clock.advance(30)
    assert kids(client) == [new_kid]


def test_another_instance_learns_a_rotation_within_its_cache_period(
    app: Flask,
    client: FlaskClient,
    pair: dict[str, Any],
    app_factory: AppFactory,
    clock: Clock,
) -> None:
    other = app_factory(SECRET_KEY=app.config["SECRET_KEY"])
    other_client = other.test_client()
    old_kid = header_of(issue(other_client)["access_token"])["kid"]  # warms its cache
    new_kid = rotate(app)
    clock.advance(31)
    # The other instance now signs with the new key and verifies both instances' tokens.
    token = issue(other_client)["access_token"]
    assert header_of(token)["kid"] == new_kid != old_kid
    assert client.get(SESSION, headers=bearer(token)).status_code == 200
    assert other_client.get(SESSION, headers=bearer(pair["access_token"])).status_code == 200


def test_an_unknown_kid_reloads_the_keys_at_most_once_a_second(
    app: Flask,
    client: FlaskClient,
    pair: dict[str, Any],
    app_factory: AppFactory,
    clock: Clock,
) -> None:
    other = app_factory(SECRET_KEY=app.config["SECRET_KEY"], BASTION_SIGNING_KEY_CACHE_TTL=0)
    other_client = other.test_client()
    assert client.get(SESSION, headers=bearer(pair["access_token"])).status_code == 200
    rotate(other)  # with no cache period there, the new key signs at once
    token = issue(other_client)["access_token"]
    clock.advance(2)
    # Our cache (30 s) predates the key: the unknown kid makes us read the table again.
    assert client.get(SESSION, headers=bearer(token)).status_code == 200


def test_keys_survive_a_secret_key_rotation_through_fallbacks(
    app: Flask, pair: dict[str, Any], app_factory: AppFactory
) -> None:
    rotated = app_factory(
        SECRET_KEY=secrets.token_urlsafe(48),
        SECRET_KEY_FALLBACKS=[app.config["SECRET_KEY"]],
    )
    client = rotated.test_client()
    assert client.get(SESSION, headers=bearer(pair["access_token"])).status_code == 200
    token = issue(client)["access_token"]
    assert header_of(token)["kid"] == header_of(pair["access_token"])["kid"]


def test_a_key_nobody_can_decrypt_never_signs(
    app: Flask, pair: dict[str, Any], app_factory: AppFactory
) -> None:
    stranger = app_factory(SECRET_KEY=secrets.token_urlsafe(48))
    client = stranger.test_client()
    token = issue(client)["access_token"]
    # A new key is made rather than signing with one it cannot open...
    assert header_of(token)["kid"] != header_of(pair["access_token"])["kid"]
    # ...while the old public key still verifies the old tokens.
    assert client.get(SESSION, headers=bearer(pair["access_token"])).status_code == 200


def test_keys_list_shows_every_key(app: Flask, pair: dict[str, Any]) -> None:
    new_kid = rotate(app)
    result = app.test_cli_runner().invoke(keys_command, ["list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(new_kid)
    assert [line.split()[1] for line in lines] == ["next", "signing"]


def test_the_keys_command_is_part_of_newsroom() -> None:
    from newsroom.cli import main

    assert "keys" in main.commands
