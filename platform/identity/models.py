"""Users, groups, roles and org units."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import Select

from andon.database import Base, utcnow

ROLES = ("admin", "designer", "member", "leader")
#: the kinds of notification a person can turn off per channel, and the channels
TOPICS = ("assigned", "reminder", "escalation", "cc", "digest")
CHANNELS = ("email", "chat")
#: which notification kinds belong to which topic; other kinds count as "assigned"
TOPIC_OF = {"transfer": "assigned", "assigned": "assigned", "reminder": "reminder",
            "escalation": "escalation", "cc": "cc", "digest": "digest"}
CHAT_KINDS = ("wecom", "dingtalk", "feishu", "slack", "generic")

group_member = Table(
    "group_member",
    Base.metadata,
    Column("group_id", ForeignKey("group.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class OrgUnit(Base):
    """A department or delivery centre, with a manager."""

    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", use_alter=True, ondelete="SET NULL"))

    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id])


class User(Base):
    """A person who signs in; the password is stored only as a hash."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(256))
    locale: Mapped[str | None] = mapped_column(String(16))
    #: channel choices that differ from the default (everything on): {"cc": {"email": false}}
    notify_prefs: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    chat_kind: Mapped[str | None] = mapped_column(String(16))
    chat_webhook: Mapped[str | None] = mapped_column(String(1000))
    active: Mapped[bool] = mapped_column(default=True)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    org_unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[org_unit_id])
    groups: Mapped[list[Group]] = relationship(secondary=group_member, back_populates="members")
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan")

    @property
    def roles(self) -> set[str]:
        """Return the names of this user's roles."""
        return {row.role for row in self.role_rows}

    def has_role(self, *names: str) -> bool:
        """Tell whether the user holds any of the roles."""
        return bool(self.roles.intersection(names))

    def wants(self, kind: str, channel: str) -> bool:
        """Tell whether the person wants this kind of notification on a channel (in-app: always)."""
        if channel == "app":
            return True
        topic = TOPIC_OF.get(kind, "assigned")
        return bool((self.notify_prefs or {}).get(topic, {}).get(channel, True))

    @classmethod
    def listed(cls) -> Select[User]:
        """Return a query of all users by name."""
        return select(cls).order_by(cls.username)


class UserRole(Base):
    """One role held by one user."""

    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))


class Group(Base):
    """A team whose members share tasks as candidates."""

    __tablename__ = "group"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    members: Mapped[list[User]] = relationship(secondary=group_member, back_populates="groups")
