"""Deliveries of security issues to the Security team (`secposture issue send`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08

One new table, written out in full so the revision keeps its meaning when the model changes.
A row exists only for a delivery the channel confirmed (ADR 0018).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issue_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("destination", sa.String(2000), nullable=False),
        sa.Column("issue_version", sa.Integer(), nullable=False),
        sa.Column("issue_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_update", sa.Boolean(), nullable=False),
        sa.Column("reference", sa.String(2000), nullable=True),
        sa.Column("url", sa.String(2000), nullable=True),
        sa.Column("sent_by", sa.String(200), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["security_issue.id"],
            name="fk_issue_delivery_issue_id_security_issue",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_issue_delivery"),
    )
    op.create_index(
        "ix_issue_delivery_issue_channel", "issue_delivery", ["issue_id", "channel"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_issue_delivery_issue_channel", table_name="issue_delivery")
    op.drop_table("issue_delivery")
