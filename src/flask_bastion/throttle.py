"""Rate limits as a view decorator: the one place a view's per-client-address limit is applied,
and the rule for requests that send mail.

Limits that need the account (per identity on sign-in) are counted inside the flow that knows
it; this decorator counts the request itself, by client address. Mail-sending flows call
:func:`count_mail_request` with the address they would write to.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import request

from .config import Settings
from .ratelimit import RateLimits
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


def count_mail_request(
    limits: RateLimits, settings: Settings, *, ip: str, scope: str, target: str
) -> None:
    """Count a request that may send a mail to ``target``: per client address (one count for
    every mail-sending endpoint) and per target address or account within ``scope``.

    The target is counted whether or not it has an account, before anything is looked up, so
    a 429 tells nothing about who is registered; the per-target count stops anyone from
    flooding one inbox from many addresses.
    """
    limits.hit(settings.mail_limit_per_ip, "mail-ip", ip)
    limits.hit(settings.mail_limit_per_address, f"mail-{scope}", target)
