"""Recent sign-in: sensitive actions need a sign-in (or re-authentication) within a window.

A stolen session alone then cannot lock its owner out of their other sessions, nor change
what proves who they are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from . import clock
from .access import require_principal
from .config import Settings
from .errors import ReauthRequired
from .openapi import describe
from .principal import Principal
from .state import current_bastion

F = TypeVar("F", bound=Callable[..., Any])


def require_recent_sign_in(principal: Principal, settings: Settings, *, now: datetime) -> None:
    """Refuse (401 reauth_required) unless the caller signed in within the reauth window."""
    if now - principal.authenticated_at > timedelta(seconds=settings.reauth_window):
        raise ReauthRequired()


def fresh_login_required(view: F) -> F:
    """Let only callers who signed in recently reach the view: anonymous 401, stale 401
    ``reauth_required`` (confirm the password at ``/reauth`` first)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        require_recent_sign_in(require_principal(), current_bastion().settings, now=clock.now())
        return view(*args, **kwargs)

    describe(wrapper, auth=True)
    return cast(F, wrapper)
