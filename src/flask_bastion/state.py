"""What Bastion keeps per app, and the accessor every other module reaches it through.

A leaf module: it imports no views, decorators or transports, so anything may import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from flask import Flask, Request, current_app, g, request

from .config import Settings
from .db import Database
from .ratelimit import RateLimits
from .security.passwords import Passwords
from .security.second_factor import MfaKeys
from .security.signing import Signer
from .signing_keys import AccessTokens, KeyStore

if TYPE_CHECKING:
    from flask.ctx import _AppCtxGlobals
    from werkzeug.local import LocalProxy


@dataclass
class BastionState:
    """Everything Bastion keeps per app, at ``app.extensions["bastion"]``."""

    settings: Settings
    db: Database
    passwords: Passwords
    limits: RateLimits
    csrf_signer: Signer
    keys: KeyStore
    access_tokens: AccessTokens
    code_signer: Signer
    device_signer: Signer  # the known-device cookie (security/devices.py)
    mfa_keys: MfaKeys
    spec: dict[str, Any] | None = None
    trusted_origins: frozenset[str] = field(default_factory=frozenset)


def current_bastion() -> BastionState:
    """The Bastion state of the current app (``app.extensions["bastion"]``)."""
    return cast(BastionState, current_app.extensions["bastion"])


# The objects behind Flask's context proxies, for the per-request hooks that read them many
# times: each read through a proxy looks the context up again (about 0.5 us).
def this_app() -> Flask:
    return cast("LocalProxy[Flask]", current_app)._get_current_object()


def this_request() -> Request:
    return cast("LocalProxy[Request]", request)._get_current_object()


def this_g() -> _AppCtxGlobals:
    return cast("LocalProxy[_AppCtxGlobals]", g)._get_current_object()
