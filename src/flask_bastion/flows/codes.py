"""Sign-in codes: six digits by email in place of a password.

A code is bound to one account, valid for ``BASTION_SIGNIN_CODE_LIFETIME``, single use, and
dies after :data:`security.one_time.CODE_MAX_ATTEMPTS` wrong tries; asking again replaces it.
Using one proves the address. No HTTP here: domain errors only.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..errors import InvalidCode
from ..identity import identity_key, looks_like_email
from ..models import AccountToken, User
from ..security.one_time import (
    CODE_MAX_ATTEMPTS,
    Purpose,
    code_hash,
    code_matches,
    dummy_code_check,
    new_code,
)
from ..throttle import count_mail_request
from . import mails
from .context import FlowContext
from .one_time import void_all


def _user(ctx: FlowContext, key: str) -> User | None:
    column = User.email_key if looks_like_email(key) else User.username_key
    return ctx.db.scalars(select(User).where(column == key)).first()


def request_code(ctx: FlowContext, *, identity: str) -> None:
    """Mail a new code when ``identity`` (an email or a username) names an active account;
    else spend the same hashing and say the same."""
    key = identity_key(identity)
    count_mail_request(ctx.limits, ctx.settings, ip=ctx.client.ip, scope="code", target=key)
    user = _user(ctx, key)
    code = new_code()
    if user is None or not user.active:
        dummy_code_check(ctx.code_signer, code)
        return
    void_all(ctx, user.id, Purpose.SIGNIN_CODE)  # a new request replaces the old code
    ctx.db.add(
        AccountToken(
            user_id=user.id,
            purpose=Purpose.SIGNIN_CODE.value,
            token_hash=code_hash(ctx.code_signer, user.id, code),
            attempts=0,
            created_at=ctx.now,
            expires_at=ctx.now + timedelta(seconds=ctx.settings.signin_code_lifetime),
        )
    )
    mails.signin_code(ctx, user, code)


class WrongCode(InvalidCode):
    """A wrong or spent code of an account that awaits one: the client gets the answer any bad
    code gets; the audit trail also learns which account it was tried on."""

    def __init__(self, user_id: int) -> None:
        super().__init__()
        self.audit_fields = {"user_id": user_id}


def verify_code(ctx: FlowContext, *, identity: str, code: str) -> User:
    """The user whose live code this is; the code is used up and the address confirmed.

    Counted like a password sign-in (per client address, per identity); each wrong try also
    counts against the code itself, and its count stands although the request fails
    (:class:`InvalidCode` keeps its writes). Whether the user may sign in now is the sign-in
    pipeline's call.
    """
    settings, limits = ctx.settings, ctx.limits
    key = identity_key(identity)
    limits.hit(settings.login_limit_per_ip, "login-ip", ctx.client.ip)
    limits.check(settings.login_limit_per_identity, "code-identity", key)
    user = _user(ctx, key)
    row = None
    if user is not None:
        row = ctx.db.scalars(
            select(AccountToken).where(
                AccountToken.user_id == user.id,
                AccountToken.purpose == Purpose.SIGNIN_CODE.value,
                AccountToken.used_at.is_(None),
            )
        ).first()
    if user is None or row is None:
        dummy_code_check(ctx.code_signer, code)
        limits.hit(settings.login_limit_per_identity, "code-identity", key)
        raise InvalidCode()
    live = ctx.now < row.expires_at and row.attempts < CODE_MAX_ATTEMPTS
    if not (code_matches(ctx.code_signer, user.id, code, row.token_hash) and live):
        row.attempts += 1
        if row.attempts >= CODE_MAX_ATTEMPTS:
            row.used_at = ctx.now  # spent: only a new mail brings a new code
        limits.hit(settings.login_limit_per_identity, "code-identity", key)
        raise WrongCode(user.id)
    row.used_at = ctx.now
    if user.confirmed_at is None:
        user.confirmed_at = ctx.now  # the code reached the inbox: the address is theirs
    return user
