"""Giving a test user roles: rows written directly, as an operator's tool would."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import insert, select

from flask_bastion import Role, current_bastion
from flask_bastion.models import user_roles


def grant_roles(app: Flask, user_id: int, *roles: str) -> None:
    """Give a user roles, creating Role rows as needed."""
    with app.app_context(), current_bastion().db.engine.begin() as conn:
        for name in roles:
            role_id = conn.execute(select(Role.id).where(Role.name == name)).scalar()
            if role_id is None:
                role_id = conn.execute(
                    insert(Role).values(name=name, description="").returning(Role.id)
                ).scalar_one()
            conn.execute(insert(user_roles).values(user_id=user_id, role_id=role_id))
