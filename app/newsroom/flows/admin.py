"""Administering accounts: list and search users, set roles, switch accounts on or off. No HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flask_bastion import Principal
from flask_bastion.identity import identity_key
from flask_bastion.models import Role, User, user_roles
from flask_bastion.sessions import revoke_all_for_user

from ..errors import SelfLockout, UserNotFound
from ..policy import ADMIN
from ..schemas import AdminUserPage, AdminUserPublic, AdminUserQuery, AdminUserUpdate
from .articles import LIKE_ESCAPE, MAX_ID, Record, escape_like, pages_for

_u = cast(Table, User.__table__)
_r = cast(Table, Role.__table__)
_USER_COLUMNS = (
    _u.c.id,
    _u.c.email,
    _u.c.username,
    _u.c.active,
    _u.c.created_at,
    _u.c.last_login_at,
)


def list_users(db: Session, query: AdminUserQuery) -> AdminUserPage:
    """A page of users in sign-up order, optionally those whose email or username contains q."""
    conditions = []
    if query.q:
        # The keys are NFKC-casefolded, so the search is case-insensitive the same way sign-in is.
        pattern = f"%{escape_like(identity_key(query.q))}%"
        conditions.append(
            or_(
                _u.c.email_key.like(pattern, escape=LIKE_ESCAPE),
                _u.c.username_key.like(pattern, escape=LIKE_ESCAPE),
            )
        )
    total = db.execute(select(func.count()).select_from(_u).where(*conditions)).scalar_one()
    offset = (query.page - 1) * query.per_page
    rows: Sequence[Record] = ()
    roles: dict[int, list[str]] = {}
    if offset < total:
        rows = db.execute(
            select(*_USER_COLUMNS)
            .where(*conditions)
            .order_by(_u.c.id)
            .limit(query.per_page)
            .offset(offset)
        ).all()
        role_rows = db.execute(
            select(user_roles.c.user_id, _r.c.name)
            .join(_r, _r.c.id == user_roles.c.role_id)
            .where(user_roles.c.user_id.in_([row.id for row in rows]))
            .order_by(_r.c.name)
        ).all()
        for user_id, name in role_rows:
            roles.setdefault(user_id, []).append(name)
    return AdminUserPage(
        items=[
            AdminUserPublic(
                id=row.id,
                email=row.email,
                username=row.username,
                roles=roles.get(row.id, []),
                active=row.active,
                created_at=row.created_at,
                last_login_at=row.last_login_at,
            )
            for row in rows
        ],
        page=query.page,
        per_page=query.per_page,
        total=total,
        pages=pages_for(total, query.per_page),
    )


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


def public_user(user: User) -> AdminUserPublic:
    return AdminUserPublic(
        id=user.id,
        email=user.email,
        username=user.username,
        roles=user.role_names,
        active=user.active,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


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
