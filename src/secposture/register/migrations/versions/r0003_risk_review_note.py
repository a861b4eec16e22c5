"""A risk review's note (`secposture risk review --note`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

One nullable column: risks reviewed before it have no note, and nothing else changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("risk") as batch:
        batch.add_column(sa.Column("last_review_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("risk") as batch:
        batch.drop_column("last_review_note")
