"""Turning schemas and principals into responses."""

from __future__ import annotations

from flask import Response, json
from pydantic import BaseModel

from ..models import AuthSession, User
from ..principal import Principal
from ..schemas import SessionPublic, UserPublic


def render(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status=status, mimetype="application/json")


def render_json(data: object, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def user_public(user: User | Principal) -> UserPublic:
    if isinstance(user, Principal):
        return UserPublic(
            id=user.user_id,
            email=user.email,
            username=user.username,
            roles=sorted(user.roles),
            created_at=user.created_at,
        )
    return UserPublic(
        id=user.id,
        email=user.email,
        username=user.username,
        roles=user.role_names,
        created_at=user.created_at,
    )


def session_public(session: AuthSession | Principal) -> SessionPublic:
    if isinstance(session, Principal):
        return SessionPublic(
            id=session.session_id,
            kind=session.session_kind,
            created_at=session.session_created_at,
            expires_at=session.session_expires_at,
            remember=session.remember,
        )
    return SessionPublic(
        id=session.id,
        kind=session.kind,
        created_at=session.created_at,
        expires_at=session.expires_at,
        remember=session.remember,
    )
