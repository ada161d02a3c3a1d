"""Bastion: a secure, batteries-included backend for single-page apps, on Flask."""

from .access import (
    auth_required,
    csrf_exempt,
    current_bastion,
    current_principal,
    current_user,
    roles_accepted,
    roles_required,
)
from .config import Settings, UnsafeConfiguration
from .errors import BastionError, FieldError
from .extension import Bastion, BastionState
from .models import AuthSession, Base, Role, User
from .principal import Principal
from .signers import signer

__all__ = [
    "AuthSession",
    "Base",
    "Bastion",
    "BastionError",
    "BastionState",
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
    "roles_accepted",
    "roles_required",
    "signer",
]
