"""Changing a signed-in user's password or email address.

Both need the current password, so a borrowed or stolen session cannot take the account. A
new password ends every other session (browser and app alike) and voids reset links; a new
address takes effect only when the link mailed to it is opened, and the uniqueness rules apply
at that moment. No HTTP here: domain errors only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import sessions
from ..errors import EmailTaken, InvalidCredentials, TokenInvalid
from ..identity import identity_key
from ..models import User
from ..principal import Principal
from ..security.devices import device_hash
from ..security.one_time import Purpose
from ..throttle import count_mail_request
from . import mails
from .accounts import authenticate, check_new_password
from .context import FlowContext
from .one_time import check_live, find_link, issue_link, owner, void_all
from .recovery import end_pending_second_factor, forget_devices, set_password


def _verified(ctx: FlowContext, principal: Principal, password: str) -> User:
    # Sign-in's check, with its per-address and per-account limits and its dummy hash.
    user = authenticate(ctx, identity=principal.username, password=password)
    if user.id != principal.user_id:  # cannot happen while usernames are unique; fail closed
        raise InvalidCredentials()
    return user


def change_password(
    ctx: FlowContext, principal: Principal, *, current_password: str, new_password: str
) -> int:
    """Set a new password; every other session of the user ends. How many ended."""
    user = _verified(ctx, principal, current_password)
    check_new_password(ctx.settings, new_password, email=user.email, username=user.username)
    set_password(ctx, user, new_password)
    ended = sessions.revoke_all_for_user(ctx.db, user.id, keep=principal.session_id)
    # Devices made known, and second-factor steps begun, with the old password end with it;
    # the device making the change stays known.
    claim = ctx.client.device_of(user.id)
    forget_devices(ctx, user.id, keep=device_hash(claim.device_id) if claim else None)
    end_pending_second_factor(ctx, user.id)
    mails.password_changed(ctx, user)
    return ended


def request_email_change(
    ctx: FlowContext, principal: Principal, *, email: str, password: str
) -> None:
    """Mail a link to the new address and a notice to the current one. Whether the new address
    is taken is not said here (that would reveal accounts): the link's use decides."""
    user = _verified(ctx, principal, password)
    key = identity_key(email)
    count_mail_request(
        ctx.limits, ctx.settings, ip=ctx.client.ip, scope="email-change", target=str(user.id)
    )
    if key == user.email_key:
        return  # nothing would change; the answer stays the same
    void_all(ctx, user.id, Purpose.EMAIL_CHANGE)  # one pending change at a time
    token = issue_link(
        ctx,
        user,
        Purpose.EMAIL_CHANGE,
        lifetime=ctx.settings.email_change_token_lifetime,
        email=email,
    )
    mails.email_change(ctx, user, email, token)
    mails.email_change_notice(ctx, user)


@dataclass(frozen=True)
class EmailChange:
    user: User
    already: bool  # the link was used before and the address is the new one already


def apply_email_change(ctx: FlowContext, token: str) -> EmailChange:
    """Apply a mailed email change. Opening the link again answers ``already`` instead of an
    error, so a mail scanner that fetched it first costs the person nothing."""
    row = find_link(ctx, Purpose.EMAIL_CHANGE, token)
    user = owner(ctx, row)
    if row.email is None:
        raise TokenInvalid()
    key = identity_key(row.email)
    if row.used_at is not None and user.email_key == key:
        return EmailChange(user, already=True)
    check_live(ctx, row)
    holder = ctx.db.scalar(select(User.id).where(User.email_key == key, User.id != user.id))
    if holder is not None:
        raise EmailTaken()
    row.used_at = ctx.now
    user.email = row.email
    user.email_key = key
    user.confirmed_at = ctx.now  # the link reached the new inbox: the address is theirs
    void_all(ctx, user.id, Purpose.RESET)  # links mailed to the old address die
    void_all(ctx, user.id, Purpose.CONFIRM)
    try:
        ctx.db.flush()
    except IntegrityError:  # another account took the address in the same instant
        raise EmailTaken() from None
    return EmailChange(user, already=False)
