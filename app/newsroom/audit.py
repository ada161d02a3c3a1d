"""newsroom's own audit events, beside the library's (``flask_bastion.audit.AuditEvent``)."""

from __future__ import annotations

from enum import StrEnum


class NewsroomEvent(StrEnum):
    USER_UPDATED_BY_ADMIN = "user_updated_by_admin"
