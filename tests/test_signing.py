"""Keys derived from SECRET_KEY, one per purpose: pinned to the bytes earlier releases derived.

A changed derivation would void every CSRF token and article cursor a client holds and leave
every stored signing key unreadable, so the values here were made by the code before this one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy import insert

from flask_bastion import Bastion, current_bastion, signer
from flask_bastion.models import SigningKey
from flask_bastion.security.signing import Signer, derive_key, derive_keys
from flask_bastion.signers import secret_keys
from newsroom import cursors

OLD = "pinned-old-secret-0123456789-abcdefghijklmnop"
NEW = b"pinned-new-secret-\x00\xff-0123456789-ABCDEFGHIJ"
DERIVED = {
    ("csrf", OLD): "244ea1de187b2f4e3eadc6f0aa7f5063ddd38acb64e418b890433f0daf4e3a08",
    ("csrf", NEW): "07b8991e9117334720b2d6f864869b2557c8f8bbeddacc48d05a7bcfd2eba69e",
    ("newsroom-cursor", OLD): "5253129c50026a254ddfdf618f5deeb47d95e4fcb4bd9467153eebdbc64246c9",
    ("newsroom-cursor", NEW): "a0828d873d8e5c0b0ab8e365ce24ab4b490816ed08e1ea227dd66c79cd8e57c8",
    ("signing-keys", OLD): "6459ebd3285286feaa4bce5514f6758982f8c0934b0bcacec86c78d1c6e1b480",
    ("signing-keys", NEW): "f65d61c683d2105a5ce2996783919ee0493b76465972fe404f20876c2aaaa3cc",
}
# Made under OLD: an anonymous CSRF token, a cursor (-created_at, 2026-01-02T03:04:05.678901Z,
# id 42), and an Ed25519 key (private bytes 0..31) sealed for storage as kid "kid-1".
CSRF_TOKEN = "nonce123.dJUb5wa-1JUQXY6yDmlL9OnXerw6EWSOi5AGKGIyXeQ"
# The same nonce under OLD, bound to the pre-session cookie value PRESESSION (how anonymous
# tokens are bound: to the browser that holds that cookie).
PRESESSION = "pinned-presession"
BOUND_CSRF_TOKEN = "nonce123.qxrw-0smLQWYDXl8QPBvHwvWMY15Am70ZId78OJf-BE"
CURSOR = (
    "djEgLWNyZWF0ZWRfYXQgMTc2NzMyMzA0NTY3ODkwMSA0Mg.Rdc2Ey-BM-sWezbJZ7Pa6PJgnE5PxPQe9HIOGtcT7mc"
)
SEALED = (
    "v1.vOuN44cUnDGdsbB-4B36Mhe0RjGGlRnw3sLj-jyw1TFeUbqrMM7sLT-Th8OjmLQ6odrtElEspVp5Lk74Y_dq-RHzk"
    "QamJitcnJ0ryFPBCJSQ-8EPsiWRZ4NZCkLpD_ofYS5-wtSPv8GIABoZZ7xE-5jPtoRNmv7LfI7Q6udJMsYQ97nWjb5qtB"
    "CyHcS_B0zdX426"
)
PINNED_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
ROTATED = {"SECRET_KEY": NEW, "SECRET_KEY_FALLBACKS": [OLD]}


@pytest.mark.parametrize(("purpose", "secret"), list(DERIVED))
def test_derived_keys_are_unchanged(purpose: str, secret: str | bytes) -> None:
    assert derive_key(secret, purpose).hex() == DERIVED[purpose, secret]


def test_a_signer_signs_with_the_first_key_and_verifies_with_all() -> None:
    keys = derive_keys([NEW, "", OLD], "csrf")
    assert keys == (derive_key(NEW, "csrf"), derive_key(OLD, "csrf"))
    rotated = Signer.for_purpose([NEW, OLD], "csrf")
    assert rotated.keys == keys
    assert rotated.verify("anonymous|nonce123", CSRF_TOKEN.partition(".")[2])
    assert not Signer.for_purpose([NEW], "csrf").verify(
        "x", Signer.for_purpose([OLD], "csrf").sign("x")
    )
    assert rotated.sign("x") == Signer.for_purpose([NEW], "csrf").sign("x")


def test_a_signature_for_one_purpose_fails_every_other() -> None:
    mac = Signer.for_purpose([OLD], "newsroom-cursor").sign("v1 -created_at 1 1")
    assert not Signer.for_purpose([OLD], "csrf").verify("v1 -created_at 1 1", mac)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"SECRET_KEY": "k", "SECRET_KEY_FALLBACKS": None}, ("k",)),  # Flask's own default
        ({"SECRET_KEY": "k"}, ("k",)),
        (
            {"SECRET_KEY": "k", "SECRET_KEY_FALLBACKS": ["", "old", b"older"]},
            ("k", "old", b"older"),
        ),
        ({"SECRET_KEY": None, "SECRET_KEY_FALLBACKS": None}, ()),
    ],
)
def test_the_secret_list_is_the_key_then_its_fallbacks(
    config: dict[str, Any], expected: tuple[str | bytes, ...]
) -> None:
    assert secret_keys(config) == expected


# ---- through an app ------------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [ROTATED])
def test_a_csrf_token_from_before_a_rotation_still_passes(app: Flask) -> None:
    client = app.test_client()
    client.set_cookie("bastion_session_pre", PRESESSION)
    client.set_cookie("XSRF-TOKEN", BOUND_CSRF_TOKEN)
    response = client.post("/api/auth/login", json={}, headers={"X-XSRF-TOKEN": BOUND_CSRF_TOKEN})
    assert response.status_code == 422  # past the CSRF check, refused only for its empty body


@pytest.mark.parametrize("app_config", [{"SECRET_KEY": NEW}])
def test_the_same_token_fails_once_the_old_key_is_dropped(app: Flask) -> None:
    client = app.test_client()
    client.set_cookie("bastion_session_pre", PRESESSION)
    client.set_cookie("XSRF-TOKEN", BOUND_CSRF_TOKEN)
    response = client.post("/api/auth/login", json={}, headers={"X-XSRF-TOKEN": BOUND_CSRF_TOKEN})
    assert response.status_code == 403


@pytest.mark.parametrize("app_config", [ROTATED])
def test_a_cursor_from_before_a_rotation_still_reads(auth: Any) -> None:
    assert auth.register().status_code == 201
    response = auth.client.get(f"/api/articles?cursor={CURSOR}")
    assert response.status_code == 200
    assert response.json == {"items": [], "next_cursor": None}
    forged = auth.client.get(f"/api/articles?cursor={CURSOR[:-2]}AA")
    assert forged.status_code == 422


@pytest.mark.parametrize("app_config", [ROTATED])
def test_a_signing_key_sealed_before_a_rotation_still_opens(app: Flask) -> None:
    public_pem = PINNED_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    created = datetime(2026, 1, 1, tzinfo=UTC)
    with app.app_context():
        store = current_bastion().keys
        with store.engine.begin() as conn:
            conn.execute(
                insert(SigningKey).values(
                    kid="kid-1",
                    algorithm="EdDSA",
                    public_key=public_pem.decode(),
                    private_key=SEALED,
                    created_at=created,
                    retired_at=None,
                )
            )
        (loaded,) = store.keys(datetime(2026, 1, 2, tzinfo=UTC))
    assert loaded.kid == "kid-1" and loaded.private_key is not None
    raw = serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    assert loaded.private_key.private_bytes(*raw) == bytes(range(32))


# ---- SECRET_KEY_FALLBACKS=None, Flask's default --------------------------------------------------


@pytest.mark.parametrize("app_config", [{"SECRET_KEY_FALLBACKS": None}])
def test_flask_default_fallbacks_start_newsroom_and_serve_cursors(auth: Any) -> None:
    assert auth.register().status_code == 201
    first = auth.client.get("/api/articles?cursor=")
    assert first.status_code == 200
    assert first.json == {"items": [], "next_cursor": None}


def test_a_plain_flask_app_with_default_fallbacks_starts() -> None:
    app = Flask(__name__)
    assert app.config["SECRET_KEY_FALLBACKS"] is None
    app.config.update(SECRET_KEY=OLD, BASTION_ENV="testing", BASTION_DATABASE_URL="sqlite://")
    Bastion(app)
    try:
        with app.app_context():
            assert current_bastion().csrf_signer.keys == (derive_key(OLD, "csrf"),)
            assert signer("mine").keys == (derive_key(OLD, "mine"),)
    finally:
        app.extensions["bastion"].db.dispose()


# ---- the public signer -----------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [ROTATED])
def test_apps_get_a_signer_per_purpose_that_rotates(app: Flask) -> None:
    with app.app_context():
        cursor_signer = signer(cursors.PURPOSE)
    assert signer(cursors.PURPOSE, app) == cursor_signer
    assert cursor_signer.keys == (
        derive_key(NEW, "newsroom-cursor"),
        derive_key(OLD, "newsroom-cursor"),
    )


@pytest.mark.parametrize("purpose", ["csrf", "signing-keys", ""])
@pytest.mark.parametrize("app_config", [ROTATED])
def test_bastion_purposes_are_not_handed_out(app: Flask, purpose: str) -> None:
    with pytest.raises(ValueError, match="choose a purpose of your own"):
        signer(purpose, app)
