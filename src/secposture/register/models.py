"""The register's tables (docs/register.md) as SQLAlchemy 2 typed models.

Every entity people edit carries a `version` column used for optimistic locking (SQLAlchemy's
version_id_col): an UPDATE that finds another writer got there first raises StaleDataError and the
transaction is retried (database.py), so two writers never lose each other's change. Nothing is
deleted: entities are retired or closed, and each change appends a `History` row.

Migrations (migrations/versions/) create exactly these tables; a test compares the two.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

# The tables kept in other modules (the dashboard's accounts, deliveries, the watcher's) join the
# metadata when this module loads, so the schema the migrations build is exactly the models'; they
# build on register/base.py, not on this module, so the import goes one way.
from secposture.register import deliveries as _deliveries  # noqa: F401
from secposture.register import watch_tables as _watch_tables  # noqa: F401
from secposture.register import web_accounts as _web_accounts  # noqa: F401

# Base re-exported: imported from here, its metadata holds every table.
from secposture.register.base import LINK, NAME, SHORT, JsonType, UTCDateTime, iso
from secposture.register.base import Base as Base
from secposture.register.base import Tracked as Tracked


class Product(Tracked, Base):
    __tablename__ = "product"
    ENTITY = "product"

    name: Mapped[str] = mapped_column(String(NAME), nullable=False)
    # The name folded to lower case: names are unique regardless of case.
    name_key: Mapped[str] = mapped_column(String(NAME), nullable=False, unique=True)
    owner: Mapped[str] = mapped_column(String(NAME), nullable=False)
    data_classification: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    risk_register_level: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    status: Mapped[str] = mapped_column(String(SHORT), nullable=False, index=True)
    repository_links: Mapped[list[ProductRepository]] = relationship(
        back_populates="product",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="ProductRepository.repository",
    )

    @property
    def repositories(self) -> list[str]:
        return [link.repository for link in self.repository_links]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "owner": self.owner,
            "repositories": self.repositories,
            "data_classification": self.data_classification,
            "risk_register_level": self.risk_register_level,
            "status": self.status,
            "version": self.version,
        }


class ProductRepository(Base):
    """A GitHub repository (owner/name, lower case) that belongs to a product."""

    __tablename__ = "product_repository"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), nullable=False)
    repository: Mapped[str] = mapped_column(String(NAME), nullable=False, index=True)
    product: Mapped[Product] = relationship(back_populates="repository_links")

    __table_args__ = (
        Index("uq_product_repository_product_repo", "product_id", "repository", unique=True),
    )


class ProductRecord(Tracked):
    """A dated record about one product (threat model, assurance, major change)."""

    DATE_FIELD: ClassVar[str]

    status: Mapped[str] = mapped_column(String(SHORT), nullable=False)

    @declared_attr
    def product_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("product.id"), nullable=False)

    @declared_attr
    def product(cls) -> Mapped[Product]:
        return relationship(Product, lazy="joined", innerjoin=True)

    def _base_dict(self) -> dict[str, Any]:
        return {"id": self.id, "product": self.product.name, "status": self.status}


class ThreatModelReview(ProductRecord, Base):
    __tablename__ = "threat_model_review"
    ENTITY = "threat_model"
    DATE_FIELD = "held_on"

    held_on: Mapped[date] = mapped_column(Date, nullable=False)
    participants: Mapped[list[str]] = mapped_column(JsonType, nullable=False)
    method: Mapped[str] = mapped_column(String(NAME), nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    artefact_link: Mapped[str] = mapped_column(String(LINK), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (Index("ix_threat_model_review_product_held", "product_id", "held_on"),)

    @property
    def label(self) -> str:
        return f"threat-model review {self.id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._base_dict(),
            "held_on": iso(self.held_on),
            "participants": list(self.participants),
            "method": self.method,
            "scope": self.scope,
            "artefact_link": self.artefact_link,
            "summary": self.summary,
            "version": self.version,
        }


class Assurance(ProductRecord, Base):
    """An IT Health Check or pen test."""

    __tablename__ = "assurance"
    ENTITY = "assurance"
    DATE_FIELD = "performed_on"

    performed_on: Mapped[date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    supplier: Mapped[str] = mapped_column(String(NAME), nullable=False)
    scheme: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    report_reference: Mapped[str] = mapped_column(String(LINK), nullable=False)
    findings_critical: Mapped[int] = mapped_column(Integer, nullable=False)
    findings_high: Mapped[int] = mapped_column(Integer, nullable=False)
    findings_medium: Mapped[int] = mapped_column(Integer, nullable=False)
    findings_low: Mapped[int] = mapped_column(Integer, nullable=False)
    findings_info: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (Index("ix_assurance_product_performed", "product_id", "performed_on"),)

    @property
    def findings(self) -> dict[str, int]:
        return {
            "critical": self.findings_critical,
            "high": self.findings_high,
            "medium": self.findings_medium,
            "low": self.findings_low,
            "info": self.findings_info,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._base_dict(),
            "performed_on": iso(self.performed_on),
            "kind": self.kind,
            "supplier": self.supplier,
            "scheme": self.scheme,
            "scope": self.scope,
            "report_reference": self.report_reference,
            "findings": self.findings,
            "version": self.version,
        }


class MajorChange(ProductRecord, Base):
    __tablename__ = "major_change"
    ENTITY = "major_change"
    DATE_FIELD = "changed_on"

    changed_on: Mapped[date] = mapped_column(Date, nullable=False)
    trigger: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)

    __table_args__ = (Index("ix_major_change_product_changed", "product_id", "changed_on"),)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._base_dict(),
            "changed_on": iso(self.changed_on),
            "trigger": self.trigger,
            "description": self.description,
            "version": self.version,
        }


# Which issues a risk was raised for (an issue that cannot be fixed creates a linked risk).
risk_issue = Table(
    "risk_issue",
    Base.metadata,
    Column("risk_id", ForeignKey("risk.id"), primary_key=True),
    Column("issue_id", ForeignKey("security_issue.id"), primary_key=True, index=True),
)


class SecurityIssue(ProductRecord, Base):
    __tablename__ = "security_issue"
    ENTITY = "issue"
    DATE_FIELD = "raised_on"

    reporter: Mapped[str] = mapped_column(String(NAME), nullable=False)
    raised_on: Mapped[date] = mapped_column(Date, nullable=False)
    cve_ids: Mapped[list[str]] = mapped_column(JsonType, nullable=False)
    environment: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    business_context: Mapped[str] = mapped_column(Text, nullable=False)
    conversation_links: Mapped[list[str]] = mapped_column(JsonType, nullable=False)
    data_at_risk: Mapped[str] = mapped_column(Text, nullable=False)
    cvss_vector: Mapped[str] = mapped_column(String(LINK), nullable=False)
    cvss_version: Mapped[str] = mapped_column(String(8), nullable=False)
    cvss_score: Mapped[float] = mapped_column(Float, nullable=False)
    cvss_severity: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    severity: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    patch_by: Mapped[date] = mapped_column(Date, nullable=False)
    ticket_link: Mapped[str] = mapped_column(String(LINK), nullable=False)
    resolution: Mapped[str | None] = mapped_column(Text)
    closed_on: Mapped[date | None] = mapped_column(Date)
    risks: Mapped[list[Risk]] = relationship(
        secondary=risk_issue, back_populates="issues", lazy="selectin", order_by="Risk.id"
    )

    __table_args__ = (
        Index("ix_security_issue_status_patch_by", "status", "patch_by"),
        Index("ix_security_issue_product", "product_id"),
    )

    @property
    def title(self) -> str:
        """The description's first line, short enough for a table or an email subject."""
        first = self.description.strip().splitlines()[0] if self.description.strip() else ""
        return first if len(first) <= 80 else first[:79] + "…"

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._base_dict(),
            "reporter": self.reporter,
            "raised_on": iso(self.raised_on),
            "cve_ids": list(self.cve_ids),
            "environment": self.environment,
            "description": self.description,
            "business_context": self.business_context,
            "conversation_links": list(self.conversation_links),
            "data_at_risk": self.data_at_risk,
            "cvss": {
                "vector": self.cvss_vector,
                "version": self.cvss_version,
                "base_score": self.cvss_score,
                "severity": self.cvss_severity,
            },
            "severity": self.severity,
            "patch_by": iso(self.patch_by),
            "ticket_link": self.ticket_link,
            "resolution": self.resolution,
            "closed_on": iso(self.closed_on),
            "risks": [risk.id for risk in self.risks],
            "version": self.version,
        }


class Risk(Tracked, Base):
    __tablename__ = "risk"
    ENTITY = "risk"

    title: Mapped[str] = mapped_column(String(300), nullable=False)
    register: Mapped[str] = mapped_column(String(SHORT), nullable=False, index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"), index=True)
    cause: Mapped[str] = mapped_column(Text, nullable=False)
    event: Mapped[str] = mapped_column(Text, nullable=False)
    effect: Mapped[str] = mapped_column(Text, nullable=False)
    owner: Mapped[str] = mapped_column(String(NAME), nullable=False, index=True)
    likelihood_before: Mapped[int] = mapped_column(Integer, nullable=False)
    impact_before: Mapped[int] = mapped_column(Integer, nullable=False)
    likelihood_after: Mapped[int] = mapped_column(Integer, nullable=False)
    impact_after: Mapped[int] = mapped_column(Integer, nullable=False)
    # likelihood x impact, stored so lists of thousands sort and filter by them in the database.
    score_before: Mapped[int] = mapped_column(Integer, nullable=False)
    score_after: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    treatment: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    actions: Mapped[list[str]] = mapped_column(JsonType, nullable=False)
    accepted_by: Mapped[str | None] = mapped_column(String(NAME))
    accepted_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    next_review_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    last_reviewed_on: Mapped[date | None] = mapped_column(Date)
    # What the last review found or decided (`risk review --note`); its history row keeps it.
    last_review_note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(SHORT), nullable=False, index=True)
    closed_on: Mapped[date | None] = mapped_column(Date)
    close_reason: Mapped[str | None] = mapped_column(Text)
    product: Mapped[Product | None] = relationship(Product, lazy="joined")
    issues: Mapped[list[SecurityIssue]] = relationship(
        secondary=risk_issue, back_populates="risks", lazy="selectin", order_by="SecurityIssue.id"
    )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "register": self.register,
            "product": self.product.name if self.product is not None else None,
            "cause": self.cause,
            "event": self.event,
            "effect": self.effect,
            "owner": self.owner,
            "likelihood_before": self.likelihood_before,
            "impact_before": self.impact_before,
            "score_before": self.score_before,
            "likelihood_after": self.likelihood_after,
            "impact_after": self.impact_after,
            "score_after": self.score_after,
            "treatment": self.treatment,
            "actions": list(self.actions),
            "accepted_by": self.accepted_by,
            "accepted_on": iso(self.accepted_on),
            "expires_on": iso(self.expires_on),
            "next_review_on": iso(self.next_review_on),
            "last_reviewed_on": iso(self.last_reviewed_on),
            "last_review_note": self.last_review_note,
            "status": self.status,
            "closed_on": iso(self.closed_on),
            "close_reason": self.close_reason,
            "issues": [issue.id for issue in self.issues],
            "version": self.version,
        }


class Waiver(Tracked, Base):
    """A control waived for one repository, or for every repository of a product."""

    __tablename__ = "waiver"
    ENTITY = "waiver"

    control: Mapped[str] = mapped_column(String(100), nullable=False)
    repository: Mapped[str | None] = mapped_column(String(NAME), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    approver: Mapped[str] = mapped_column(String(NAME), nullable=False)
    expires_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    product: Mapped[Product | None] = relationship(Product, lazy="joined")

    __table_args__ = (
        CheckConstraint(
            "(repository IS NULL AND product_id IS NOT NULL) "
            "OR (repository IS NOT NULL AND product_id IS NULL)",
            name="one_target",
        ),
    )

    @property
    def target(self) -> str:
        if self.repository is not None:
            return self.repository
        return f"product {self.product.name}" if self.product is not None else "-"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "control": self.control,
            "repository": self.repository,
            "product": self.product.name if self.product is not None else None,
            "reason": self.reason,
            "approver": self.approver,
            "expires_on": iso(self.expires_on),
            "status": self.status,
            "version": self.version,
        }


class ScanRun(Base):
    """One recorded scan of one repository (`secposture scan --record`). Append-only."""

    __tablename__ = "scan_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository: Mapped[str] = mapped_column(String(NAME), nullable=False)
    commit: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    tool_version: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    results: Mapped[list[ScanResult]] = relationship(
        back_populates="scan", lazy="selectin", order_by="ScanResult.id"
    )

    __table_args__ = (Index("ix_scan_run_repository_scanned", "repository", "scanned_at"),)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "repository": self.repository,
            "commit": self.commit,
            "source": self.source,
            "scanned_at": iso(self.scanned_at),
            "tool_version": self.tool_version,
            "statuses": {r.control: r.status for r in self.results},
        }


class ScanResult(Base):
    """One control's status in one recorded scan, with its evidence: the trend's data points."""

    __tablename__ = "scan_result"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scan_run.id"), nullable=False, index=True)
    control: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, nullable=False)
    scan: Mapped[ScanRun] = relationship(back_populates="results")


class History(Base):
    """Append-only: who changed which record, when, and its values before and after."""

    __tablename__ = "history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    entity_id: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    actor: Mapped[str] = mapped_column(String(NAME), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonType)

    __table_args__ = (Index("ix_history_entity", "entity", "entity_id"),)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "action": self.action,
            "actor": self.actor,
            "at": iso(self.at),
            "before": self.before,
            "after": self.after,
        }
