"""newsroom's own audit events, beside the library's (``flask_bastion.audit.AuditEvent``)."""

from __future__ import annotations

from enum import StrEnum

from flask_bastion import audit


class NewsroomEvent(StrEnum):
    USER_UPDATED_BY_ADMIN = "user_updated_by_admin"


# Stored with Bastion's in the security events table; admins may filter by these names too.
audit.register_kinds(NewsroomEvent)
