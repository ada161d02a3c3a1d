"""The memo of verified access tokens: it skips repeated signature checks and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete

from flask_bastion import clock, current_bastion
from flask_bastion.models import SigningKey
from flask_bastion.security import access_tokens
from flask_bastion.signing_keys import AccessTokens
from tests.token_helpers import assert_invalid_token, bearer, issue, register

SESSION = "/api/auth/session"


@pytest.fixture
def tokens(app: Flask, client: FlaskClient) -> dict[str, Any]:
    register(app.test_client())
    return issue(client)


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each real signature verification (the real function still runs)."""
    seen: list[str] = []
    real = access_tokens.verify

    def counting(token: str, **kwargs: Any) -> access_tokens.AccessClaims:
        seen.append(token)
        return real(token, **kwargs)

    monkeypatch.setattr(access_tokens, "verify", counting)
    return seen


def test_a_token_is_verified_once_then_served_from_the_memo(
    client: FlaskClient, tokens: dict[str, Any], verifications: list[str]
) -> None:
    for _ in range(3):
        assert client.get(SESSION, headers=bearer(tokens["access_token"])).status_code == 200
    assert verifications == [tokens["access_token"]]


def test_a_remembered_token_still_dies_with_its_session(
    client: FlaskClient, tokens: dict[str, Any], verifications: list[str]
) -> None:
    headers = bearer(tokens["access_token"])
    assert client.get(SESSION, headers=headers).status_code == 200
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert_invalid_token(client.get(SESSION, headers=headers))
    assert len(verifications) == 1  # refused by the session check, not by a new verification


def test_a_remembered_token_dies_when_its_key_is_withdrawn(
    app: Flask, client: FlaskClient, tokens: dict[str, Any]
) -> None:
    headers = bearer(tokens["access_token"])
    assert client.get(SESSION, headers=headers).status_code == 200
    with app.app_context():
        state = current_bastion()
        with state.db.unit_of_work() as db:
            db.execute(delete(SigningKey))
        state.keys.invalidate()
    assert_invalid_token(client.get(SESSION, headers=headers))


def test_a_forged_token_never_enters_the_memo(
    client: FlaskClient, tokens: dict[str, Any], verifications: list[str]
) -> None:
    head, payload, signature = tokens["access_token"].split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    for _ in range(2):
        assert_invalid_token(client.get(SESSION, headers=bearer(forged)))
    assert verifications == [forged, forged]


def test_the_memo_keeps_at_most_its_capacity_dropping_the_oldest(
    app: Flask, client: FlaskClient, verifications: list[str]
) -> None:
    register(app.test_client())
    issued = [issue(client)["access_token"] for _ in range(3)]
    with app.app_context():
        state = current_bastion()
        tokens = AccessTokens(
            state.keys,
            issuer=state.settings.issuer,
            audience=state.settings.audience,
            lifetime=state.settings.access_token_lifetime,
            memo_size=2,
        )
        now = clock.now()
        for token in issued:
            tokens.verify(token, now)
        verifications.clear()
        tokens.verify(issued[2], now)
        tokens.verify(issued[1], now)
        assert verifications == []  # the two newest are remembered
        tokens.verify(issued[0], now)
        assert verifications == [issued[0]]  # the oldest was dropped, so it is checked again
