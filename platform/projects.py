"""What a client project's page shows: its stages, open tasks, changes and budget.

A project is a record of the ``project`` form; flow instances belong to it when
their data names it (``FlowInstance.project``), records when they link to it.
A flow whose process carries ``<spiff:property name="stages_of" value="project"/>``
is a delivery: its human steps, in the order of the model, are the project's
stages. Every other instance is a change to the project, grouped by flow. The
steps, flows and forms whose key contains ``retrospective`` make up its
retrospective. Only instances the reader may open are counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from andon.flows.models import FlowInstance, Task
from andon.flows.queries import visible_instances
from andon.forms.models import Record
from andon.identity.models import User

FORM = "project"
RETROSPECTIVE = "retrospective"


@dataclass(frozen=True)
class Stage:
    """One step of a delivery: its latest task (if reached) and how many times it ran."""

    step_id: str
    title: dict[str, str]
    task: Task | None
    rounds: int

    def verdict(self, now: datetime) -> str:
        """Return done_on_time, done_late, overdue, open, skipped or not_reached."""
        task = self.task
        if task is None:
            return "not_reached"
        if task.state == "completed":
            late = task.due_at is not None and task.completed_at is not None and (
                task.completed_at > task.due_at)
            return "done_late" if late else "done_on_time"
        if task.state == "open":
            return "overdue" if task.due_at is not None and task.due_at <= now else "open"
        return "skipped"


@dataclass(frozen=True)
class Delivery:
    """A delivery instance of the project with its stages in the model's order."""

    instance: FlowInstance
    stages: list[Stage]


@dataclass
class Overview:
    """Everything the project's page shows from its flows."""

    deliveries: list[Delivery] = field(default_factory=list)
    open_tasks: list[Task] = field(default_factory=list)
    changes: dict[str, list[FlowInstance]] = field(default_factory=dict)  # flow key: newest first
    retrospective: list[Task] = field(default_factory=list)


def overview(session: Session, record: Record, user: User) -> Overview:
    """Return the project's deliveries, open tasks, changes and retrospective the user may see."""
    instances = list(session.scalars(
        visible_instances(user).where(FlowInstance.project == str(record.id))))
    found = Overview()
    for instance in sorted(instances, key=lambda i: (i.started_at, i.id)):
        content = instance.version.content
        if content.get("properties", {}).get("stages_of") == record.form_key:
            found.deliveries.append(Delivery(instance, stages(instance)))
        else:
            found.changes.setdefault(instance.version.definition.key, []).insert(0, instance)
        found.open_tasks += [t for t in instance.tasks if t.state == "open"]
        found.retrospective += [t for t in instance.tasks if t.state == "completed"
                                and RETROSPECTIVE in t.step_id]
    found.open_tasks.sort(key=lambda t: (t.due_at is None, t.due_at or t.created_at, t.id))
    return found


def stages(instance: FlowInstance) -> list[Stage]:
    """Return the human steps of an instance's flow in order, each with its latest task."""
    content = instance.version.content
    steps = [s for s in content.get("steps", []) if s.get("kind") == "userTask"
             and s["properties"].get("form") != content.get("start_form")]
    tasks: dict[str, list[Task]] = {}
    for task in sorted(instance.tasks, key=lambda t: (t.created_at, t.id)):
        tasks.setdefault(task.step_id, []).append(task)
    return [Stage(step["id"], {"en": step.get("name") or step["id"],
                               "zh-CN": step["properties"].get("name_zh") or step.get("name")
                               or step["id"]},
                  (tasks.get(step["id"]) or [None])[-1], len(tasks.get(step["id"], [])))
            for step in steps]


def retrospective_flows(found: Overview) -> list[FlowInstance]:
    """Return the changes that are retrospectives (their flow's key says so)."""
    return [i for key, group in found.changes.items() if RETROSPECTIVE in key for i in group]


@dataclass(frozen=True)
class EffortRow:
    """Man-days and cost of one role: budget against spent."""

    role: str
    budget_days: float
    actual_days: float
    day_rate: float

    @property
    def budget_cost(self) -> float:
        """Return the role's budgeted cost."""
        return self.budget_days * self.day_rate

    @property
    def actual_cost(self) -> float:
        """Return the role's cost so far."""
        return self.actual_days * self.day_rate

    @property
    def used(self) -> float | None:
        """Return the share of the role's man-days used, in percent."""
        return self.actual_days / self.budget_days * 100 if self.budget_days else None


@dataclass(frozen=True)
class Budget:
    """The project's money: contract, budget, cost to date, and effort by role."""

    contract_value: float | None
    budget_amount: float | None
    cost_to_date: float | None
    effort: list[EffortRow]

    @property
    def consumed(self) -> float | None:
        """Return the share of the budget spent, in percent."""
        if not self.budget_amount or self.cost_to_date is None:
            return None
        return self.cost_to_date / self.budget_amount * 100

    @property
    def remaining(self) -> float | None:
        """Return what is left of the budget."""
        if self.budget_amount is None or self.cost_to_date is None:
            return None
        return self.budget_amount - self.cost_to_date

    def total(self, name: str) -> float:
        """Return an effort column's sum (budget_days, actual_days, budget_cost, actual_cost)."""
        return float(sum(getattr(row, name) for row in self.effort))


def budget(data: Mapping[str, Any]) -> Budget:
    """Return a project record's budget from its data."""
    return Budget(_number(data.get("contract_value")), _number(data.get("budget_amount")),
                  _number(data.get("cost_to_date")),
                  [EffortRow(str(row.get("role", "")), _number(row.get("budget_days")) or 0,
                             _number(row.get("actual_days")) or 0,
                             _number(row.get("day_rate")) or 0)
                   for row in _rows(data.get("effort"))])


def _number(value: Any) -> float | None:
    """Return a stored number, or None for anything else."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _rows(value: Any) -> Sequence[Mapping[str, Any]]:
    """Return the rows of a stored array field, ignoring what is not a row."""
    return [row for row in value if isinstance(row, Mapping)] if isinstance(value, list) else []
