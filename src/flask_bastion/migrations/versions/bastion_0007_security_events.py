"""bastion: the security events table

Revision ID: bastion_0007
Revises: bastion_0004
Create Date: 2026-12-01 10:40:00.000000

An append-only record of security events (docs/security-events.md). ``user_id`` carries no
foreign key: an account's history stays when the account is deleted, until retention prunes it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import flask_bastion.db

revision = "bastion_0007"
down_revision = "bastion_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "security_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("occurred_at", flask_bastion.db.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=256), nullable=True),
        sa.Column("session_id", sa.String(length=32), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("security_events", schema=None) as batch_op:
        batch_op.create_index("ix_security_events_kind_id", ["kind", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_security_events_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index("ix_security_events_user_id_id", ["user_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("security_events", schema=None) as batch_op:
        batch_op.drop_index("ix_security_events_user_id_id")
        batch_op.drop_index(batch_op.f("ix_security_events_occurred_at"))
        batch_op.drop_index("ix_security_events_kind_id")

    op.drop_table("security_events")
