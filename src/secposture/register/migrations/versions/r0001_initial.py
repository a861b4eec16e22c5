"""The register: products, their records, issues, risks, waivers, scan results and the history.

Revision ID: 0001
Revises:
Create Date: 2026-11-29

Written out in full rather than imported from models.py, so this revision keeps meaning the same
schema when the models change later. A test compares the migrated schema with models.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import SchemaItem

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NAME = sa.String(200)
LINK = sa.String(2000)
SHORT = sa.String(40)


def _tracked(table: str) -> list[SchemaItem]:
    """The columns of every entity with a history, and its primary key."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    ]


def _product_record(table: str) -> list[SchemaItem]:
    return [
        *_tracked(table),
        sa.Column("status", SHORT, nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=f"fk_{table}_product_id_product"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", SHORT, nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("action", SHORT, nullable=False),
        sa.Column("actor", NAME, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_history"),
    )
    op.create_index("ix_history_at", "history", ["at"])
    op.create_index("ix_history_entity", "history", ["entity", "entity_id"])

    op.create_table(
        "product",
        *_tracked("product"),
        sa.Column("name", NAME, nullable=False),
        sa.Column("name_key", NAME, nullable=False),
        sa.Column("owner", NAME, nullable=False),
        sa.Column("data_classification", SHORT, nullable=False),
        sa.Column("risk_register_level", SHORT, nullable=False),
        sa.Column("status", SHORT, nullable=False),
        sa.UniqueConstraint("name_key", name="uq_product_name_key"),
    )
    op.create_index("ix_product_status", "product", ["status"])

    op.create_table(
        "product_repository",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("repository", NAME, nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name="fk_product_repository_product_id_product"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_product_repository"),
    )
    op.create_index("ix_product_repository_repository", "product_repository", ["repository"])
    op.create_index(
        "uq_product_repository_product_repo",
        "product_repository",
        ["product_id", "repository"],
        unique=True,
    )

    op.create_table(
        "threat_model_review",
        *_product_record("threat_model_review"),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("participants", JSON, nullable=False),
        sa.Column("method", NAME, nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("artefact_link", LINK, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_threat_model_review_product_held", "threat_model_review", ["product_id", "held_on"]
    )

    op.create_table(
        "assurance",
        *_product_record("assurance"),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("kind", SHORT, nullable=False),
        sa.Column("supplier", NAME, nullable=False),
        sa.Column("scheme", SHORT, nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("report_reference", LINK, nullable=False),
        *(
            sa.Column(f"findings_{severity}", sa.Integer(), nullable=False)
            for severity in ("critical", "high", "medium", "low", "info")
        ),
    )
    op.create_index("ix_assurance_product_performed", "assurance", ["product_id", "performed_on"])

    op.create_table(
        "major_change",
        *_product_record("major_change"),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("trigger", SHORT, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
    )
    op.create_index("ix_major_change_product_changed", "major_change", ["product_id", "changed_on"])

    op.create_table(
        "security_issue",
        *_product_record("security_issue"),
        sa.Column("reporter", NAME, nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("cve_ids", JSON, nullable=False),
        sa.Column("environment", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("business_context", sa.Text(), nullable=False),
        sa.Column("conversation_links", JSON, nullable=False),
        sa.Column("data_at_risk", sa.Text(), nullable=False),
        sa.Column("cvss_vector", LINK, nullable=False),
        sa.Column("cvss_version", sa.String(8), nullable=False),
        sa.Column("cvss_score", sa.Float(), nullable=False),
        sa.Column("cvss_severity", SHORT, nullable=False),
        sa.Column("severity", SHORT, nullable=False),
        sa.Column("patch_by", sa.Date(), nullable=False),
        sa.Column("ticket_link", LINK, nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
    )
    op.create_index("ix_security_issue_product", "security_issue", ["product_id"])
    op.create_index("ix_security_issue_status_patch_by", "security_issue", ["status", "patch_by"])

    op.create_table(
        "risk",
        *_tracked("risk"),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("register", SHORT, nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("effect", sa.Text(), nullable=False),
        sa.Column("owner", NAME, nullable=False),
        sa.Column("likelihood_before", sa.Integer(), nullable=False),
        sa.Column("impact_before", sa.Integer(), nullable=False),
        sa.Column("likelihood_after", sa.Integer(), nullable=False),
        sa.Column("impact_after", sa.Integer(), nullable=False),
        sa.Column("score_before", sa.Integer(), nullable=False),
        sa.Column("score_after", sa.Integer(), nullable=False),
        sa.Column("treatment", SHORT, nullable=False),
        sa.Column("actions", JSON, nullable=False),
        sa.Column("accepted_by", NAME, nullable=True),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("next_review_on", sa.Date(), nullable=False),
        sa.Column("last_reviewed_on", sa.Date(), nullable=True),
        sa.Column("status", SHORT, nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name="fk_risk_product_id_product"),
    )
    for column in (
        "expires_on",
        "next_review_on",
        "owner",
        "product_id",
        "register",
        "score_after",
        "status",
    ):
        op.create_index(f"ix_risk_{column}", "risk", [column])

    op.create_table(
        "risk_issue",
        sa.Column("risk_id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["security_issue.id"], name="fk_risk_issue_issue_id_security_issue"
        ),
        sa.ForeignKeyConstraint(["risk_id"], ["risk.id"], name="fk_risk_issue_risk_id_risk"),
        sa.PrimaryKeyConstraint("risk_id", "issue_id", name="pk_risk_issue"),
    )
    op.create_index("ix_risk_issue_issue_id", "risk_issue", ["issue_id"])

    op.create_table(
        "waiver",
        *_tracked("waiver"),
        sa.Column("control", sa.String(100), nullable=False),
        sa.Column("repository", NAME, nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("approver", NAME, nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("status", SHORT, nullable=False),
        sa.CheckConstraint(
            "(repository IS NULL AND product_id IS NOT NULL) "
            "OR (repository IS NOT NULL AND product_id IS NULL)",
            name="ck_waiver_one_target",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name="fk_waiver_product_id_product"
        ),
    )
    for column in ("expires_on", "product_id", "repository"):
        op.create_index(f"ix_waiver_{column}", "waiver", [column])

    op.create_table(
        "scan_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repository", NAME, nullable=False),
        sa.Column("commit", sa.String(64), nullable=True),
        sa.Column("source", SHORT, nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tool_version", SHORT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scan_run"),
    )
    op.create_index("ix_scan_run_repository_scanned", "scan_run", ["repository", "scanned_at"])

    op.create_table(
        "scan_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("control", sa.String(100), nullable=False),
        sa.Column("status", SHORT, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["scan_run.id"], name="fk_scan_result_scan_id_scan_run"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_scan_result"),
    )
    op.create_index("ix_scan_result_control", "scan_result", ["control"])
    op.create_index("ix_scan_result_scan_id", "scan_result", ["scan_id"])


def downgrade() -> None:
    # Dropping the register loses every record: refuse rather than offer it as a routine step.
    raise NotImplementedError("the register's first revision cannot be downgraded")
