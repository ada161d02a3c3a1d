"""Operator tasks behind ``newsroom user ...``: create accounts, set roles, deactivate.

They reuse Bastion's account flow and schemas, so an account made here passes the same
validation and password policy as one registered through the API. No HTTP, no click.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from flask_bastion import BastionState, User, clock
from flask_bastion.errors import FieldError, NotFound, ValidationFailed
from flask_bastion.flows import accounts
from flask_bastion.flows.context import command_context
from flask_bastion.identity import identity_key
from flask_bastion.models import Role
from flask_bastion.schemas import RegisterInput
from flask_bastion.sessions import revoke_all_for_user
from flask_bastion.validation import validate

from .flows.admin import roles_named
from .policy import KNOWN_ROLES


def check_roles(names: Iterable[str]) -> list[str]:
    """The distinct role names, in order; unknown names are a 422 listing the known ones."""
    wanted = list(dict.fromkeys(names))
    unknown = [name for name in wanted if name not in KNOWN_ROLES]
    if unknown:
        raise ValidationFailed(
            f"Unknown role {', '.join(unknown)}; known roles: {', '.join(KNOWN_ROLES)}.",
            errors=[
                FieldError("roles", "unknown_role", f"Unknown role {name}.") for name in unknown
            ],
        )
    return wanted


def roles_by_name(db: Session, names: Iterable[str]) -> list[Role]:
    """The Role rows for known ``names``, created on first use."""
    return roles_named(db, check_roles(names))


def find_user(db: Session, username: str) -> User:
    user = db.scalars(select(User).where(User.username_key == identity_key(username))).first()
    if user is None:
        raise NotFound(f"No user named {username!r}.")
    return user


def create_user(
    state: BastionState, *, email: str, username: str, password: str, roles: Iterable[str] = ()
) -> User:
    """A new active account, validated exactly like ``POST /api/auth/register``."""
    role_names = check_roles(roles)  # before hashing: a typo must not cost an Argon2 round
    data = validate(RegisterInput, {"email": email, "username": username, "password": password})
    with state.db.unit_of_work() as db:
        user = accounts.register(command_context(state, db, now=clock.now()), data, confirmed=True)
        user.roles = roles_by_name(db, role_names)
    return user


def set_roles(state: BastionState, username: str, roles: Iterable[str]) -> User:
    """Replace a user's roles; the change applies on that user's next request."""
    with state.db.unit_of_work() as db:
        user = find_user(db, username)
        user.roles = roles_by_name(db, roles)
    return user


def deactivate(state: BastionState, username: str) -> int:
    """Deactivate a user and end all their sessions; returns how many sessions ended."""
    with state.db.unit_of_work() as db:
        user = find_user(db, username)
        user.active = False
        return revoke_all_for_user(db, user.id)


def has_users(engine: Engine) -> bool:
    """Whether any account exists (one indexed probe, cheap enough for every start-up)."""
    with engine.connect() as conn:
        return conn.scalar(select(User.id).limit(1)) is not None


FIRST_RUN_HINT = """\
newsroom: the database has no users yet. Create the first admin with
    {command} user create EMAIL USERNAME --role admin
(the password is prompted for), or load demo users and articles with
    {command} seed --articles 100
"""
