"""What readers keep about dashboards: their home page and their email digests."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from andon.database import Base, utcnow
from andon.identity.models import User


class HomeChoice(Base):
    """The page a person chose to land on: a dashboard, or the inbox (no key)."""

    __tablename__ = "home_choice"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    dashboard_key: Mapped[str | None] = mapped_column(String(64))
    chosen_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestSubscription(Base):
    """A reader's weekly or monthly email of a dashboard's headline numbers.

    ``day`` is the ISO weekday (1 Monday … 7 Sunday) of a weekly digest, or the day
    of the month (1–31; the month's last day when it is shorter) of a monthly one.
    ``token`` lets the unsubscribe link in each email work without signing in.
    """

    __tablename__ = "digest_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    dashboard_key: Mapped[str] = mapped_column(String(64))
    frequency: Mapped[str] = mapped_column(String(16))
    day: Mapped[int]
    locale: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sent_on: Mapped[date | None]

    user: Mapped[User] = relationship()
