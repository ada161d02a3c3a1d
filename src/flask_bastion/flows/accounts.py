"""Account rules: register, and authenticate (check credentials, nothing else).

Signing in, for every client kind, is :mod:`flask_bastion.flows.signin`. No HTTP here: domain
errors only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..backoff import delay_policy
from ..config import Settings
from ..errors import Conflict, FieldError, InvalidCredentials, ValidationFailed
from ..identity import identity_key, looks_like_email
from ..models import User
from ..schemas import RegisterInput
from ..security.devices import DeviceClaim
from ..security.passwords import policy_errors, service_words
from .context import FlowContext
from .known_devices import known_device


class WrongPassword(InvalidCredentials):
    """The account exists and the password is wrong: the client gets exactly the answer an
    unknown account gets; the audit trail also learns which account was tried."""

    def __init__(self, user_id: int) -> None:
        super().__init__()
        self.audit_fields = {"user_id": user_id}


def check_new_password(settings: Settings, password: str, *, email: str, username: str) -> None:
    errors = policy_errors(
        password,
        min_length=settings.password_min_length,
        max_length=settings.password_max_length,
        common_top=settings.common_passwords,
        personal=(email, username, email.partition("@")[0]),
        service=service_words(settings.public_url, settings.password_refused_words),
    )
    if errors:
        raise ValidationFailed(errors=errors)


def register(ctx: FlowContext, data: RegisterInput, *, confirmed: bool = False) -> User:
    """Create an active account; duplicates (after normalisation) are a 409 with field errors.

    ``confirmed`` marks the address proven (accounts an admin creates). With confirmation
    ``required``, sign-up goes through :func:`flows.confirmation.register_unconfirmed`.
    """
    db = ctx.db
    check_new_password(ctx.settings, data.password, email=data.email, username=data.username)
    email_key, username_key = identity_key(data.email), identity_key(data.username)
    taken = db.execute(
        select(User.email_key, User.username_key).where(
            (User.email_key == email_key) | (User.username_key == username_key)
        )
    ).all()
    errors = []
    if any(row.email_key == email_key for row in taken):
        errors.append(FieldError("email", "taken", "An account with this email already exists."))
    if any(row.username_key == username_key for row in taken):
        errors.append(FieldError("username", "taken", "This username is taken."))
    if errors:
        raise Conflict("The account already exists.", errors=errors)
    return create_user(
        ctx, data, password_hash=ctx.passwords.hash(data.password), confirmed=confirmed
    )


def create_user(
    ctx: FlowContext, data: RegisterInput, *, password_hash: str, confirmed: bool = False
) -> User:
    """Insert an active account; ``confirmed`` when its address needs no proof (an admin made
    it). A concurrent registration of the same key is a 409."""
    db = ctx.db
    user = User(
        email=data.email,
        email_key=identity_key(data.email),
        username=data.username,
        username_key=identity_key(data.username),
        password_hash=password_hash,
        active=True,
        created_at=ctx.now,
        confirmed_at=ctx.now if confirmed else None,
        login_count=0,
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError:  # a concurrent registration won the race for the same key
        raise Conflict(
            "The account already exists.",
            errors=[
                FieldError(
                    "email", "taken", "An account with this email or username already exists."
                )
            ],
        ) from None
    return user


def authenticate(ctx: FlowContext, *, identity: str, password: str) -> User:
    """The user behind an email-or-username and password, with one answer for every failure.

    Every try counts per client address. Failures count per identifier as typed (normalised)
    and, once the lookup found the account, per account (its email and its username share one
    count). They never lock the account: past a free budget, tries from devices the account does
    not know wait a growing delay (429 with ``Retry-After``, the password unchecked), while a
    known device of the account has a budget of its own (:mod:`flask_bastion.backoff`). Unknown
    accounts spend a dummy Argon2 verification, so timing matches a wrong password. Whether the
    user may sign in now (active, further steps) is the sign-in pipeline's call.
    """
    settings, passwords = ctx.settings, ctx.passwords
    key = identity_key(identity)
    ctx.limits.hit(settings.login_limit_per_ip, "login-ip", ctx.client.ip)
    column = User.email_key if looks_like_email(key) else User.username_key
    user = ctx.db.execute(select(User).where(column == key)).scalar_one_or_none()
    guard = SignInGuard.of(ctx, "login", key, user)
    guard.check()
    if len(password) > settings.password_max_length:  # refused before hashing: no CPU to buy
        guard.failed()
        raise InvalidCredentials()
    if user is None:
        passwords.verify_dummy(password)
        guard.failed()
        raise InvalidCredentials()
    if not passwords.verify(user.password_hash, password):
        guard.failed()
        raise WrongPassword(user.id)
    if passwords.needs_rehash(user.password_hash):  # parameters were raised since it was hashed
        user.password_hash = passwords.hash(password)
    return user


@dataclass(frozen=True)
class SignInGuard:
    """The per-identity, per-account and per-device counts of one sign-in try (password, code,
    second-factor code, passkey).

    ``kind`` keeps password, code, ``mfa`` and ``passkey`` failures apart. ``identity`` is the
    identifier as typed, or None when nothing was typed (a second factor or a passkey is already
    bound to its account). A known device of the account (its signed cookie,
    :mod:`flows.known_devices`) is held only by its own budget, never by the account's delay:
    the owner still gets in while an attacker elsewhere is slowed down.
    """

    ctx: FlowContext
    kind: str
    identity: str | None
    user_id: int | None
    device: DeviceClaim | None

    @classmethod
    def of(
        cls, ctx: FlowContext, kind: str, identity: str | None, user: User | None
    ) -> SignInGuard:
        device = known_device(ctx, user.id) if user is not None else None
        return cls(ctx, kind, identity, user.id if user else None, device)

    def _delayed(self) -> list[tuple[str, ...]]:
        keys: list[tuple[str, ...]] = []
        if self.identity is not None:
            keys.append((f"{self.kind}-identity", self.identity))
        if self.user_id is not None:
            keys.append((f"{self.kind}-account", str(self.user_id)))
        return keys

    def _device_key(self) -> tuple[str, ...]:
        assert self.device is not None and self.user_id is not None
        return (f"{self.kind}-device", str(self.user_id), self.device.device_id)

    def check(self) -> None:
        """Refuse (429) while this try must wait; counts nothing."""
        limits, limit = self.ctx.limits, self.ctx.settings.login_limit_per_identity
        if self.device is not None:
            limits.check(limit, *self._device_key(), user_id=self.user_id)
            return
        policy = delay_policy(self.ctx.settings)
        for parts in self._delayed():
            limits.delayed(limit, policy, *parts, user_id=self.user_id)

    def failed(self) -> None:
        """Count a failure where :meth:`check` will read it."""
        limits, limit = self.ctx.limits, self.ctx.settings.login_limit_per_identity
        if self.device is not None:
            # Counted, never refused here: a wrong try stays a wrong try (and its writes, such
            # as a pending step's spent try, stand); the next check() refuses.
            limits.count(limit, *self._device_key())
            return
        policy = delay_policy(self.ctx.settings)
        for parts in self._delayed():
            limits.failed(limit, policy, *parts)
