"""Bastion: a secure, batteries-included backend for single-page apps, on Flask."""

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
