"""bastion: email confirmation, trackable sign-ins, one-time account tokens

Revision ID: bastion_0004
Revises: bastion_0003
Create Date: 2026-12-01 06:45:00.000000

Users who signed up before this revision become confirmed (``confirmed_at = created_at``):
with ``BASTION_EMAIL_CONFIRMATION=required`` (the default) nobody already signed up is locked out.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import flask_bastion.db

revision = "bastion_0004"
down_revision = "bastion_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("password_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", flask_bastion.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", flask_bastion.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", flask_bastion.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_account_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
    )
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_tokens_token_hash"), ["token_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_account_tokens_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirmed_at", flask_bastion.db.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("last_login_ip", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("current_login_at", flask_bastion.db.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("current_login_ip", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("login_count", sa.Integer(), server_default="0", nullable=False)
        )
    # Everyone who signed up before confirmation existed counts as confirmed.
    op.execute(sa.text("UPDATE users SET confirmed_at = created_at"))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("login_count")
        batch_op.drop_column("current_login_ip")
        batch_op.drop_column("current_login_at")
        batch_op.drop_column("last_login_ip")
        batch_op.drop_column("confirmed_at")

    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_account_tokens_token_hash"))

    op.drop_table("account_tokens")
