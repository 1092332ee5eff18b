"""Datasets a report can query: named, typed fields over Andon's tables.

Like redash's query runners, each dataset is described by data (its fields) and
every report gets one result shape: columns and rows. Three kinds are here:
``tasks``, ``instances`` and ``records:<form key>`` (a form's top-level fields,
read from the JSON data through ``andon.forms.jsonsql``).

Two more, ``audit`` and ``escalations``, live in ``andon.reports.event_datasets``;
fields and the dataset shape in ``andon.reports.fields``. Every dataset row
belongs to an org unit — the org unit of the person who started the instance or
created the record — which row-level access uses (see ``andon.reports.access``).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from andon import clock
from andon.catalog import Definition, DefinitionVersion
from andon.errors import NotFound
from andon.flows import causes
from andon.flows.models import FlowInstance, Task
from andon.forms import taxonomies
from andon.forms.jsonsql import field_value
from andon.forms.taxonomies import Taxonomy
from andon.i18n import N_, localize
from andon.identity.models import OrgUnit, User
from andon.reports.event_datasets import audit, escalations
from andon.reports.fields import (
    DataField,
    Dataset,
    flag,
    localized,
    project_fields,
    project_record,
)
from andon.reports.sqlfuncs import hours_between

__all__ = ["DATASETS", "RECORDS", "DataField", "Dataset", "dataset"]

RECORDS = "records:"


def _trees(session: Session | None, keys: set[str]) -> dict[str, Taxonomy]:
    """Return the published taxonomies named, leaving out those not published."""
    found = {}
    for key in keys if session is not None else ():
        try:
            found[key] = taxonomies.current(session, key)  # type: ignore[arg-type]
        except NotFound:
            continue
    return found


def _tasks(locale: str, session: Session | None = None) -> Dataset:
    """Return the dataset of human tasks, with names in the locale."""
    assignee, starter = aliased(User), aliased(User)
    flow, unit = aliased(Definition), aliased(OrgUnit)
    project, on_project = project_record(FlowInstance.project)
    now = clock.now()
    done, due = Task.completed_at.is_not(None), Task.due_at.is_not(None)
    fields = [
        DataField("flow", N_("Flow"), "string", localized(DefinitionVersion.title, locale)),
        DataField("flow_key", N_("Flow key"), "string", flow.key),
        DataField("flow_version", N_("Flow version"), "number", DefinitionVersion.number),
        DataField("step", N_("Step"), "string", localized(Task.step_title, locale)),
        DataField("step_id", N_("Step id"), "string", Task.step_id),
        DataField("state", N_("Task state"), "string", Task.state,
                  {"open": N_("Open"), "completed": N_("Completed"), "cancelled": N_("Cancelled")}),
        DataField("assignee", N_("Assignee"), "string", assignee.display_name),
        DataField("org_unit", N_("Org unit"), "string", unit.name),
        DataField("org_unit_key", N_("Org unit key"), "string", unit.key),
        *project_fields(project, FlowInstance.project),
        DataField("created_at", N_("Created"), "datetime", Task.created_at),
        DataField("due_at", N_("Due"), "datetime", Task.due_at),
        DataField("completed_at", N_("Completed"), "datetime", Task.completed_at),
        DataField("on_time", N_("Completed on time"), "boolean",
                  flag(Task.completed_at <= Task.due_at, and_(done, due))),
        DataField("overdue", N_("Overdue"), "boolean",
                  flag(func.coalesce(Task.completed_at, now) > Task.due_at,
                        and_(due, Task.state != "cancelled"))),
        DataField("escalation_level", N_("Escalation level"), "number", Task.escalation_level),
        DataField("hours_taken", N_("Hours taken"), "hours",
                  hours_between(Task.created_at, Task.completed_at)),
        DataField("hours_late", N_("Hours late"), "hours",
                  hours_between(Task.due_at, func.coalesce(Task.completed_at, now))),
        DataField("instance", N_("Instance"), "number", Task.instance_id),
        DataField("cause", N_("Cause"), "string", Task.cause, taxonomy=causes.taxonomy_key()),
        DataField("cause_note", N_("Note on the cause"), "string", Task.cause_note),
    ]
    base = (select().select_from(Task)
            .outerjoin(FlowInstance, Task.instance_id == FlowInstance.id)
            .outerjoin(DefinitionVersion, FlowInstance.version_id == DefinitionVersion.id)
            .outerjoin(flow, DefinitionVersion.definition_id == flow.id)
            .outerjoin(starter, FlowInstance.started_by_id == starter.id)
            .outerjoin(unit, starter.org_unit_id == unit.id)
            .outerjoin(assignee, Task.assignee_id == assignee.id)
            .outerjoin(project, on_project))
    return Dataset("tasks", N_("Tasks"), {f.key: f for f in fields}, base, "task", Task.id,
                   ["flow", "step", "state", "assignee", "org_unit", "project", "created_at",
                    "due_at", "completed_at", "escalation_level", "cause"],
                   {"unit": starter.org_unit_id, "instance": FlowInstance.id,
                    "starter": FlowInstance.started_by_id},
                   trees=_trees(session, {causes.taxonomy_key()}), locale=locale)


def _instances(locale: str, session: Session | None = None) -> Dataset:
    """Return the dataset of flow instances, with names in the locale."""
    starter, flow, unit = aliased(User), aliased(Definition), aliased(OrgUnit)
    project, on_project = project_record(FlowInstance.project)
    fields = [
        DataField("flow", N_("Flow"), "string", localized(DefinitionVersion.title, locale)),
        DataField("flow_key", N_("Flow key"), "string", flow.key),
        DataField("flow_version", N_("Flow version"), "number", DefinitionVersion.number),
        DataField("title", N_("Title"), "string", FlowInstance.title),
        DataField("status", N_("Status"), "string", FlowInstance.status,
                  {"running": N_("Running"), "suspended": N_("Suspended"),
                   "completed": N_("Completed"), "withdrawn": N_("Withdrawn"),
                   "failed": N_("Failed")}),
        DataField("started_by", N_("Started by"), "string", starter.display_name),
        DataField("org_unit", N_("Org unit"), "string", unit.name),
        DataField("org_unit_key", N_("Org unit key"), "string", unit.key),
        *project_fields(project, FlowInstance.project),
        DataField("started_at", N_("Started"), "datetime", FlowInstance.started_at),
        DataField("ended_at", N_("Ended"), "datetime", FlowInstance.ended_at),
        DataField("cycle_hours", N_("Cycle time (hours)"), "hours",
                  hours_between(FlowInstance.started_at, FlowInstance.ended_at)),
    ]
    base = (select().select_from(FlowInstance)
            .outerjoin(DefinitionVersion, FlowInstance.version_id == DefinitionVersion.id)
            .outerjoin(flow, DefinitionVersion.definition_id == flow.id)
            .outerjoin(starter, FlowInstance.started_by_id == starter.id)
            .outerjoin(unit, starter.org_unit_id == unit.id)
            .outerjoin(project, on_project))
    return Dataset("instances", N_("Flow instances"), {f.key: f for f in fields}, base,
                   "instance", FlowInstance.id,
                   ["title", "flow", "status", "started_by", "org_unit", "project", "started_at",
                    "ended_at", "cycle_hours"],
                   {"unit": starter.org_unit_id, "instance": FlowInstance.id,
                    "starter": FlowInstance.started_by_id})


JSON_KINDS = {"number": ("number", "number"), "integer": ("number", "number"),
              "boolean": ("text", "string")}


def _records(form_key: str, locale: str, session: Session | None) -> Dataset | None:
    """Return the dataset of one form's records, its top-level fields typed; None without one."""
    from andon.forms.fields import supported
    from andon.forms.models import Record
    from andon.forms.record_access import published_spec
    from andon.forms.taxonomy_fields import hints

    spec = published_spec(session, form_key) if session is not None else None
    if spec is None:
        return None
    creator, unit = aliased(User), aliased(OrgUnit)
    fields = [
        DataField("created_at", N_("Created"), "datetime", Record.created_at),
        DataField("updated_at", N_("Updated"), "datetime", Record.updated_at),
        DataField("created_by", N_("Created by"), "string", creator.display_name),
        DataField("org_unit", N_("Org unit"), "string", unit.name),
        DataField("org_unit_key", N_("Org unit key"), "string", unit.key),
    ]
    coded = {name: hint.key for name, hint in hints(spec).items()}
    for name, kind, prop in supported(spec):
        if kind in ("object", "array", "checks") or name in {f.key for f in fields}:
            continue
        sql_kind, field_type = JSON_KINDS.get(kind, ("text", "string"))
        if kind == "string" and prop.get("format") in ("date", "date-time"):
            sql_kind = field_type = "date" if prop["format"] == "date" else "datetime"
        options = spec.field_layout(name).get("options") or {}
        choices = {str(k): localize(v, locale) for k, v in options.items()} \
            if isinstance(options, dict) else {}
        fields.append(DataField(name, spec.label(name, locale), field_type,
                                field_value(Record.data, [name], sql_kind), choices,
                                taxonomy=coded.get(name)))
        if name == "project":  # what the reader's project parameter binds to
            fields.append(DataField("project_id", N_("Project id"), "string",
                                    field_value(Record.data, [name], "text")))
    base = (select().select_from(Record).join(creator, Record.created_by_id == creator.id)
            .outerjoin(unit, creator.org_unit_id == unit.id)
            .where(Record.form_key == form_key))
    shown = [f.key for f in fields[5:] if f.key != "project_id"][:6] + ["created_by", "created_at"]
    return Dataset(RECORDS + form_key, spec.title_in(locale), {f.key: f for f in fields},
                   base, "record", Record.id, shown,
                   {"unit": creator.org_unit_id, "creator": Record.created_by_id},
                   form_key=form_key, trees=_trees(session, set(coded.values())), locale=locale)


DATASETS: dict[str, Callable[[str, Session | None], Dataset]] = {
    "tasks": _tasks, "instances": _instances, "audit": audit, "escalations": escalations}


def dataset(key: str, locale: str = "en", session: Session | None = None) -> Dataset | None:
    """Return a dataset by key with names in the locale, or None when there is none.

    ``records:<form key>`` needs the session, to read the form's published fields.
    """
    if key.startswith(RECORDS):
        return _records(key[len(RECORDS):], locale, session)
    factory = DATASETS.get(key)
    return factory(locale, session) if factory else None
