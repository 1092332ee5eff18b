"""Datasets a report can query: named, typed fields over Andon's tables.

Like redash's query runners, each dataset is described by data (its fields) and
every report gets one result shape: columns and rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import QueryableAttribute, aliased
from sqlalchemy.sql import ColumnElement

from andon.catalog import Definition, DefinitionVersion
from andon.flows.models import FlowInstance, Task
from andon.i18n import N_, normalize_locale
from andon.identity.models import User


@dataclass(frozen=True)
class DataField:
    """One field of a dataset, with its type and label."""

    key: str
    label: str
    type: str  # "string", "number", "datetime"
    column: ColumnElement[Any] | QueryableAttribute[Any]
    choices: dict[str, str] = field(default_factory=dict)  # stored value -> label msgid


@dataclass(frozen=True)
class Dataset:
    """A base query and the fields a report may filter, group and measure."""

    key: str
    label: str
    fields: dict[str, DataField]
    base: Select[Any]


def _text(column: Any, locale: str) -> ColumnElement[Any]:
    """Return a {"en": …, "zh-CN": …} JSON column's text in the locale, else English."""
    return func.coalesce(column[normalize_locale(locale)].as_string(), column["en"].as_string())


def _tasks(locale: str) -> Dataset:
    """Return the dataset of human tasks, with names in the locale."""
    assignee = aliased(User)
    flow = aliased(Definition)
    fields = [
        DataField("flow", N_("Flow"), "string", _text(DefinitionVersion.title, locale)),
        DataField("flow_key", N_("Flow key"), "string", flow.key),
        DataField("flow_version", N_("Flow version"), "number", DefinitionVersion.number),
        DataField("step", N_("Step"), "string", _text(Task.step_title, locale)),
        DataField("step_id", N_("Step id"), "string", Task.step_id),
        DataField("state", N_("Task state"), "string", Task.state,
                  {"open": N_("Open"), "completed": N_("Completed"), "cancelled": N_("Cancelled")}),
        DataField("assignee", N_("Assignee"), "string", assignee.display_name),
        DataField("created_at", N_("Created"), "datetime", Task.created_at),
        DataField("completed_at", N_("Completed"), "datetime", Task.completed_at),
        DataField("instance", N_("Instance"), "number", Task.instance_id),
    ]
    base = (select().select_from(Task)
            .join(FlowInstance, Task.instance_id == FlowInstance.id)
            .join(DefinitionVersion, FlowInstance.version_id == DefinitionVersion.id)
            .join(flow, DefinitionVersion.definition_id == flow.id)
            .outerjoin(assignee, Task.assignee_id == assignee.id))
    return Dataset("tasks", N_("Tasks"), {f.key: f for f in fields}, base)


DATASETS = {"tasks": _tasks}


def dataset(key: str, locale: str = "en") -> Dataset | None:
    """Return a dataset by key with names in the locale, or None when there is none."""
    factory = DATASETS.get(key)
    return factory(locale) if factory else None
