"""Datasets over what happened to flows: the audit log and the escalation levels reached.

``audit``: one row per audit event about a flow instance (events about
definitions, forms and records are not in it); its drill-down opens the
instance. ``escalations``: one row per escalation level a task reached, from
the ``escalation`` table the worker writes; its drill-down opens the task. Both
belong, like tasks, to the org unit of the person who started the instance.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from andon.audit import AuditEvent
from andon.catalog import Definition, DefinitionVersion
from andon.flows.models import Escalation, FlowInstance, Task
from andon.i18n import N_, normalize_locale
from andon.identity.models import OrgUnit, User
from andon.reports.fields import (
    DataField,
    Dataset,
    flag,
    localized,
    project_fields,
    project_record,
)
from andon.reports.sqlfuncs import hours_between

KINDS = {
    "instance.started": N_("Flow started"), "instance.completed": N_("Flow completed"),
    "instance.withdrawn": N_("Flow withdrawn"), "instance.suspended": N_("Flow suspended"),
    "instance.resumed": N_("Flow resumed"), "instance.failed": N_("Flow failed"),
    "instance.retried": N_("Flow retried"), "instance.migrated": N_("Flow migrated"),
    "task.created": N_("Task created"), "task.claimed": N_("Task claimed"),
    "task.released": N_("Task released"), "task.transferred": N_("Task transferred"),
    "task.sent_back": N_("Task sent back"), "task.completed": N_("Task completed"),
    "task.cancelled": N_("Task cancelled"), "task.reminded": N_("Reminder sent"),
    "task.escalated": N_("Task escalated"), "task.cc": N_("Copied on a task"),
    "task.cc.noted": N_("Copied on a task with a note"), "task.copied": N_("Task copied"),
    "message.sent": N_("Message sent"), "message.received": N_("Message received"),
    "service.completed": N_("Service step completed"),
    "service.failed": N_("Service step failed"), "instance.scheduled": N_("Flow scheduled"),
}
ACTIONS = {"notify": N_("Notify"), "reassign": N_("Reassign"), "complete": N_("Complete")}
HANDED = ("task.transferred", "task.cc", "task.cc.noted")  # events whose "to" is a person


def _flow_fields(locale: str, flow: Any) -> list[DataField]:
    """Return the fields naming the instance's flow."""
    return [
        DataField("flow", N_("Flow"), "string", localized(DefinitionVersion.title, locale)),
        DataField("flow_key", N_("Flow key"), "string", flow.key),
    ]


def _unit_fields(unit: Any) -> list[DataField]:
    """Return the fields naming the starter's org unit."""
    return [DataField("org_unit", N_("Org unit"), "string", unit.name),
            DataField("org_unit_key", N_("Org unit key"), "string", unit.key)]


def audit(locale: str, session: Session | None = None) -> Dataset:
    """Return the dataset of audit events about flow instances."""
    actor, starter, unit = aliased(User), aliased(User), aliased(OrgUnit)
    flow = aliased(Definition)
    project, on_project = project_record(FlowInstance.project)
    detail = AuditEvent.detail
    step_title = func.coalesce(detail[("step_title", normalize_locale(locale))].as_string(),
                               detail[("step_title", "en")].as_string())
    fields = [
        DataField("at", N_("When"), "datetime", AuditEvent.at),
        DataField("kind", N_("Event"), "string", AuditEvent.kind, KINDS),
        DataField("actor", N_("Done by"), "string", actor.display_name),
        DataField("by_person", N_("Done by a person"), "boolean",
                  flag(AuditEvent.actor_id.is_not(None), AuditEvent.id.is_not(None))),
        *_flow_fields(locale, flow),
        DataField("step", N_("Step"), "string", step_title),
        DataField("step_id", N_("Step id"), "string", detail["step"].as_string()),
        DataField("task", N_("Task"), "number", detail["task"].as_integer()),
        DataField("level", N_("Escalation level"), "number", detail["level"].as_integer()),
        DataField("action", N_("Escalation action"), "string", detail["action"].as_string(),
                  ACTIONS),
        DataField("handed_to", N_("Handed to"), "string",
                  func.nullif(_when(AuditEvent.kind.in_(HANDED), detail["to"].as_string()), "")),
        *_unit_fields(unit),
        *project_fields(project, FlowInstance.project),
        DataField("instance", N_("Instance"), "number", FlowInstance.id),
    ]
    base = (select().select_from(AuditEvent)
            .join(FlowInstance, AuditEvent.subject_id == FlowInstance.id)
            .outerjoin(DefinitionVersion, FlowInstance.version_id == DefinitionVersion.id)
            .outerjoin(flow, DefinitionVersion.definition_id == flow.id)
            .outerjoin(starter, FlowInstance.started_by_id == starter.id)
            .outerjoin(unit, starter.org_unit_id == unit.id)
            .outerjoin(actor, AuditEvent.actor_id == actor.id)
            .outerjoin(project, on_project)
            .where(AuditEvent.subject_type == "instance"))
    return Dataset("audit", N_("Audit events"), {f.key: f for f in fields}, base, "instance",
                   FlowInstance.id,
                   ["at", "kind", "actor", "flow", "step", "handed_to", "org_unit", "project"],
                   {"unit": starter.org_unit_id, "instance": FlowInstance.id,
                    "starter": FlowInstance.started_by_id, "creator": AuditEvent.actor_id})


def _when(condition: Any, value: Any) -> Any:
    """Return the value where the condition holds, else NULL."""
    return case((condition, value), else_=None)


def escalations(locale: str, session: Session | None = None) -> Dataset:
    """Return the dataset of escalation levels tasks reached."""
    holder, starter = aliased(User), aliased(User)
    flow, unit = aliased(Definition), aliased(OrgUnit)
    project, on_project = project_record(FlowInstance.project)
    completed = Task.state == "completed"
    fields = [
        DataField("level", N_("Escalation level"), "number", Escalation.level),
        DataField("action", N_("Escalation action"), "string", Escalation.action, ACTIONS),
        DataField("rule", N_("Escalation rule"), "string", Escalation.rule),
        DataField("escalated_at", N_("Escalated"), "datetime", Escalation.at),
        DataField("asked", N_("Asked"), "string", Escalation.asked),
        DataField("due_at", N_("Due"), "datetime", Escalation.due_at),
        DataField("hours_after_due", N_("Hours after the due time"), "hours",
                  hours_between(Escalation.due_at, Escalation.at)),
        *_flow_fields(locale, flow),
        DataField("step", N_("Step"), "string", localized(Task.step_title, locale)),
        DataField("step_id", N_("Step id"), "string", Task.step_id),
        DataField("assignee", N_("Assignee"), "string", holder.display_name),
        DataField("completed", N_("Completed afterwards"), "boolean",
                  flag(completed, Task.id.is_not(None))),
        DataField("completed_at", N_("Completed"), "datetime", Task.completed_at),
        DataField("hours_to_complete", N_("Hours from escalation to completion"), "hours",
                  hours_between(Escalation.at, _when(completed, Task.completed_at))),
        *_unit_fields(unit),
        *project_fields(project, FlowInstance.project),
        DataField("task", N_("Task"), "number", Task.id),
        DataField("instance", N_("Instance"), "number", FlowInstance.id),
    ]
    base = (select().select_from(Escalation)
            .outerjoin(Task, Escalation.task_id == Task.id)
            .outerjoin(FlowInstance, Escalation.instance_id == FlowInstance.id)
            .outerjoin(DefinitionVersion, FlowInstance.version_id == DefinitionVersion.id)
            .outerjoin(flow, DefinitionVersion.definition_id == flow.id)
            .outerjoin(starter, FlowInstance.started_by_id == starter.id)
            .outerjoin(unit, starter.org_unit_id == unit.id)
            .outerjoin(holder, Task.assignee_id == holder.id)
            .outerjoin(project, on_project))
    return Dataset("escalations", N_("Escalations"), {f.key: f for f in fields}, base, "task",
                   Task.id,
                   ["flow", "step", "level", "action", "asked", "escalated_at",
                    "hours_after_due", "completed_at", "org_unit", "project"],
                   {"unit": starter.org_unit_id, "instance": FlowInstance.id,
                    "starter": FlowInstance.started_by_id})

