"""Email confirmation: the link that proves an address, resending it, and registering when
confirmation is ``required`` (an answer that never says whether the address had an account).

The sign-in stage that holds back unconfirmed users is :func:`flows.signin.email_confirmation`.
No HTTP here: domain errors only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..errors import Conflict, FieldError, TokenInvalid
from ..identity import identity_key
from ..models import User
from ..schemas import RegisterInput
from ..security.one_time import Purpose
from ..throttle import count_mail_request
from . import mails
from .accounts import check_new_password, create_user
from .context import FlowContext
from .one_time import check_live, find_link, issue_link, owner


@dataclass(frozen=True)
class Confirmation:
    """Whose address a link confirmed; ``already`` when it was confirmed before (a mail
    scanner fetched the link first, or the person opened it twice)."""

    user: User
    already: bool


def send_link(ctx: FlowContext, user: User) -> None:
    """Mail ``user`` a link that confirms their current address."""
    token = issue_link(
        ctx,
        user,
        Purpose.CONFIRM,
        lifetime=ctx.settings.confirm_token_lifetime,
        email=user.email,
    )
    mails.confirm(ctx, user, token)


def register_unconfirmed(ctx: FlowContext, data: RegisterInput) -> User | None:
    """Sign up with ``required`` confirmation: the same outcome whether the email is free or not.

    A free address gets an unconfirmed account and a confirm link; a taken one gets a notice
    to its owner instead. Both branches hash the password and queue one mail, so neither the
    answer nor its timing tells them apart. Usernames are public: a taken one is still a 409.
    """
    check_new_password(ctx.settings, data.password, email=data.email, username=data.username)
    email_key = identity_key(data.email)
    count_mail_request(
        ctx.limits, ctx.settings, ip=ctx.client.ip, scope="register", target=email_key
    )
    username_taken = ctx.db.scalar(
        select(User.id).where(User.username_key == identity_key(data.username))
    )
    if username_taken is not None:
        raise Conflict(
            "The account already exists.",
            errors=[FieldError("username", "taken", "This username is taken.")],
        )
    password_hash = ctx.passwords.hash(data.password)  # in both branches: the same time
    existing = ctx.db.scalars(select(User).where(User.email_key == email_key)).first()
    if existing is not None:
        mails.already_registered(ctx, existing)
        return None
    user = create_user(ctx, data, password_hash=password_hash)
    send_link(ctx, user)
    return user


def resend(ctx: FlowContext, *, email: str) -> None:
    """Mail a new confirm link when ``email`` belongs to an unconfirmed account; else nothing,
    with the same answer."""
    key = identity_key(email)
    count_mail_request(ctx.limits, ctx.settings, ip=ctx.client.ip, scope="confirm", target=key)
    user = ctx.db.scalars(select(User).where(User.email_key == key)).first()
    if user is not None and user.active and user.confirmed_at is None:
        send_link(ctx, user)


def confirm(ctx: FlowContext, token: str) -> Confirmation:
    """Confirm the address a link was mailed to. Idempotent: a used link of a confirmed user
    answers ``already``, so a mail scanner that opened it first costs the person nothing."""
    row = find_link(ctx, Purpose.CONFIRM, token)
    user = owner(ctx, row)
    if row.email is None or identity_key(row.email) != user.email_key:
        raise TokenInvalid()  # mailed to an address the account no longer has
    if user.confirmed_at is not None:
        if row.used_at is None:
            row.used_at = ctx.now
        return Confirmation(user, already=True)
    check_live(ctx, row)
    row.used_at = ctx.now
    user.confirmed_at = ctx.now
    return Confirmation(user, already=False)
