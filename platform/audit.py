"""The audit log: who did what, when, to which instance or task."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from andon.database import Base, utcnow
from andon.identity.models import User


class AuditEvent(Base):
    """One thing a person or the system did."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_subject", "subject_type", "subject_id", "id"),
                      Index("ix_audit_event_kind_at", "kind", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    actor: Mapped[User | None] = relationship()


def record(session: Session, kind: str, subject_type: str, subject_id: int,
           actor_id: int | None = None, at: datetime | None = None,
           **detail: Any) -> AuditEvent:
    """Append an event to the log."""
    event = AuditEvent(kind=kind, subject_type=subject_type, subject_id=subject_id,
                       actor_id=actor_id, at=at or utcnow(), detail=detail)
    session.add(event)
    return event


def history(session: Session, subject_type: str, subject_id: int) -> list[AuditEvent]:
    """Return the events of one subject, oldest first."""
    query = (select(AuditEvent)
             .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
             .order_by(AuditEvent.id))
    return list(session.scalars(query))
