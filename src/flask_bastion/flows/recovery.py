"""Password reset by email: ask for a link, check it, set a new password with it.

A reset link is single use, short-lived, and bound to the password it may replace (its
fingerprint, :func:`security.one_time.password_fingerprint`): once the password changes by any
route, every link mailed before is dead. A reset ends every session and app session of the
user and proves the address. No HTTP here: domain errors only.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from .. import sessions
from ..errors import TokenInvalid
from ..identity import identity_key
from ..models import AccountToken, KnownDevice, MfaChallenge, User
from ..security.one_time import Purpose, password_fingerprint, same_fingerprint
from ..throttle import count_mail_request
from . import mails
from .accounts import check_new_password
from .context import FlowContext
from .one_time import check_live, find_link, issue_link, owner, void_all


def forgot(ctx: FlowContext, *, email: str) -> None:
    """Mail a reset link when ``email`` belongs to an active account; else nothing, with the
    same answer (the view answers 202 either way)."""
    key = identity_key(email)
    count_mail_request(ctx.limits, ctx.settings, ip=ctx.client.ip, scope="reset", target=key)
    user = ctx.db.scalars(select(User).where(User.email_key == key)).first()
    if user is None or not user.active:
        return
    token = issue_link(
        ctx,
        user,
        Purpose.RESET,
        lifetime=ctx.settings.reset_token_lifetime,
        password_fingerprint=password_fingerprint(user.password_hash),
    )
    mails.reset_password(ctx, user, token)


def _usable(ctx: FlowContext, token: str) -> tuple[AccountToken, User]:
    row = find_link(ctx, Purpose.RESET, token)
    check_live(ctx, row)
    user = owner(ctx, row)
    if not user.active or not same_fingerprint(
        row.password_fingerprint, password_fingerprint(user.password_hash)
    ):
        raise TokenInvalid()  # the password changed since the link was mailed
    return row, user


def check(ctx: FlowContext, token: str) -> None:
    """Whether a reset link still works; reads only (a mail scanner's GET must not use it up)."""
    _usable(ctx, token)


def reset(ctx: FlowContext, *, token: str, password: str) -> User:
    """Set a new password with a reset link: the link is used up, every other reset link and
    every session of the user end, and the address counts as confirmed. Does not sign in."""
    row, user = _usable(ctx, token)
    check_new_password(ctx.settings, password, email=user.email, username=user.username)
    row.used_at = ctx.now
    set_password(ctx, user, password)
    sessions.revoke_all_for_user(ctx.db, user.id)  # app sessions take their refresh families
    # Whoever held the old password may have made a device known or begun a second-factor
    # step with it: neither may outlive the password (a known device skips the sign-in delay).
    forget_devices(ctx, user.id)
    end_pending_second_factor(ctx, user.id)
    if user.confirmed_at is None:
        user.confirmed_at = ctx.now  # the link reached the inbox: the address is theirs
    return user


def set_password(ctx: FlowContext, user: User, password: str) -> None:
    """Replace the password hash; outstanding reset links die with the old password."""
    user.password_hash = ctx.passwords.hash(password)
    void_all(ctx, user.id, Purpose.RESET)


def forget_devices(ctx: FlowContext, user_id: int, *, keep: str | None = None) -> None:
    """Forget the user's known devices, but the one whose device hash is ``keep``."""
    stmt = delete(KnownDevice).where(KnownDevice.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(KnownDevice.device_hash != keep)
    ctx.db.execute(stmt)


def end_pending_second_factor(ctx: FlowContext, user_id: int) -> None:
    """End every pending second-factor step of the user (each began with the old password)."""
    ctx.db.execute(delete(MfaChallenge).where(MfaChallenge.user_id == user_id))
