"""Account rules: register, authenticate, sign in and out. No HTTP here: domain errors only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import sessions
from ..config import Settings
from ..errors import AccountDisabled, Conflict, FieldError, InvalidCredentials, ValidationFailed
from ..identity import identity_key, looks_like_email
from ..models import User
from ..ratelimit import RateLimits
from ..schemas import RegisterInput
from ..security.passwords import Passwords, policy_errors


@dataclass(frozen=True)
class Client:
    """What we record about the device signing in."""

    ip: str
    user_agent: str


def check_new_password(settings: Settings, password: str, *, email: str, username: str) -> None:
    errors = policy_errors(
        password,
        min_length=settings.password_min_length,
        max_length=settings.password_max_length,
        common_top=settings.common_passwords,
        personal=(email, username, email.partition("@")[0]),
    )
    if errors:
        raise ValidationFailed(errors=errors)


def register(
    db: Session, passwords: Passwords, settings: Settings, data: RegisterInput, *, now: datetime
) -> User:
    """Create an active account; duplicates (after normalisation) are a 409 with field errors."""
    check_new_password(settings, data.password, email=data.email, username=data.username)
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
    user = User(
        email=data.email,
        email_key=email_key,
        username=data.username,
        username_key=username_key,
        password_hash=passwords.hash(data.password),
        active=True,
        created_at=now,
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


def authenticate(
    db: Session,
    passwords: Passwords,
    settings: Settings,
    limits: RateLimits,
    *,
    identity: str,
    password: str,
    ip: str,
    now: datetime,
) -> User:
    """The user behind an email-or-username and password, with one answer for every failure.

    Unknown accounts spend a dummy Argon2 verification, so timing matches a wrong password.
    """
    key = identity_key(identity)
    limits.hit(settings.login_limit_per_ip, "login-ip", ip)
    limits.check(settings.login_limit_per_identity, "login-identity", key)
    if len(password) > settings.password_max_length:  # refused before hashing: no CPU to buy
        limits.hit(settings.login_limit_per_identity, "login-identity", key)
        raise InvalidCredentials()
    column = User.email_key if looks_like_email(key) else User.username_key
    user = db.execute(select(User).where(column == key)).scalar_one_or_none()
    if user is None:
        passwords.verify_dummy(password)
        limits.hit(settings.login_limit_per_identity, "login-identity", key)
        raise InvalidCredentials()
    if not passwords.verify(user.password_hash, password):
        limits.hit(settings.login_limit_per_identity, "login-identity", key)
        raise InvalidCredentials()
    if not user.active:
        raise AccountDisabled()
    if passwords.needs_rehash(user.password_hash):  # parameters were raised since it was hashed
        user.password_hash = passwords.hash(password)
    user.last_login_at = now
    return user


def sign_in(
    db: Session,
    user: User,
    settings: Settings,
    *,
    kind: str,
    remember: bool,
    client: Client,
    replacing: str | None,
    now: datetime,
) -> sessions.OpenedSession:
    """Open a new session for ``user``; the one the client held before (if any) ends.

    A new id at every sign-in means a session id planted before sign-in (fixation) is useless.
    """
    if replacing:
        sessions.revoke_token(db, replacing)
    return sessions.open_session(
        db,
        user_id=user.id,
        kind=kind,
        remember=remember,
        ip=client.ip,
        user_agent=client.user_agent,
        settings=settings,
        now=now,
    )


def log_in(
    db: Session,
    passwords: Passwords,
    settings: Settings,
    limits: RateLimits,
    *,
    identity: str,
    password: str,
    remember: bool,
    kind: str,
    client: Client,
    replacing: str | None,
    now: datetime,
) -> tuple[User, sessions.OpenedSession]:
    """Authenticate, then open a new session: the whole sign-in, for every transport."""
    user = authenticate(
        db,
        passwords,
        settings,
        limits,
        identity=identity,
        password=password,
        ip=client.ip,
        now=now,
    )
    opened = sign_in(
        db,
        user,
        settings,
        kind=kind,
        remember=remember,
        client=client,
        replacing=replacing,
        now=now,
    )
    return user, opened


def sign_out(db: Session, *, session_id: str | None = None, token: str | None = None) -> None:
    """End a session, known by its id or by its raw token; ending an absent one is not an error."""
    if session_id is not None:
        sessions.revoke(db, session_id)
    elif token:
        sessions.revoke_token(db, token)
