"""Passkeys: register, list and remove them, and sign in with one (rules in
:mod:`flask_bastion.security.passkeys`).

Each ceremony (options, then the browser's answer) is a row of ``passkey_challenges`` found by
the hash of the handle in the browser's cookie, used up by the first answer, right or wrong.
No HTTP here: domain errors only; the errors of a used-up ceremony keep their writes.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from ..db import rowcount
from ..errors import (
    ChallengeExpired,
    ChallengeInvalid,
    NotFound,
    PasskeyCloned,
    PasskeyExists,
    PasskeySignInFailed,
)
from ..models import Passkey, PasskeyChallenge, PasskeyUser, User
from ..security import passkeys as rules
from ..security.passkeys import Purpose
from .context import FlowContext

# What a passkey id can look like (token_urlsafe(16)); anything else is no passkey.
PASSKEY_ID = re.compile(r"[0-9A-Za-z_-]{1,32}")


@dataclass(frozen=True)
class Ceremony:
    """A started ceremony: the handle for the browser's cookie and the options (JSON) for its
    ``navigator.credentials`` call."""

    handle: str
    options: str


def _start(ctx: FlowContext, purpose: Purpose, user_id: int | None) -> tuple[str, bytes]:
    handle = rules.new_handle()
    ctx.db.add(
        PasskeyChallenge(
            handle_hash=rules.handle_hash(handle),
            purpose=purpose.value,
            user_id=user_id,
            created_at=ctx.now,
            expires_at=ctx.now + rules.CHALLENGE_LIFETIME,
        )
    )
    return handle, rules.challenge_for(handle)


def _consume(ctx: FlowContext, handle: str | None, purpose: Purpose, user_id: int | None) -> bytes:
    """Use up this browser's ceremony of ``purpose``; its challenge, or an error.

    The row goes whatever follows, so an answer can be tried once: a replayed assertion finds
    no ceremony. A registration ceremony is only its own user's.
    """
    if not handle or len(handle) > 128:
        raise ChallengeInvalid()
    row = ctx.db.scalars(
        select(PasskeyChallenge).where(PasskeyChallenge.handle_hash == rules.handle_hash(handle))
    ).first()
    if row is None:
        raise ChallengeInvalid()
    # One DELETE decides who used it: of two concurrent answers, only one removes the row.
    if not rowcount(ctx.db.execute(delete(PasskeyChallenge).where(PasskeyChallenge.id == row.id))):
        raise ChallengeInvalid()
    if row.purpose != purpose.value or row.user_id != user_id:
        raise ChallengeInvalid()
    if ctx.now >= row.expires_at:
        raise ChallengeExpired()
    return rules.challenge_for(handle)


def _user_handle(ctx: FlowContext, user_id: int) -> bytes:
    """The account's WebAuthn user handle, made on its first passkey and kept for good."""
    found = ctx.db.get(PasskeyUser, user_id)
    if found is None:
        found = PasskeyUser(user_id=user_id, user_handle=rules.new_user_handle())
        ctx.db.add(found)
    return found.user_handle


def list_passkeys(ctx: FlowContext, user_id: int) -> list[Passkey]:
    """The user's passkeys, oldest first."""
    return list(
        ctx.db.scalars(
            select(Passkey)
            .where(Passkey.user_id == user_id)
            .order_by(Passkey.created_at, Passkey.id)
        )
    )


def begin_registration(ctx: FlowContext, user_id: int) -> Ceremony:
    """Start adding a passkey to the user's account: creation options that exclude the
    passkeys the account has already."""
    user = ctx.db.get(User, user_id)
    if user is None:  # deleted since its session was looked up
        raise NotFound("There is no such account.")
    user_handle = _user_handle(ctx, user.id)
    existing = [
        (p.credential_id, p.transports.split(",") if p.transports else [])
        for p in list_passkeys(ctx, user.id)
    ]
    handle, challenge = _start(ctx, Purpose.REGISTER, user.id)
    options = rules.creation_options(
        rules.relying_party(ctx.settings),
        user_handle=user_handle,
        user_name=user.email,
        display_name=user.username,
        challenge=challenge,
        existing=existing,
    )
    return Ceremony(handle, options)


def finish_registration(
    ctx: FlowContext, user_id: int, *, handle: str | None, credential: dict[str, Any], name: str
) -> Passkey:
    """Verify the browser's answer to this user's ceremony and store the new passkey."""
    challenge = _consume(ctx, handle, Purpose.REGISTER, user_id)
    new = rules.verify_registration(
        rules.relying_party(ctx.settings), credential, challenge=challenge
    )
    taken = ctx.db.scalars(
        select(Passkey.id).where(Passkey.credential_id == new.credential_id)
    ).first()
    if taken is not None:
        raise PasskeyExists()
    passkey = Passkey(
        id=secrets.token_urlsafe(16),
        user_id=user_id,
        credential_id=new.credential_id,
        public_key=new.public_key,
        sign_count=new.sign_count,
        transports=",".join(new.transports),
        user_handle=_user_handle(ctx, user_id),
        name=name,
        created_at=ctx.now,
        last_used_at=None,
    )
    ctx.db.add(passkey)
    return passkey


def remove_passkey(ctx: FlowContext, user_id: int, passkey_id: str) -> None:
    """Remove one of the user's passkeys; someone else's id is 404, as if it did not exist."""
    if not PASSKEY_ID.fullmatch(passkey_id):
        raise NotFound("There is no such passkey.")
    stmt = delete(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user_id)
    if not rowcount(ctx.db.execute(stmt)):
        raise NotFound("There is no such passkey.")


def begin_login(ctx: FlowContext) -> Ceremony:
    """Start a passkey sign-in: request options naming nobody (discoverable credentials)."""
    handle, challenge = _start(ctx, Purpose.LOGIN, None)
    return Ceremony(
        handle, rules.request_options(rules.relying_party(ctx.settings), challenge=challenge)
    )


def finish_login(ctx: FlowContext, *, handle: str | None, credential: dict[str, Any]) -> User:
    """The user whose passkey signed this browser's challenge; the passkey's counter moves on.

    Whether the user may sign in now is the sign-in pipeline's call.
    """
    challenge = _consume(ctx, handle, Purpose.LOGIN, None)
    credential_id = rules.credential_id_of(credential)
    passkey = None
    if credential_id is not None and len(credential_id) <= rules.MAX_CREDENTIAL_ID_BYTES:
        passkey = ctx.db.scalars(
            select(Passkey).where(Passkey.credential_id == credential_id)
        ).first()
    if passkey is None:
        raise PasskeySignInFailed()
    if not rules.same_user_handle(passkey.user_handle, rules.user_handle_of(credential)):
        raise PasskeySignInFailed()
    count = rules.verify_assertion(
        rules.relying_party(ctx.settings),
        credential,
        challenge=challenge,
        public_key=passkey.public_key,
    )
    cloned = PasskeyCloned(user_id=passkey.user_id, passkey_id=passkey.id)
    if rules.is_cloned(passkey.sign_count, count):
        raise cloned
    # The counter moves only forward, decided by one conditional UPDATE: of a copy and the
    # original racing with the same count, one wins and the other is a clone.
    moved = (
        update(Passkey)
        .where(Passkey.id == passkey.id)
        .values(sign_count=count, last_used_at=ctx.now)
    )
    if count > 0:
        moved = moved.where(Passkey.sign_count < count)
    if not rowcount(ctx.db.execute(moved)):
        raise cloned
    user = ctx.db.get(User, passkey.user_id)
    if user is None:  # deleted meanwhile; the cascade normally takes its passkeys along
        raise PasskeySignInFailed()
    return user
