"""Watching the estate: the rescan queue, webhook deliveries seen, rescans and repository issues.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08

Four new tables, written out in full so the revision keeps its meaning when the models change
(see register/watch_tables.py and ADR 0019).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NAME = sa.String(200)
LINK = sa.String(2000)
SHORT = sa.String(40)
DELIVERY = sa.String(100)


def _moment(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "watch_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repository", NAME, nullable=False),
        sa.Column("reason", SHORT, nullable=False),
        sa.Column("detail", LINK, nullable=False),
        sa.Column("delivery", DELIVERY, nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        _moment("requested_at"),
        _moment("run_after"),
        sa.Column("claimed_by", NAME, nullable=True),
        _moment("claimed_at", nullable=True),
        sa.Column("again", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_watch_job"),
        sa.UniqueConstraint("repository", name="uq_watch_job_repository"),
    )
    op.create_index("ix_watch_job_run_after", "watch_job", ["run_after"], unique=False)
    op.create_table(
        "webhook_delivery",
        sa.Column("delivery", DELIVERY, nullable=False),
        sa.Column("event", SHORT, nullable=False),
        _moment("received_at"),
        sa.PrimaryKeyConstraint("delivery", name="pk_webhook_delivery"),
    )
    op.create_index(
        "ix_webhook_delivery_received_at", "webhook_delivery", ["received_at"], unique=False
    )
    op.create_table(
        "watch_scan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repository", NAME, nullable=False),
        sa.Column("reason", SHORT, nullable=False),
        sa.Column("detail", LINK, nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=True),
        _moment("requested_at"),
        _moment("finished_at"),
        sa.Column("outcome", SHORT, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("api_requests", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["scan_run.id"], name="fk_watch_scan_scan_id_scan_run"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_watch_scan"),
    )
    op.create_index(
        "ix_watch_scan_repository_finished",
        "watch_scan",
        ["repository", "finished_at"],
        unique=False,
    )
    op.create_table(
        "repository_issue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repository", NAME, nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("url", LINK, nullable=True),
        sa.Column("state", SHORT, nullable=False),
        sa.Column("failing", JSON, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        _moment("opened_at", nullable=True),
        _moment("updated_at"),
        _moment("reminded_at", nullable=True),
        _moment("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_repository_issue"),
        sa.UniqueConstraint("repository", name="uq_repository_issue_repository"),
    )


def downgrade() -> None:
    op.drop_table("repository_issue")
    op.drop_index("ix_watch_scan_repository_finished", table_name="watch_scan")
    op.drop_table("watch_scan")
    op.drop_index("ix_webhook_delivery_received_at", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_index("ix_watch_job_run_after", table_name="watch_job")
    op.drop_table("watch_job")
