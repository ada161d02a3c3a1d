"""Signing keys for access tokens: kept in the database, cached per process, rotated with overlap.

Every instance reads the same ``signing_keys`` table and caches it for ``cache_ttl`` seconds.
Rotation is safe across instances because a new key is *published* one cache period before it
*signs*: by the time any instance signs with it, every instance already trusts it. A retired key
keeps verifying (and stays in the JWKS) until the last token it could have signed has expired.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Engine, Table, insert, select, update

from .audit import AuditEvent, record
from .models import SigningKey
from .security import access_tokens
from .security.access_tokens import ALGORITHM
from .security.signing import derive_keys

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

# cryptography (9 MiB in every process) and PyJWT are imported where keys are made, opened or
# used: a worker that only serves browsers (cookie sessions) never touches a signing key.

_keys = cast(Table, SigningKey.__table__)
_ENVELOPE = "v1."
MISS_RELOAD_INTERVAL = timedelta(seconds=1)
# Fixed: the keys stored encrypted under it must keep opening.
WRAPPING_PURPOSE = "signing-keys"


@dataclass(frozen=True)
class LoadedKey:
    """One signing key as this process holds it (the private half only if we could decrypt it)."""

    kid: str
    public_key: Ed25519PublicKey
    private_key: Ed25519PrivateKey | None
    created_at: datetime
    retired_at: datetime | None

    def jwk(self) -> dict[str, str]:
        from cryptography.hazmat.primitives import serialization

        raw = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
            "kid": self.kid,
            "alg": ALGORITHM,
            "use": "sig",
        }


@dataclass(frozen=True)
class _Cache:
    loaded_at: datetime
    keys: tuple[LoadedKey, ...]
    public_keys: dict[str, Ed25519PublicKey]


def seal(private_key: Ed25519PrivateKey, kid: str, wrapping_key: bytes) -> str:
    """Encrypt a private key for storage; the kid is bound in, so rows cannot be swapped."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    nonce = os.urandom(12)
    sealed = AESGCM(wrapping_key).encrypt(nonce, pem, kid.encode())
    return _ENVELOPE + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(stored: str, kid: str, wrapping_keys: Sequence[bytes]) -> Ed25519PrivateKey | None:
    """The private key, or None when no current or fallback secret opens it."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not stored.startswith(_ENVELOPE):
        return None
    blob = base64.urlsafe_b64decode(stored.removeprefix(_ENVELOPE))
    for wrapping_key in wrapping_keys:
        try:
            pem = AESGCM(wrapping_key).decrypt(blob[:12], blob[12:], kid.encode())
        except InvalidTag:
            continue
        key = serialization.load_pem_private_key(pem, password=None)
        return key if isinstance(key, Ed25519PrivateKey) else None
    return None


class KeyStore:
    """The signing keys of one app, loaded from the database at most once per ``cache_ttl``."""

    def __init__(
        self,
        engine: Engine,
        secret_keys: Sequence[str | bytes],
        *,
        cache_ttl: int,
        token_lifetime: int,
    ) -> None:
        self.engine = engine
        # One derived key per secret: SECRET_KEY encrypts, SECRET_KEY_FALLBACKS still decrypt.
        self.wrapping_keys = list(derive_keys(secret_keys, WRAPPING_PURPOSE))
        if not self.wrapping_keys:
            raise ValueError("no SECRET_KEY to protect signing keys with")
        self.cache_ttl = timedelta(seconds=cache_ttl)
        self.token_lifetime = timedelta(seconds=token_lifetime)
        self._lock = threading.Lock()
        self._loaded: _Cache | None = None

    # -- reading -------------------------------------------------------------------------------

    def keys(self, now: datetime) -> tuple[LoadedKey, ...]:
        """Every stored key, newest first, from the per-process cache."""
        return self._cache(now).keys

    def _cache(self, now: datetime) -> _Cache:
        cache = self._loaded
        if cache is not None and cache.loaded_at <= now < cache.loaded_at + self.cache_ttl:
            return cache
        with self._lock:
            cache = self._loaded
            if cache is not None and cache.loaded_at <= now < cache.loaded_at + self.cache_ttl:
                return cache
            keys = self._load()
            cache = _Cache(now, keys, {k.kid: k.public_key for k in keys})
            # An empty set is never cached: another instance may be creating the first key.
            self._loaded = cache if keys else None
            return cache

    def invalidate(self) -> None:
        """Forget the cache: the next call reads the table again."""
        with self._lock:
            self._loaded = None

    def verifies_until(self, key: LoadedKey) -> datetime | None:
        """When ``key`` stops verifying: its last token's expiry, plus a cache period of slack."""
        if key.retired_at is None:
            return None
        return key.retired_at + self.token_lifetime + self.cache_ttl

    def verification_keys(self, now: datetime) -> Mapping[str, Ed25519PublicKey]:
        """kid -> public key of every key whose tokens may still be alive."""
        cache = self._cache(now)
        expired = {
            k.kid
            for k in cache.keys
            if (until := self.verifies_until(k)) is not None and now >= until
        }
        if expired:
            return {kid: key for kid, key in cache.public_keys.items() if kid not in expired}
        return cache.public_keys

    def public_key(self, kid: str, now: datetime) -> Ed25519PublicKey | None:
        """The key that verifies tokens of ``kid``, or None for a kid we never issued (or retired).

        An unknown kid re-reads the table, at most once per second, in case it is brand new.
        """
        key = self.verification_keys(now).get(kid)
        cache = self._loaded
        if key is None and (cache is None or now >= cache.loaded_at + MISS_RELOAD_INTERVAL):
            self.invalidate()
            key = self.verification_keys(now).get(kid)
        return key

    def jwks(self, now: datetime) -> dict[str, Any]:
        """The JSON Web Key Set: public halves of every key that may still verify."""
        live = self.verification_keys(now)
        return {"keys": [k.jwk() for k in self.keys(now) if k.kid in live]}

    def signing_key(self, now: datetime) -> LoadedKey:
        """The key that signs now; the first key is created on first use."""
        key = self._pick_signer(self.keys(now), now)
        if key is None:
            self.create(now)
            key = self._pick_signer(self.keys(now), now)
        assert key is not None
        return key

    def _pick_signer(self, keys: Sequence[LoadedKey], now: datetime) -> LoadedKey | None:
        usable = [
            k
            for k in keys
            if k.private_key is not None and (k.retired_at is None or now < k.retired_at)
        ]
        # A new key signs only once every instance's cache has had time to learn it; until
        # then the oldest usable key (the one that has been signing) carries on.
        published = [k for k in usable if k.created_at + self.cache_ttl <= now]
        if published:
            return published[0]
        return usable[-1] if usable else None

    # -- writing -------------------------------------------------------------------------------

    def create(self, now: datetime) -> LoadedKey:
        """Add a key (used when none can sign, e.g. on a fresh database)."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        private_key = Ed25519PrivateKey.generate()
        kid = self._insert(private_key, now)
        record(AuditEvent.SIGNING_KEY_CREATED, ip=None, kid=kid)
        self.invalidate()
        return LoadedKey(kid, private_key.public_key(), private_key, now, None)

    def rotate(self, now: datetime) -> LoadedKey:
        """Make a new current key; the old ones stop signing once the new one is published."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        private_key = Ed25519PrivateKey.generate()
        switch_at = now + self.cache_ttl
        with self.engine.begin() as conn:
            conn.execute(
                update(_keys)
                .where(_keys.c.retired_at.is_(None) | (_keys.c.retired_at > switch_at))
                .values(retired_at=switch_at)
            )
            kid = self._insert(private_key, now, conn=conn)
        record(AuditEvent.SIGNING_KEY_ROTATED, ip=None, kid=kid)
        self.invalidate()
        return LoadedKey(kid, private_key.public_key(), private_key, now, None)

    def _insert(self, private_key: Ed25519PrivateKey, now: datetime, conn: Any = None) -> str:
        from cryptography.hazmat.primitives import serialization

        kid = secrets.token_urlsafe(12)
        public_pem = private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        row = {
            "kid": kid,
            "algorithm": ALGORITHM,
            "public_key": public_pem.decode(),
            "private_key": seal(private_key, kid, self.wrapping_keys[0]),
            "created_at": now,
            "retired_at": None,
        }
        if conn is not None:
            conn.execute(insert(_keys).values(**row))
        else:
            with self.engine.begin() as own:
                own.execute(insert(_keys).values(**row))
        return kid

    def _load(self) -> tuple[LoadedKey, ...]:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_keys)
                .where(_keys.c.algorithm == ALGORITHM)
                .order_by(_keys.c.created_at.desc(), _keys.c.kid)
            ).all()
        loaded = []
        for row in rows:
            public_key = serialization.load_pem_public_key(row.public_key.encode())
            if not isinstance(public_key, Ed25519PublicKey):
                continue
            loaded.append(
                LoadedKey(
                    kid=row.kid,
                    public_key=public_key,
                    private_key=unseal(row.private_key, row.kid, self.wrapping_keys),
                    created_at=row.created_at,
                    retired_at=row.retired_at,
                )
            )
        return tuple(loaded)


def fingerprint(key: LoadedKey) -> str:
    """A short, shareable digest of a public key (for the CLI's listing)."""
    from cryptography.hazmat.primitives import serialization

    raw = key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class AccessTokens:
    """Issue and verify access tokens with the key store's keys: the one ``verify``.

    Requests (``Authorization: Bearer``) and revocation both verify through here. Verified tokens
    are remembered in a bounded per-process memo: an Ed25519 verification costs about as much as
    a whole small request, and a client sends the same token for minutes. Measured in process
    (``python -m tests.bench.inprocess --bearer``, 2026-12-01): a bearer ``GET /api/auth/session``
    costs 294 us with the memo and 475 us without it. A hit still re-checks expiry and that the
    signing key is still published; the session query (revocation, deactivation, roles) runs on
    every request all the same.
    """

    def __init__(
        self, keys: KeyStore, *, issuer: str, audience: str, lifetime: int, memo_size: int = 4096
    ) -> None:
        self.keys = keys
        self.issuer, self.audience, self.lifetime = issuer, audience, lifetime
        self.memo_size = memo_size
        self._memo: dict[str, tuple[access_tokens.AccessClaims, str]] = {}
        self._lock = threading.Lock()

    def issue(self, *, user_id: int, session_id: str, now: datetime) -> str:
        """A signed access token for a session.

        Resolve the signing key (:meth:`KeyStore.signing_key`) before the unit of work first
        writes: creating the very first key takes a transaction of its own, and on SQLite it
        would wait for the request's own write lock.
        """
        key = self.keys.signing_key(now)
        assert key.private_key is not None
        return access_tokens.issue(
            private_key=key.private_key,
            kid=key.kid,
            issuer=self.issuer,
            audience=self.audience,
            subject=str(user_id),  # the stable id: emails change and must not key anything
            session_id=session_id,
            lifetime=self.lifetime,
            now=now,
        )

    def verify(self, token: str, now: datetime) -> access_tokens.AccessClaims:
        """The token's claims once every check passes; :class:`InvalidToken` otherwise."""
        entry = self._memo.get(token)
        if entry is not None:
            claims, kid = entry
            if now.timestamp() < claims.expires_at and self.keys.public_key(kid, now) is not None:
                return claims
            self._memo.pop(token, None)
        claims = access_tokens.verify(
            token,
            key_for=lambda kid: self.keys.public_key(kid, now),
            issuer=self.issuer,
            audience=self.audience,
            now=now,
            max_lifetime=self.lifetime,
        )
        self._remember(token, claims)
        return claims

    def _remember(self, token: str, claims: access_tokens.AccessClaims) -> None:
        import jwt  # loaded already: the token was just verified

        kid = jwt.get_unverified_header(token)["kid"]
        with self._lock:
            while len(self._memo) >= self.memo_size:  # oldest first: dicts keep insertion order
                self._memo.pop(next(iter(self._memo)), None)
            self._memo[token] = (claims, kid)
