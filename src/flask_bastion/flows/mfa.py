"""The second factor: set up and turn off an authenticator app (TOTP), recovery codes, and the
pending sign-in that waits for one of them. No HTTP here: domain errors only.

A sign-in whose first factor passed, for a user with a second factor, stores a
:class:`~flask_bastion.models.MfaChallenge`: a random token, held by the client, bound to its
kind, alive for ``BASTION_MFA_CHALLENGE_LIFETIME`` and :data:`MFA_MAX_ATTEMPTS` wrong codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, cast

from sqlalchemy import Table, delete, func, select, update

from ..db import rowcount
from ..errors import (
    InvalidMfaCode,
    MfaChallengeInvalid,
    MfaNotEnabled,
    TotpAlreadyEnabled,
    TotpSetupRequired,
)
from ..models import MfaChallenge, RecoveryCode, TotpCredential, User
from ..security.second_factor import (
    MFA_MAX_ATTEMPTS,
    is_totp_code,
    matching_step,
    new_recovery_codes,
    new_totp_secret,
    otpauth_uri,
    qr_svg,
    recovery_code_hash,
    recovery_code_matches,
)
from ..security.tokens import new_token, token_hash
from .context import FlowContext

_totp = cast(Table, TotpCredential.__table__)
_codes = cast(Table, RecoveryCode.__table__)
_challenges = cast(Table, MfaChallenge.__table__)

Factor = Literal["totp", "recovery_code"]


@dataclass(frozen=True)
class TotpSetup:
    """A new, unconfirmed authenticator secret: shown once, for the app to scan or type."""

    secret: str
    otpauth_uri: str
    qr_svg: str


@dataclass(frozen=True)
class MfaState:
    methods: list[str]
    recovery_codes_remaining: int


@dataclass(frozen=True)
class Passed:
    """A pending sign-in whose second factor was right: the user and how they began."""

    user: User
    method: str
    remember: bool
    factor: Factor


def _credential(ctx: FlowContext, user_id: int) -> TotpCredential | None:
    return ctx.db.scalars(select(TotpCredential).where(TotpCredential.user_id == user_id)).first()


def _enabled(ctx: FlowContext, user_id: int) -> TotpCredential | None:
    row = _credential(ctx, user_id)
    return row if row is not None and row.confirmed_at is not None else None


def has_second_factor(ctx: FlowContext, user: User) -> bool:
    """Whether a password or a code alone no longer signs ``user`` in."""
    # A read only: the sign-in's pending writes wait, so an app sign-in still resolves its
    # signing key before its first write (see AccessTokens.issue).
    with ctx.db.no_autoflush:
        return _enabled(ctx, user.id) is not None


def _codes_remaining(ctx: FlowContext, user_id: int) -> int:
    return int(
        ctx.db.scalar(
            select(func.count())
            .select_from(_codes)
            .where(_codes.c.user_id == user_id, _codes.c.used_at.is_(None))
        )
        or 0
    )


def state(ctx: FlowContext, user_id: int) -> MfaState:
    """The ways that can finish a second-factor step for this user, and the codes left."""
    if _enabled(ctx, user_id) is None:
        return MfaState([], 0)
    remaining = _codes_remaining(ctx, user_id)
    return MfaState(["totp", "recovery_code"] if remaining else ["totp"], remaining)


def start_setup(ctx: FlowContext, user: User) -> TotpSetup:
    """A new secret, kept unconfirmed (a new setup replaces an unconfirmed one); nothing is
    enabled until :func:`confirm_setup` sees a code made from it."""
    row = _credential(ctx, user.id)
    if row is not None and row.confirmed_at is not None:
        raise TotpAlreadyEnabled()
    secret = new_totp_secret()
    sealed = ctx.mfa_keys.seal(secret)
    if row is None:
        ctx.db.add(TotpCredential(user_id=user.id, secret=sealed, created_at=ctx.now))
    else:
        row.secret, row.created_at, row.last_step = sealed, ctx.now, None
    uri = otpauth_uri(secret, account=user.email, issuer=ctx.settings.app_name)
    return TotpSetup(secret, uri, qr_svg(uri))


def confirm_setup(ctx: FlowContext, user: User, code: str) -> list[str]:
    """Turn the authenticator on once a code from it is right; the new recovery codes."""
    row = _credential(ctx, user.id)
    if row is None or row.confirmed_at is not None:
        raise TotpSetupRequired()
    secret = ctx.mfa_keys.open(row.secret)
    step = (
        matching_step(secret, code, now=ctx.now, after=None)
        if secret is not None and is_totp_code(code)
        else None
    )
    if step is None:
        raise InvalidMfaCode(user_id=user.id)
    row.confirmed_at, row.last_step = ctx.now, step  # this code is spent too
    return replace_recovery_codes(ctx, user)


def disable(ctx: FlowContext, user: User) -> None:
    """Turn the second factor off: the authenticator, its recovery codes, pending sign-ins."""
    if _enabled(ctx, user.id) is None:
        raise MfaNotEnabled()
    ctx.db.execute(delete(_totp).where(_totp.c.user_id == user.id))
    ctx.db.execute(delete(_codes).where(_codes.c.user_id == user.id))
    ctx.db.execute(delete(_challenges).where(_challenges.c.user_id == user.id))


def regenerate_recovery_codes(ctx: FlowContext, user: User) -> list[str]:
    """New recovery codes; every earlier one stops working."""
    if _enabled(ctx, user.id) is None:
        raise MfaNotEnabled()
    return replace_recovery_codes(ctx, user)


def replace_recovery_codes(ctx: FlowContext, user: User) -> list[str]:
    ctx.db.execute(delete(_codes).where(_codes.c.user_id == user.id))
    codes = new_recovery_codes()
    ctx.db.add_all(
        RecoveryCode(
            user_id=user.id,
            code_hash=recovery_code_hash(ctx.mfa_keys.recovery, user.id, code),
            created_at=ctx.now,
        )
        for code in codes
    )
    return codes


def start_challenge(ctx: FlowContext, user: User, *, kind: str, method: str, remember: bool) -> str:
    """Store a pending sign-in for ``user`` and return its token (for the cookie or the app)."""
    token = new_token()
    ctx.db.add(
        MfaChallenge(
            token_hash=token_hash(token),
            user_id=user.id,
            client_kind=kind,
            method=method,
            remember=remember,
            attempts=0,
            created_at=ctx.now,
            expires_at=ctx.now + timedelta(seconds=ctx.settings.mfa_challenge_lifetime),
        )
    )
    return token


def finish_challenge(ctx: FlowContext, *, token: str | None, kind: str, code: str) -> Passed:
    """The pending sign-in of ``token`` with its second factor checked, and used up.

    A token of another client kind, an expired one or one out of tries is no token. A wrong
    code counts against the challenge, and the count stands although the request fails
    (:class:`InvalidMfaCode` keeps its writes); the last allowed wrong try ends it.
    """
    row = None
    if token and len(token) <= 512:
        row = ctx.db.scalars(
            select(MfaChallenge).where(
                MfaChallenge.token_hash == token_hash(token), MfaChallenge.client_kind == kind
            )
        ).first()
    if row is None or ctx.now >= row.expires_at:
        raise MfaChallengeInvalid()
    user = ctx.db.get(User, row.user_id)
    if user is None:
        raise MfaChallengeInvalid()
    # Across every pending step of the account: new sign-ins with a stolen password must not
    # bring five new guesses each without end.
    per_account = ctx.settings.mfa_limit_per_account
    ctx.limits.check(per_account, "mfa-account", str(user.id))
    # A try is taken before the code is looked at, in one conditional UPDATE: concurrent
    # requests can never get more than the five between them.
    taken = ctx.db.execute(
        update(_challenges)
        .where(_challenges.c.id == row.id, _challenges.c.attempts < MFA_MAX_ATTEMPTS)
        .values(attempts=_challenges.c.attempts + 1)
    )
    if rowcount(taken) != 1:
        raise MfaChallengeInvalid()
    factor = check_second_factor(ctx, user, code)
    if factor is None:
        ctx.limits.hit(per_account, "mfa-account", str(user.id))
        ctx.db.execute(
            delete(_challenges).where(
                _challenges.c.id == row.id, _challenges.c.attempts >= MFA_MAX_ATTEMPTS
            )
        )
        raise InvalidMfaCode(user_id=user.id)
    # Of two requests finishing the same challenge, exactly one deletes it.
    if rowcount(ctx.db.execute(delete(_challenges).where(_challenges.c.id == row.id))) != 1:
        raise MfaChallengeInvalid()
    return Passed(user, row.method, row.remember, factor)


def check_second_factor(ctx: FlowContext, user: User, code: str) -> Factor | None:
    """Which factor ``code`` is for ``user`` (now used up), or None when it is none of them."""
    code = code.strip()
    credential = _enabled(ctx, user.id)
    if credential is None:
        return None
    if is_totp_code(code):
        secret = ctx.mfa_keys.open(credential.secret)
        if secret is None:
            return None
        step = matching_step(secret, code, now=ctx.now, after=credential.last_step)
        if step is None:
            return None
        # Conditional: of concurrent requests with the same code, one moves the step on.
        moved = ctx.db.execute(
            update(_totp)
            .where(
                _totp.c.id == credential.id,
                (_totp.c.last_step.is_(None)) | (_totp.c.last_step < step),
            )
            .values(last_step=step)
        )
        return "totp" if rowcount(moved) == 1 else None
    return _use_recovery_code(ctx, user, code)


def _use_recovery_code(ctx: FlowContext, user: User, code: str) -> Factor | None:
    if len(code) > 64:
        return None
    rows = ctx.db.execute(
        select(_codes.c.id, _codes.c.code_hash).where(
            _codes.c.user_id == user.id, _codes.c.used_at.is_(None)
        )
    ).all()
    signer = ctx.mfa_keys.recovery
    # Every row is compared, so the time taken does not say which one matched.
    matched = [r.id for r in rows if recovery_code_matches(signer, user.id, code, r.code_hash)]
    if not matched:
        return None
    used = ctx.db.execute(
        update(_codes)
        .where(_codes.c.id == matched[0], _codes.c.used_at.is_(None))
        .values(used_at=ctx.now)
    )
    return "recovery_code" if rowcount(used) == 1 else None
