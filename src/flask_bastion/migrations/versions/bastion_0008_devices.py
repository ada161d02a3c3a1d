"""bastion: known devices (the browsers each account signed in from)

Revision ID: bastion_0008
Revises: bastion_0007
Create Date: 2026-12-01 10:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import flask_bastion.db

revision = "bastion_0008"
down_revision = "bastion_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "known_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", flask_bastion.db.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", flask_bastion.db.UTCDateTime(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=256), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_known_devices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_known_devices")),
    )
    with op.batch_alter_table("known_devices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_known_devices_user_id_device_hash", ["user_id", "device_hash"], unique=True
        )
        batch_op.create_index(
            batch_op.f("ix_known_devices_last_seen_at"), ["last_seen_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("known_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_known_devices_last_seen_at"))
        batch_op.drop_index("ix_known_devices_user_id_device_hash")
    op.drop_table("known_devices")
