"""Signed-in devices: list a user's sessions (browser and app alike), end them, re-authenticate.

Ending a session other than your own needs a recent sign-in, so a stolen session cannot lock
its owner out of all their others. No HTTP here: domain errors only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from ..db import rowcount
from ..errors import InvalidCredentials, InvalidMfaCode, MfaRequired, NotFound
from ..freshness import require_recent_sign_in
from ..models import AuthSession
from ..principal import Principal
from . import mfa
from .accounts import SignInGuard, authenticate
from .context import FlowContext

# What a session id can look like (the column holds 32 characters); anything else is no session.
SESSION_ID = re.compile(r"[0-9A-Za-z_-]{1,32}")


def live_sessions(ctx: FlowContext, user_id: int) -> list[AuthSession]:
    """The user's sessions that have not timed out, most recently used first."""
    now = ctx.now
    rows = ctx.db.scalars(
        select(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.expires_at > now)
        .order_by(AuthSession.last_seen_at.desc(), AuthSession.id)
    ).all()
    return [s for s in rows if now < s.last_seen_at + timedelta(seconds=s.idle_timeout)]


def end_session(ctx: FlowContext, principal: Principal, session_id: str) -> None:
    """End one of the caller's sessions; someone else's id is 404, as if it did not exist."""
    if not SESSION_ID.fullmatch(session_id):
        raise NotFound("There is no such session.")
    if session_id != principal.session_id:
        require_recent_sign_in(principal, ctx.settings, now=ctx.now)
    stmt = delete(AuthSession).where(
        AuthSession.id == session_id, AuthSession.user_id == principal.user_id
    )
    if not rowcount(ctx.db.execute(stmt)):
        raise NotFound("There is no such session.")


def end_other_sessions(ctx: FlowContext, principal: Principal) -> int:
    """End every session of the caller except the current one; how many ended.

    The view requires a recent sign-in (``fresh_login_required``).
    """
    stmt = delete(AuthSession).where(
        AuthSession.user_id == principal.user_id, AuthSession.id != principal.session_id
    )
    return rowcount(ctx.db.execute(stmt))


@dataclass(frozen=True)
class Reauthenticated:
    """When the sign-in became recent again, and which second factor it took, if any."""

    at: datetime
    factor: mfa.Factor | None


def reauthenticate(
    ctx: FlowContext, principal: Principal, *, password: str, code: str | None = None
) -> Reauthenticated:
    """Confirm the caller's password (with login's rate limits) and, when the user has a second
    factor, a code from it too; then renew ``authenticated_at``.

    Without a ``code`` such a user gets :class:`MfaRequired` (no challenge is stored: the next
    try sends password and code together). A wrong code counts like one at the sign-in's code
    step (the same guard), so a stolen session cannot guess its way to a recent sign-in.
    """
    user = authenticate(ctx, identity=principal.username, password=password)
    if user.id != principal.user_id:  # cannot happen while usernames are unique; fail closed
        raise InvalidCredentials()
    factor: mfa.Factor | None = None
    # A password alone must not unlock turning the second factor off or adding a passkey.
    if mfa.has_second_factor(ctx, user):
        if code is None:
            raise MfaRequired(methods=mfa.state(ctx, user.id).methods)
        guard = SignInGuard.of(ctx, "mfa", None, user)
        guard.check()
        factor = mfa.check_second_factor(ctx, user, code)
        if factor is None:
            guard.failed()
            raise InvalidMfaCode(user_id=user.id)
    ctx.db.execute(
        update(AuthSession)
        .where(AuthSession.id == principal.session_id)
        .values(authenticated_at=ctx.now)
    )
    return Reauthenticated(ctx.now, factor)
