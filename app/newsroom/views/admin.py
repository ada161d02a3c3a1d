"""The admin API (role admin): list users, change their roles, switch accounts on or off."""

from __future__ import annotations

from flask import Blueprint, Response

from flask_bastion import current_bastion, roles_required
from flask_bastion.access import require_principal
from flask_bastion.openapi import describe, responds
from flask_bastion.schemas import ProblemDetails
from flask_bastion.validation import api_body, json_body, query_args
from flask_bastion.views.context import record
from flask_bastion.views.render import render

from ..audit import NewsroomEvent
from ..flows import admin
from ..policy import ADMIN
from ..schemas import AdminUserPage, AdminUserPublic, AdminUserQuery, AdminUserUpdate
from .links import page_links

bp = Blueprint("admin", __name__)


@bp.get("/admin/users")
@roles_required(ADMIN)
@query_args(AdminUserQuery)
@responds(200, AdminUserPage, "A page of users, with RFC 8288 Link headers")
@responds(422, ProblemDetails, "Invalid arguments")
def list_users(query: AdminUserQuery) -> Response:
    """List users in sign-up order; `q` searches emails and usernames."""
    page = admin.list_users(current_bastion().db.session, query)
    response = render(AdminUserPage.model_validate(page))
    response.headers["Link"] = page_links(page.page, page.pages)
    return response


@bp.patch("/admin/users/<int:user_id>")
@roles_required(ADMIN)
@json_body(AdminUserUpdate, max_body=api_body)
@responds(200, AdminUserPublic, "Updated")
@responds(404, ProblemDetails, "No such user")
@responds(
    409, ProblemDetails, "self_lockout: you cannot deactivate yourself or drop your admin role"
)
def update_user(user_id: int, body: AdminUserUpdate) -> Response:
    """Replace a user's roles and/or activate or deactivate them.

    `roles` replaces the whole set and accepts only the known roles (`admin`, `editor`).
    Changes apply on the user's very next request; deactivation also ends all their sessions.
    """
    actor = require_principal()
    user, ended = admin.update_user(current_bastion().db.session, actor, user_id, body)
    result = AdminUserPublic.model_validate(user)
    record(
        NewsroomEvent.USER_UPDATED_BY_ADMIN,
        actor_id=actor.user_id,
        user_id=user_id,
        roles=body.roles,
        active=body.active,
        sessions_ended=ended,
    )
    return render(result)


for _view in (list_users, update_user):
    describe(_view, tag="admin")
