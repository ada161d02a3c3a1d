"""The audit trail: a closed set of security events and the one sink they are written to.

Views and request hooks record events (flows return values or raise errors, and never log), and
they pass the client address explicitly. Callers pass ids and outcomes: never a password, token
or cookie. Each event is written to the ``flask_bastion.audit`` logger (JSON lines) and kept in
the ``security_events`` table (:mod:`flask_bastion.security_events`), where users read their
own and admins everyone's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from . import security_events

audit_log = logging.getLogger("flask_bastion.audit")


class AuditEvent(StrEnum):
    """The closed set of events (their values are names, not secrets)."""

    USER_REGISTERED = "user_registered"
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    CSRF_FAILED = "csrf_failed"
    # A signed-in caller was refused (403): a role it lacks, a resource that is not its own.
    ACCESS_DENIED = "access_denied"
    REAUTH_SUCCEEDED = "reauth_succeeded"
    REAUTH_FAILED = "reauth_failed"
    SESSION_ENDED = "session_ended"
    OTHER_SESSIONS_ENDED = "other_sessions_ended"
    REFRESH_TOKEN_RACE_LOST = "refresh_token_race_lost"  # noqa: S105
    REFRESH_TOKEN_REUSED = "refresh_token_reused"  # noqa: S105
    TOKEN_REVOKED = "token_revoked"  # noqa: S105
    SIGNING_KEY_CREATED = "signing_key_created"
    SIGNING_KEY_ROTATED = "signing_key_rotated"
    EMAIL_CONFIRMED = "email_confirmed"
    PASSWORD_RESET = "password_reset"  # noqa: S105
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    EMAIL_CHANGE_REQUESTED = "email_change_requested"
    EMAIL_CHANGED = "email_changed"
    # Second factor (TOTP and recovery codes; issue 11, MFA part).
    MFA_ENABLED = "mfa_enabled"
    MFA_DISABLED = "mfa_disabled"
    MFA_FAILED = "mfa_failed"
    RECOVERY_CODE_USED = "recovery_code_used"
    RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated"
    # Passkeys (issue 11, item 3).
    PASSKEY_ADDED = "passkey_added"
    PASSKEY_REMOVED = "passkey_removed"
    # A signed assertion whose counter did not move forward: a copy of the credential exists.
    PASSKEY_CLONE_DETECTED = "passkey_clone_detected"


# Who else hears each event, after the log line (the metrics count sign-ins and replays):
# called with the event's name and its fields.
observers: list[Callable[[str, dict[str, Any]], None]] = []

# Events that a security team alerts on, not only reads.
ALERTS = frozenset({AuditEvent.REFRESH_TOKEN_REUSED, AuditEvent.PASSKEY_CLONE_DETECTED})

# Refusals recorded before their error is raised (not from an ``except`` block): their row is
# kept although the request's writes roll back, because the attempt happened either way. An
# event recorded while an error propagates (``failures_recorded``) is kept without being listed.
KEPT_ON_ROLLBACK: frozenset[str] = frozenset(
    {
        AuditEvent.LOGIN_FAILED,
        AuditEvent.CSRF_FAILED,
        AuditEvent.ACCESS_DENIED,
        AuditEvent.REAUTH_FAILED,
        AuditEvent.REFRESH_TOKEN_RACE_LOST,
        AuditEvent.REFRESH_TOKEN_REUSED,
    }
)

# The closed sets of event names the table may hold: Bastion's, and each app's own
# (:func:`register_kinds`); the admin listing refuses a filter by any other name.
_KIND_SETS: list[type[StrEnum]] = [AuditEvent]


def register_kinds(kinds: type[StrEnum]) -> None:
    """Name an app's own closed ``StrEnum`` of events, so admins can filter by its members."""
    if kinds not in _KIND_SETS:
        _KIND_SETS.append(kinds)


def known_kinds() -> frozenset[str]:
    """Every event name that :func:`record` may be given: Bastion's and the apps' registered."""
    return frozenset(str(member) for kinds in _KIND_SETS for member in kinds)


def record(event: StrEnum, *, ip: str | None, **fields: Any) -> None:
    """Write one security event with the client address it came from (None: no client).

    ``event`` is an :class:`AuditEvent`, or a member of an app's own closed ``StrEnum``.
    """
    extra: dict[str, Any] = {"event": str(event), "ip": ip, **fields}
    if event in ALERTS:
        extra["security"] = True
    audit_log.info(str(event), extra=extra)
    for observer in observers:
        observer(str(event), extra)
    security_events.persist(str(event), extra, refusal=event in KEPT_ON_ROLLBACK)
