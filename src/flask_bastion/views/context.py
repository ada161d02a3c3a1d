"""What views hand to flows and to the audit trail, read from the current request in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

from flask import request

from .. import audit, clock
from ..errors import BastionError, Forbidden
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
        code_signer=state.code_signer,
        mfa_keys=state.mfa_keys,
    )


def record(event: StrEnum, **fields: Any) -> None:
    """Write an audit event for this request, from the client address it came from."""
    audit.record(event, ip=request.remote_addr, **fields)


# Enough of a User-Agent to tell clients apart; the rest would only let a client flood the log.
USER_AGENT_LOGGED = 256


@contextmanager
def failures_recorded(event: StrEnum, **fields: Any) -> Iterator[None]:
    """Record ``event`` with the error's code as ``reason`` when the block fails, then re-raise.

    The record names the client's user agent and, when the error knows it (a wrong password for
    an existing account), the account's id. Never the identity typed: people type passwords
    into the identity field, and a plain hash of an email is undone by guessing.
    """
    try:
        yield
    except BastionError as error:
        known: dict[str, Any] = getattr(error, "audit_fields", {})
        user_agent = request.user_agent.string[:USER_AGENT_LOGGED]
        record(event, reason=error.code, user_agent=user_agent, **{**known, **fields})
        raise


@contextmanager
def denials_recorded(user_id: int, **fields: Any) -> Iterator[None]:
    """Record ``access_denied`` when the block refuses ``user_id`` with a 403, then re-raise:
    probing for what one may not touch is worth a line in the audit trail."""
    try:
        yield
    except Forbidden as error:
        record(
            audit.AuditEvent.ACCESS_DENIED,
            user_id=user_id,
            method=request.method,
            path=request.path,
            reason=error.code,
            **fields,
        )
        raise
