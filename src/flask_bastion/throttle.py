"""Rate limits as a view decorator: the one place a view's per-client-address limit is applied.

Limits that need the account (per identity on sign-in) are counted inside the flow that knows
it; this decorator counts the request itself, by client address.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import request

from .state import current_bastion

F = TypeVar("F", bound=Callable[..., Any])


def rate_limited(setting: str, *, scope: str) -> Callable[[F], F]:
    """Count each call against the limit in settings field ``setting`` (e.g. ``"5/minute"``),
    per client address; over it, 429 ``rate_limited`` with ``Retry-After``.

    ``scope`` names the counter, so two views sharing a limit string keep separate counts.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            state = current_bastion()
            limit: str = getattr(state.settings, setting)
            state.limits.hit(limit, scope, request.remote_addr or "")
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator
