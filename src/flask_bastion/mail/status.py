"""What the outbox holds, for ``mail status`` and the development viewer."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import OutboxMessage

STATUSES = ("queued", "sending", "sent", "failed")


@dataclass(frozen=True)
class OutboxStatus:
    """Rows per status (every status present, zero or not) and the failed rows, newest first."""

    counts: dict[str, int]
    failed: list[OutboxMessage]


def outbox_status(db: Session, *, failed_limit: int = 50) -> OutboxStatus:
    """Count the outbox by status and list the last ``failed_limit`` failed messages."""
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in db.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ):
        counts[status] = count
    failed = db.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == "failed")
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(failed_limit)
    )
    return OutboxStatus(counts=counts, failed=list(failed))
