"""The catalogue of forged and misused access tokens: each is refused with 401 invalid_token."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient

from flask_bastion.testing import Clock, signed_in
from tests.conftest import PASSWORD
from tests.token_helpers import (
    assert_invalid_token,
    b64,
    bearer,
    claims_of,
    header_of,
    issue,
    register,
    segments,
    signing_key,
)

pytestmark = pytest.mark.minimal_app

SESSION = "/api/auth/session"


@pytest.fixture
def tokens(app: Flask, client: FlaskClient) -> dict[str, Any]:
    register(app.test_client())
    return issue(client)


@pytest.fixture
def good_claims(tokens: dict[str, Any]) -> dict[str, Any]:
    return claims_of(tokens["access_token"])


def sign(app: Flask, claims: dict[str, Any], **header: Any) -> str:
    """A token signed with the server's real current key: only the named detail is wrong."""
    key = signing_key(app)
    headers = {"kid": key.kid, "typ": "at+jwt", **header}
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers=headers)


def test_a_genuine_token_is_accepted(client: FlaskClient, tokens: dict[str, Any]) -> None:
    response = client.get(SESSION, headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.json["session"]["kind"] == "token"


def test_a_re_signed_copy_of_the_claims_is_accepted(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any]
) -> None:
    # The control for every forgery below: the helper itself makes valid tokens.
    assert client.get(SESSION, headers=bearer(sign(app, good_claims))).status_code == 200


def test_alg_none_is_refused(app: Flask, client: FlaskClient, good_claims: dict[str, Any]) -> None:
    kid = signing_key(app).kid
    for alg in ("none", "None", "NONE"):
        token = segments({"alg": alg, "typ": "at+jwt", "kid": kid}, good_claims) + "."
        assert_invalid_token(client.get(SESSION, headers=bearer(token)))


@pytest.mark.parametrize("encoding", ["pem", "raw"])
def test_hs256_signed_with_the_public_key_is_refused(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any], encoding: str
) -> None:
    public = signing_key(app).public_key
    secret = (
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if encoding == "pem"
        else public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    signing_input = segments(
        {"alg": "HS256", "typ": "at+jwt", "kid": signing_key(app).kid}, good_claims
    )
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    assert_invalid_token(client.get(SESSION, headers=bearer(signing_input + "." + b64(mac))))


def test_a_foreign_kid_is_refused(client: FlaskClient, good_claims: dict[str, Any]) -> None:
    foreign = Ed25519PrivateKey.generate()
    token = jwt.encode(
        good_claims, foreign, algorithm="EdDSA", headers={"kid": "foreign", "typ": "at+jwt"}
    )
    assert_invalid_token(client.get(SESSION, headers=bearer(token)))


def test_a_foreign_key_under_our_kid_is_refused(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any]
) -> None:
    foreign = Ed25519PrivateKey.generate()
    token = jwt.encode(
        good_claims,
        foreign,
        algorithm="EdDSA",
        headers={"kid": signing_key(app).kid, "typ": "at+jwt"},
    )
    assert_invalid_token(client.get(SESSION, headers=bearer(token)))


def test_a_missing_kid_is_refused(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any]
) -> None:
    key = signing_key(app)
    token = jwt.encode(good_claims, key.private_key, algorithm="EdDSA", headers={"typ": "at+jwt"})
    assert "kid" not in header_of(token)
    assert_invalid_token(client.get(SESSION, headers=bearer(token)))


@pytest.mark.parametrize(
    "header",
    [
        {"jku": "https://evil.example/jwks.json"},
        {"x5u": "https://evil.example/cert.pem"},
        {"x5c": ["MIIB"]},
    ],
    ids=["jku", "x5u", "x5c"],
)
def test_key_pointing_headers_are_refused(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any], header: dict[str, Any]
) -> None:
    # Signed with our genuine key: the refusal is for the header alone.
    assert_invalid_token(client.get(SESSION, headers=bearer(sign(app, good_claims, **header))))


def test_an_embedded_jwk_is_refused(client: FlaskClient, good_claims: dict[str, Any]) -> None:
    attacker = Ed25519PrivateKey.generate()
    raw = attacker.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}
    token = jwt.encode(
        good_claims, attacker, algorithm="EdDSA", headers={"typ": "at+jwt", "jwk": jwk}
    )
    assert_invalid_token(client.get(SESSION, headers=bearer(token)))


def test_an_embedded_jwk_is_refused_even_beside_our_kid(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any]
) -> None:
    key = signing_key(app)
    raw = key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    token = sign(app, good_claims, jwk={"kty": "OKP", "crv": "Ed25519", "x": b64(raw)})
    assert_invalid_token(client.get(SESSION, headers=bearer(token)))


def test_a_wrong_audience_is_refused(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any]
) -> None:
    token = sign(app, {**good_claims, "aud": "https://other-api.example"})
    assert_invalid_token(client.get(SESSION, headers=bearer(token)))


def test_a_wrong_issuer_is_refused(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any]
) -> None:
    token = sign(app, {**good_claims, "iss": "https://evil.example"})
    assert_invalid_token(client.get(SESSION, headers=bearer(token)))


def test_an_expired_token_is_refused(
    client: FlaskClient, tokens: dict[str, Any], clock: Clock
) -> None:
    expires = datetime.fromtimestamp(claims_of(tokens["access_token"])["exp"], UTC)
    clock.current = expires - timedelta(seconds=1)
    assert client.get(SESSION, headers=bearer(tokens["access_token"])).status_code == 200
    clock.current = expires
    assert_invalid_token(client.get(SESSION, headers=bearer(tokens["access_token"])))


def test_a_token_from_the_future_is_refused(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any]
) -> None:
    later = int(time.time()) + 3600
    token = sign(app, {**good_claims, "iat": later, "exp": later + 600})
    assert_invalid_token(client.get(SESSION, headers=bearer(token)))


def test_the_refresh_token_is_not_an_access_token(
    client: FlaskClient, tokens: dict[str, Any]
) -> None:
    assert_invalid_token(client.get(SESSION, headers=bearer(tokens["refresh_token"])))


@pytest.mark.parametrize("typ", ["JWT", "reset+jwt", "refresh+jwt", None])
def test_a_jwt_of_another_type_signed_by_us_is_refused(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any], typ: str | None
) -> None:
    # A reset or refresh token made with our own key must never pass as an access token.
    key = signing_key(app)
    headers: dict[str, Any] = {"kid": key.kid, "typ": typ}
    token = jwt.encode(good_claims, key.private_key, algorithm="EdDSA", headers=headers)
    assert_invalid_token(client.get(SESSION, headers=bearer(token)))


@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "sid", "exp", "iat", "jti"])
def test_a_missing_claim_is_refused(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any], claim: str
) -> None:
    claims = {k: v for k, v in good_claims.items() if k != claim}
    assert_invalid_token(client.get(SESSION, headers=bearer(sign(app, claims))))


@pytest.mark.parametrize(
    "claims",
    [{"sub": 1}, {"sid": 12}, {"exp": "never"}, {"jti": ""}, {"sub": "2"}],
    ids=["int-sub", "int-sid", "string-exp", "empty-jti", "other-user-sub"],
)
def test_claims_of_the_wrong_shape_are_refused(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any], claims: dict[str, Any]
) -> None:
    assert_invalid_token(client.get(SESSION, headers=bearer(sign(app, {**good_claims, **claims}))))


def test_an_unknown_sid_is_refused(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any]
) -> None:
    token = sign(app, {**good_claims, "sid": uuid.uuid4().hex[:24]})
    assert_invalid_token(client.get(SESSION, headers=bearer(token)))


def test_the_sid_of_a_browser_session_is_refused(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any]
) -> None:
    browser = signed_in(app.test_client(), "browser", "alice", PASSWORD)
    browser_sid = browser.get(SESSION).json["session"]["id"]
    token = sign(app, {**good_claims, "sid": browser_sid})
    assert_invalid_token(client.get(SESSION, headers=bearer(token)))


def test_the_sid_of_a_revoked_session_is_refused(
    client: FlaskClient, tokens: dict[str, Any]
) -> None:
    access = tokens["access_token"]
    assert client.post("/api/auth/logout", headers=bearer(access)).status_code == 204
    assert_invalid_token(client.get(SESSION, headers=bearer(access)))


def test_a_tampered_payload_is_refused(client: FlaskClient, tokens: dict[str, Any]) -> None:
    head, _, signature = tokens["access_token"].split(".")
    claims = claims_of(tokens["access_token"])
    forged = segments(header_of(tokens["access_token"]), {**claims, "sub": "2"})
    assert forged.split(".")[0] == head
    assert_invalid_token(client.get(SESSION, headers=bearer(forged + "." + signature)))


@pytest.mark.parametrize(
    "value",
    ["", "garbage", "a.b.c", "e30.e30.", "x" * 5000, "eyJ.eyJ.eyJ"],
    ids=["empty", "garbage", "three-junk-parts", "empty-objects", "huge", "broken-base64"],
)
def test_malformed_bearer_values_are_refused(client: FlaskClient, value: str) -> None:
    assert_invalid_token(client.get(SESSION, headers={"Authorization": f"Bearer {value}"}))


def test_a_token_in_the_query_string_is_ignored(
    client: FlaskClient, tokens: dict[str, Any]
) -> None:
    for name in ("access_token", "token", "bearer"):
        response = client.get(f"{SESSION}?{name}={tokens['access_token']}")
        assert response.status_code == 401
        assert response.json["code"] == "not_authenticated"


def test_a_token_in_a_form_body_is_ignored(client: FlaskClient, tokens: dict[str, Any]) -> None:
    # RFC 6750's form-body method is not supported: the header is the only channel.
    response = client.get(SESSION, data={"access_token": tokens["access_token"]})
    assert response.status_code == 401
    assert response.json["code"] == "not_authenticated"


def test_an_audience_list_containing_ours_is_refused(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any]
) -> None:
    ours = good_claims["aud"]
    control = sign(app, {**good_claims, "aud": ours})
    assert client.get(SESSION, headers=bearer(control)).status_code == 200
    for aud in ([ours], [ours, "https://other-api.example"]):
        assert_invalid_token(
            client.get(SESSION, headers=bearer(sign(app, {**good_claims, "aud": aud})))
        )


def test_a_token_not_yet_valid_is_refused(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any]
) -> None:
    now = int(time.time())
    control = sign(app, {**good_claims, "nbf": now})
    assert client.get(SESSION, headers=bearer(control)).status_code == 200
    early = sign(app, {**good_claims, "nbf": now + 600})
    assert_invalid_token(client.get(SESSION, headers=bearer(early)))
    assert_invalid_token(
        client.get(SESSION, headers=bearer(sign(app, {**good_claims, "nbf": "0"})))
    )


def test_a_lifetime_beyond_the_configured_one_is_refused(
    app: Flask, client: FlaskClient, good_claims: dict[str, Any]
) -> None:
    lifetime = app.extensions["bastion"].settings.access_token_lifetime
    iat = good_claims["iat"]
    at_cap = sign(app, {**good_claims, "exp": iat + lifetime})
    assert client.get(SESSION, headers=bearer(at_cap)).status_code == 200
    beyond = sign(app, {**good_claims, "exp": iat + lifetime + 1})
    assert_invalid_token(client.get(SESSION, headers=bearer(beyond)))
    year = sign(app, {**good_claims, "exp": iat + 365 * 86400})
    assert_invalid_token(client.get(SESSION, headers=bearer(year)))
