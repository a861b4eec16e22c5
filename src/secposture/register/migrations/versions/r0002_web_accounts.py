"""Dashboard accounts and sign-in sessions (secposture serve).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Written out in full, like 0001, so the revision keeps its meaning when secposture.register.web_accounts
changes later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NAME = sa.String(200)
SHORT = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "web_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", NAME, nullable=False),
        sa.Column("username_key", NAME, nullable=False),
        sa.Column("display_name", NAME, nullable=False),
        sa.Column("email", NAME, nullable=True),
        sa.Column("role", SHORT, nullable=False),
        sa.Column("auth", SHORT, nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=True),
        sa.Column("oidc_issuer", sa.String(2000), nullable=True),
        sa.Column("oidc_subject", NAME, nullable=True),
        sa.Column("status", SHORT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_web_user"),
        sa.UniqueConstraint("username_key", name="uq_web_user_username_key"),
    )
    op.create_index(
        "uq_web_user_oidc_identity", "web_user", ["oidc_issuer", "oidc_subject"], unique=True
    )
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("via", SHORT, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["web_user.id"], name="fk_web_session_user_id_web_user"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_web_session"),
        sa.UniqueConstraint("token_hash", name="uq_web_session_token_hash"),
    )
    op.create_index("ix_web_session_user_id", "web_session", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_web_session_user_id", table_name="web_session")
    op.drop_table("web_session")
    op.drop_index("uq_web_user_oidc_identity", table_name="web_user")
    op.drop_table("web_user")
