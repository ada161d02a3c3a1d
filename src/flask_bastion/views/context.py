"""What views hand to flows and to the audit trail, read from the current request in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

from flask import request

from .. import audit, clock
from ..errors import BastionError
from ..flows.context import Client, FlowContext
from ..state import current_bastion


def request_client() -> Client:
    """The device of the current request, as session records keep it."""
    return Client(ip=request.remote_addr or "", user_agent=request.user_agent.string)


def flow_context() -> FlowContext:
    """The flows' view of this request: its unit of work, the collaborators, client and time."""
    state = current_bastion()
    return FlowContext(
        db=state.db.session,
        settings=state.settings,
        passwords=state.passwords,
        limits=state.limits,
        access_tokens=state.access_tokens,
        client=request_client(),
        now=clock.now(),
    )


def record(event: StrEnum, **fields: Any) -> None:
    """Write an audit event for this request, from the client address it came from."""
    audit.record(event, ip=request.remote_addr, **fields)


@contextmanager
def failures_recorded(event: StrEnum, **fields: Any) -> Iterator[None]:
    """Record ``event`` with the error's code as ``reason`` when the block fails, then re-raise."""
    try:
        yield
    except BastionError as error:
        record(event, reason=error.code, **fields)
        raise
