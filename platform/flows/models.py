"""Flow instances and the human tasks projected from them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from andon.catalog import DefinitionVersion
from andon.database import Base, utcnow
from andon.i18n import localize
from andon.identity.models import Group, OrgUnit, User

INSTANCE_STATES = ("running", "suspended", "completed", "withdrawn", "failed")
TASK_STATES = ("open", "completed", "cancelled")
# Open tasks nobody has claimed: the inbox finds those offered to a person's groups,
# roles and org unit through small partial indexes over just these rows.
OFFERED = "state = 'open' AND assignee_id IS NULL"
OPEN = "state = 'open'"  # every query on due times asks only about open tasks
ESCALATED = "escalation_level > 0"  # the few tasks reports on escalations read


class FlowInstance(Base):
    """One run of a flow version; the engine state is kept apart from the spec."""

    __tablename__ = "flow_instance"
    #: with the id, so a manager's team overdue reads the team's instances from the index alone
    __table_args__ = (Index("ix_flow_instance_starter", "started_by_id", "id"),
                      Index("ix_flow_instance_ended_at", "ended_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    #: the project the instance belongs to: its data's ``project`` value
    project: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    state: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    wake_at: Mapped[datetime | None] = mapped_column(index=True)
    outcome: Mapped[dict[str, Any] | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    lock_version: Mapped[int] = mapped_column(default=1)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("flow_instance.id"), index=True)

    version: Mapped[DefinitionVersion] = relationship()
    started_by: Mapped[User] = relationship()
    tasks: Mapped[list[Task]] = relationship(back_populates="instance", order_by="Task.id")
    parent: Mapped[FlowInstance | None] = relationship(remote_side=[id])

    __mapper_args__ = {"version_id_col": lock_version}


class Task(Base):
    """A human step waiting for, or done by, a person."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_state_assignee", "state", "assignee_id"),
        Index("ix_task_offered_group", "candidate_group_id", postgresql_where=text(OFFERED),
              sqlite_where=text(OFFERED)),
        Index("ix_task_offered_role", "candidate_role", postgresql_where=text(OFFERED),
              sqlite_where=text(OFFERED)),
        Index("ix_task_offered_org_unit", "candidate_org_unit_id",
              postgresql_where=text(OFFERED), sqlite_where=text(OFFERED)),
        Index("ix_task_open_due", "due_at", postgresql_where=text(OPEN), sqlite_where=text(OPEN)),
        # a team's overdue tasks: those offered to its units (claimed or not), on its instances
        Index("ix_task_open_org_unit", "candidate_org_unit_id", postgresql_where=text(OPEN),
              sqlite_where=text(OPEN)),
        # reports: escalated tasks, and the reader's period on created or completed
        Index("ix_task_escalated", "escalation_level", postgresql_where=text(ESCALATED),
              sqlite_where=text(ESCALATED)),
        Index("ix_task_created_at", "created_at"),
        Index("ix_task_completed_at", "completed_at"),
        Index("ix_task_open_instance", "instance_id", postgresql_where=text(OPEN),
              sqlite_where=text(OPEN)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("flow_instance.id"), index=True)
    spiff_id: Mapped[str] = mapped_column(String(36))
    step_id: Mapped[str] = mapped_column(String(128))
    step_name: Mapped[str] = mapped_column(String(300))
    step_title: Mapped[dict[str, Any]] = mapped_column(default=dict)
    form_key: Mapped[str | None] = mapped_column(String(128))
    form_version_id: Mapped[int | None] = mapped_column(ForeignKey("definition_version.id"))
    due_at: Mapped[datetime | None]
    escalation_level: Mapped[int] = mapped_column(default=0, server_default="0")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    candidate_group_id: Mapped[int | None] = mapped_column(ForeignKey("group.id"))
    candidate_role: Mapped[str | None] = mapped_column(String(32))
    candidate_org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    state: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    draft: Mapped[dict[str, Any] | None]
    # why a task was late: a code of the cause taxonomy and an optional note (andon.flows.causes)
    cause: Mapped[str | None] = mapped_column(String(64))
    cause_note: Mapped[str | None] = mapped_column(Text)

    instance: Mapped[FlowInstance] = relationship(back_populates="tasks")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    candidate_group: Mapped[Group | None] = relationship()
    candidate_org_unit: Mapped[OrgUnit | None] = relationship()
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])

    def title(self, locale: str) -> str:
        """Return the step's name in the locale."""
        return localize(self.step_title, locale) or self.step_name


class MessageWait(Base):
    """A message a running instance waits for, with the correlation values it expects.

    Rewritten whenever the instance is saved, so delivering a message reads this
    table instead of loading every instance.
    """

    __tablename__ = "message_wait"
    __table_args__ = (Index("ix_message_wait_match", "name", "match_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("flow_instance.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    step_id: Mapped[str] = mapped_column(String(128))
    correlation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    match_key: Mapped[str] = mapped_column(String(500))


class Escalation(Base):
    """One escalation level a task reached: when, what it did, and whom it asked.

    ``due_at`` is the task's due time when the level fired (a resume may move it
    later); ``asked`` names everyone the level notified or handed the task to, and
    ``asked_id`` the first of them.
    """

    __tablename__ = "escalation"
    __table_args__ = (Index("ix_escalation_task_level", "task_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("flow_instance.id"), index=True)
    level: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    due_at: Mapped[datetime | None]
    asked_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    asked: Mapped[str | None] = mapped_column(String(1000))
