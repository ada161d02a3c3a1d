"""Bastion: a secure, batteries-included backend for single-page apps, on Flask.

The names below are loaded from their modules on first use, so that importing one small
module of the library (``flask_bastion.exposition``, say, in a process that only serves
metrics) does not load all of it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .access import (
        auth_required,
        csrf_exempt,
        current_principal,
        current_user,
        roles_accepted,
        roles_required,
    )
    from .config import Settings, UnsafeConfiguration
    from .errors import BastionError, FieldError
    from .extension import Bastion
    from .flows.signin import ClientKind
    from .freshness import fresh_login_required
    from .models import AuthSession, Base, Role, User
    from .principal import Principal
    from .signers import signer
    from .state import BastionState, current_bastion
    from .throttle import rate_limited

# Each public name and the module that defines it.
_EXPORTS = {
    "auth_required": ".access",
    "csrf_exempt": ".access",
    "current_principal": ".access",
    "current_user": ".access",
    "roles_accepted": ".access",
    "roles_required": ".access",
    "Settings": ".config",
    "UnsafeConfiguration": ".config",
    "BastionError": ".errors",
    "FieldError": ".errors",
    "Bastion": ".extension",
    "ClientKind": ".flows.signin",
    "fresh_login_required": ".freshness",
    "AuthSession": ".models",
    "Base": ".models",
    "Role": ".models",
    "User": ".models",
    "Principal": ".principal",
    "signer": ".signers",
    "BastionState": ".state",
    "current_bastion": ".state",
    "rate_limited": ".throttle",
}

__all__ = [
    "AuthSession",
    "Base",
    "Bastion",
    "BastionError",
    "BastionState",
    "ClientKind",
    "FieldError",
    "Principal",
    "Role",
    "Settings",
    "UnsafeConfiguration",
    "User",
    "auth_required",
    "csrf_exempt",
    "current_bastion",
    "current_principal",
    "current_user",
    "fresh_login_required",
    "rate_limited",
    "roles_accepted",
    "roles_required",
    "signer",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # found once; later lookups do not come here
    return value
