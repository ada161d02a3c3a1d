"""The one clock. Tests patch :func:`now`; nothing else in Bastion reads the time."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
