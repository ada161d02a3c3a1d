"""Administering accounts: list and search users, set roles, switch accounts on or off. No HTTP."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flask_bastion import Principal
from flask_bastion.identity import identity_key
from flask_bastion.models import Role, User
from flask_bastion.sessions import revoke_all_for_user

from ..errors import SelfLockout, UserNotFound
from ..policy import ADMIN
from ..queries import LIKE_ESCAPE, MAX_ID, NumberedPage, escape_like, offset_of
from ..schemas import AdminUserQuery, AdminUserUpdate


def list_users(db: Session, query: AdminUserQuery) -> NumberedPage[User]:
    """A page of users in sign-up order, optionally those whose email or username contains q.

    Their roles come with them in one more query for the whole page (``User.roles`` loads by
    ``selectin``), never one per user.
    """
    conditions = []
    if query.q:
        # The keys are NFKC-casefolded, so the search is case-insensitive the same way sign-in is.
        pattern = f"%{escape_like(identity_key(query.q))}%"
        conditions.append(
            or_(
                User.email_key.like(pattern, escape=LIKE_ESCAPE),
                User.username_key.like(pattern, escape=LIKE_ESCAPE),
            )
        )
    total = db.execute(select(func.count()).select_from(User).where(*conditions)).scalar_one()
    offset = offset_of(query.page, query.per_page)
    users: Sequence[User] = ()
    if offset < total:
        users = db.scalars(
            select(User).where(*conditions).order_by(User.id).limit(query.per_page).offset(offset)
        ).all()
    return NumberedPage(users, query.page, query.per_page, total)


def roles_named(db: Session, names: Sequence[str]) -> list[Role]:
    """The Role rows for known role names, created on first use (race-safe)."""
    found = {role.name: role for role in db.scalars(select(Role).where(Role.name.in_(names)))}
    for name in names:
        if name in found:
            continue
        try:
            with db.begin_nested():
                role = Role(name=name, description="")
                db.add(role)
        except IntegrityError:  # another request created it first
            role = db.scalars(select(Role).where(Role.name == name)).one()
        found[name] = role
    return [found[name] for name in names]


def update_user(
    db: Session, actor: Principal, user_id: int, changes: AdminUserUpdate
) -> tuple[User, int]:
    """Replace roles and/or set ``active``; returns the user and how many sessions ended.

    Both take effect on the user's next request: each request re-reads ``active`` and the roles
    with the session, and deactivation also deletes every session of the user.
    """
    user = db.get(User, user_id) if 1 <= user_id <= MAX_ID else None
    if user is None:
        raise UserNotFound()
    roles = list(dict.fromkeys(changes.roles)) if changes.roles is not None else None
    if user.id == actor.user_id:
        # The admin acting must stay an active admin, or nobody may be left to undo the change.
        if changes.active is False:
            raise SelfLockout("You cannot deactivate your own account.")
        if roles is not None and ADMIN not in roles:
            raise SelfLockout("You cannot remove your own admin role.")
    if roles is not None:
        user.roles = roles_named(db, roles)
    ended = 0
    if changes.active is not None:
        user.active = changes.active
        if not changes.active:
            ended = revoke_all_for_user(db, user.id)
    db.flush()
    return user, ended
