"""Dashboard accounts and sign-in sessions, kept in the register database (migration 0002);
the dashboard (secposture.web) manages them.

`WebUser` is a register entity like any other: created, changed and disabled through
`accounts.py`, every change appended to the register's history with the acting user. Its
history snapshot (`to_dict`) never holds the password hash.

`WebSession` is a server-side sign-in session: the browser holds a random token (inside the
signed session cookie) and the database holds only its SHA-256, so a copy of the database
cannot be replayed as a cookie. Sessions are ended (`ended_at`), never deleted by a request;
they are bookkeeping, not register records, so they have no history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secposture.register.base import NAME, SHORT, Base, Tracked, UTCDateTime, iso

LOCAL, OIDC = "local", "oidc"
ACTIVE, DISABLED = "active", "disabled"


class WebUser(Tracked, Base):
    __tablename__ = "web_user"
    ENTITY = "user"

    username: Mapped[str] = mapped_column(String(NAME), nullable=False)
    # The user name folded to lower case: unique regardless of case.
    username_key: Mapped[str] = mapped_column(String(NAME), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME), nullable=False)
    email: Mapped[str | None] = mapped_column(String(NAME))
    role: Mapped[str] = mapped_column(String(SHORT), nullable=False)
    auth: Mapped[str] = mapped_column(String(SHORT), nullable=False)  # local or oidc
    # argon2id PHC string; None for accounts that sign in through OIDC only.
    password_hash: Mapped[str | None] = mapped_column(String(300))
    oidc_issuer: Mapped[str | None] = mapped_column(String(2000))
    oidc_subject: Mapped[str | None] = mapped_column(String(NAME))
    status: Mapped[str] = mapped_column(String(SHORT), nullable=False)

    __table_args__ = (
        Index("uq_web_user_oidc_identity", "oidc_issuer", "oidc_subject", unique=True),
    )

    @property
    def label(self) -> str:
        return f"user {self.username}"

    def to_dict(self) -> dict[str, Any]:
        # No password hash: history rows, JSON output and pages never carry it.
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "email": self.email,
            "role": self.role,
            "auth": self.auth,
            "oidc_subject": self.oidc_subject,
            "status": self.status,
            "version": self.version,
        }


class WebSession(Base):
    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_user.id"), nullable=False, index=True)
    via: Mapped[str] = mapped_column(String(SHORT), nullable=False)  # local or oidc
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[WebUser] = relationship(lazy="joined", innerjoin=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user.username,
            "via": self.via,
            "created_at": iso(self.created_at),
            "last_seen_at": iso(self.last_seen_at),
            "expires_at": iso(self.expires_at),
            "ended_at": iso(self.ended_at),
        }
