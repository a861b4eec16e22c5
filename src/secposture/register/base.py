"""The base of the register's tables: the declarative Base and its metadata, the columns every
tracked entity has, and the column types and sizes they share.

Apart from models.py so that the tables kept in other modules (the dashboard's accounts, the
deliveries, the watcher's tables) build on it without importing models.py, which imports them to
join its metadata: the import goes one way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Dialect, Integer, MetaData, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

# Constraint names fixed by convention, so later migrations can name what they alter on both
# SQLite (batch mode) and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonType = JSON().with_variant(JSONB(), "postgresql")

NAME = 200  # names of people, products, suppliers
LINK = 2000  # URLs
SHORT = 40  # vocabulary keys and statuses


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in UTC: SQLite keeps no time zone, so values are stored as UTC and come back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class Tracked:
    """Columns of every entity with a history: id, timestamps and the optimistic-lock version."""

    ENTITY: ClassVar[str]

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready values: history snapshots, --format json and exports."""
        raise NotImplementedError

    @property
    def label(self) -> str:
        """How people refer to the record: "risk 12"."""
        return f"{self.ENTITY.replace('_', ' ')} {self.id}"
