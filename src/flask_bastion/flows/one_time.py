"""One-time account tokens in the database: issue, find, use up (primitives in
:mod:`flask_bastion.security.one_time`). No HTTP here."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from ..errors import TokenExpired, TokenInvalid
from ..models import AccountToken, User
from ..security.one_time import Purpose, link_token_hash, new_link_token
from .context import FlowContext

# What a mailed link token can look like (token_urlsafe); anything else is not worth a query.
_URLSAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def issue_link(
    ctx: FlowContext,
    user: User,
    purpose: Purpose,
    *,
    lifetime: int,
    email: str | None = None,
    password_fingerprint: str | None = None,
) -> str:
    """Store the hash of a new link token for ``user`` and return the token (for the mail)."""
    token = new_link_token()
    ctx.db.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose.value,
            token_hash=link_token_hash(token),
            email=email,
            password_fingerprint=password_fingerprint,
            attempts=0,
            created_at=ctx.now,
            expires_at=ctx.now + timedelta(seconds=lifetime),
        )
    )
    return token


def find_link(ctx: FlowContext, purpose: Purpose, token: str) -> AccountToken:
    """The row of a link token of ``purpose``, used or not; unknown is :class:`TokenInvalid`."""
    if not token or len(token) > 512 or not set(token) <= _URLSAFE:
        raise TokenInvalid()
    row = ctx.db.scalars(
        select(AccountToken).where(
            AccountToken.token_hash == link_token_hash(token),
            AccountToken.purpose == purpose.value,
        )
    ).first()
    if row is None:
        raise TokenInvalid()
    return row


def check_live(ctx: FlowContext, row: AccountToken) -> None:
    """Refuse a used token, then an expired one (``email`` tells the error view whom to help)."""
    if row.used_at is not None:
        raise TokenInvalid()
    if ctx.now >= row.expires_at:
        expired = TokenExpired()
        expired.email = row.email
        raise expired


def void_all(ctx: FlowContext, user_id: int, purpose: Purpose) -> None:
    """Delete every token of ``purpose`` the user holds: older links stop working."""
    ctx.db.execute(
        delete(AccountToken).where(
            AccountToken.user_id == user_id, AccountToken.purpose == purpose.value
        )
    )


def owner(ctx: FlowContext, row: AccountToken) -> User:
    user = ctx.db.get(User, row.user_id)
    if user is None:  # the account was deleted; the cascade normally takes its tokens along
        raise TokenInvalid()
    return user
