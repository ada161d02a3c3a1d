"""The app's secret keys, and the signers derived from them: one per purpose."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app

from .security.signing import Signer

# Bastion's own purposes: a MAC an app could make under one of them on data it chose would
# pass as a CSRF token, or a key derived for one would open the stored signing keys.
RESERVED_PURPOSES = frozenset(
    {
        "csrf",
        "signing-keys",
        "signin-codes",
        "totp-secrets",
        "recovery-codes",
        "security-events-cursor",
    }
)


def secret_keys(config: Mapping[str, Any]) -> tuple[str | bytes, ...]:
    """``SECRET_KEY`` then ``SECRET_KEY_FALLBACKS`` (newest first), without empty entries.

    Flask's own default for ``SECRET_KEY_FALLBACKS`` is None, not a list.
    """
    listed = [config.get("SECRET_KEY"), *(config.get("SECRET_KEY_FALLBACKS") or ())]
    return tuple(s for s in listed if s)


def signer(purpose: str, app: Flask | None = None) -> Signer:
    """A :class:`~flask_bastion.security.signing.Signer` for one purpose of your app.

    Its key is derived from ``SECRET_KEY`` and ``purpose``, so what it signs verifies only
    under the same purpose (name one per use, e.g. ``"myapp-cursor"``), and keeps verifying
    after a rotation while the old key is listed in ``SECRET_KEY_FALLBACKS``. ``app`` defaults
    to the current app. Bastion's own purposes (``"csrf"``, ``"signing-keys"``) are refused.
    """
    if not purpose or purpose in RESERVED_PURPOSES:
        raise ValueError(f"choose a purpose of your own, not {purpose!r}")
    return Signer.for_purpose(secret_keys((app or current_app).config), purpose)
