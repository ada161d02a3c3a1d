"""Answers that take the same time whether or not an account exists.

Register, resend, forgot and code request do different work for an address with an account
(a token, a mail rendered and queued) and without one (nothing, or a dummy hash): measurable
even when the answer is the same. So these views answer no sooner than
``BASTION_ACCOUNT_MAIL_MIN_DURATION`` after the request began: both branches finish well
inside it, and the client sees the floor. ``tests/bench/enumeration.py`` measures the result.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from .state import current_bastion

F = TypeVar("F", bound=Callable[..., Any])


def uniform_duration(view: F) -> F:
    """Hold the answer of ``view`` (errors included) until the floor has passed."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        floor = current_bastion().settings.account_mail_min_duration
        started = time.monotonic()
        try:
            return view(*args, **kwargs)
        finally:
            left = floor - (time.monotonic() - started)
            if left > 0:
                time.sleep(left)

    return cast(F, wrapper)
