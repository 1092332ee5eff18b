"""Move running instances of a flow to a newer version, when that is safe.

Before publishing, :func:`impact` shows which running (and suspended)
instances are not on the new diagram, grouped by version and waiting step,
and whether they could move. :func:`migrate` moves one instance to a
published version with SpiffWorkflow's own tools
(``SpiffWorkflow.bpmn.util.diff``): the saved workflow is restored on its old
spec, its tasks are aligned with the new spec by element id, the waiting
tasks' branches are re-predicted on the new diagram, and the state is saved
against the new version. The waiting user tasks keep their SpiffWorkflow ids,
so their Task rows stay the same rows: assignee, claims, due time, reminders
and escalations are kept; the step's name, title and form pin are updated to
the new version's. Only the common case is allowed: the instance waits at one
or more user or manual tasks of the main process that exist in the new
version with the same id and type, and every step it went through can be
aligned. Anything else is refused per instance, with the reason.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import audit, catalog
from andon.database import utcnow
from andon.errors import Conflict, InvalidDefinition
from andon.flows import runtime
from andon.flows.bpmn import load_bpmn
from andon.flows.engine import SERIALIZER, ServiceTask
from andon.flows.models import FlowInstance
from andon.i18n import N_, Message
from andon.identity.models import User

ACTIVE = ("running", "suspended")
WAITING_STATES = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
PREDICTED = TaskState.PREDICTED_MASK | TaskState.FUTURE


class MigrationRefused(Conflict):
    """The instance cannot be moved to the new version; the message says why."""


@dataclass(frozen=True)
class Waiting:
    """Running instances of one version waiting at one step, and whether they can move."""

    version: int
    step_id: str
    step_name: str
    count: int
    eligible: bool
    reason: Message | None = None


def impact(session: Session, flow_key: str, new_xml: bytes) -> list[Waiting]:
    """Group the running instances not on ``new_xml`` by version and waiting step.

    An instance waiting at two steps counts in both groups. ``eligible`` is
    False with the reason when (any of) the group's instances cannot move.
    """
    source = new_xml.decode("utf-8", "replace")
    try:
        new_spec: str | None = load_bpmn(new_xml, f"{flow_key}.bpmn").spec_json
    except InvalidDefinition:
        new_spec = None
    counts: Counter[tuple[int, str, str]] = Counter()
    reasons: dict[tuple[int, str, str], Message | None] = {}
    for instance in _instances(session, flow_key):
        if instance.version.source == source:
            continue
        reason = _refusal(instance, new_spec) if new_spec else Message(N_(
            "The new diagram has errors; correct them first"))
        for step_id, step_name in _waiting_steps(instance):
            key = (instance.version.number, step_id, step_name)
            counts[key] += 1
            reasons[key] = reasons.get(key) or reason
    return [Waiting(*key, count, reasons[key] is None, reasons[key])
            for key, count in sorted(counts.items())]


def check(session: Session, instance: FlowInstance,
          new_version: catalog.DefinitionVersion) -> Message | None:
    """Say why the instance cannot move to ``new_version``, or None when it can."""
    if new_version.definition_id != instance.version.definition_id:
        return Message(N_("Version %(number)s belongs to another flow"),
                       {"number": new_version.number})
    if new_version.status != "published":
        return Message(N_("Instances can only move to the published version"))
    if instance.version_id == new_version.id:
        return Message(N_("The instance already runs on version %(number)s"),
                       {"number": new_version.number})
    return _refusal(instance, new_version.content["spec"])


def migrate(session: Session, instance: FlowInstance, new_version: catalog.DefinitionVersion,
            user: User) -> None:
    """Move one instance to ``new_version``, keeping its data and open tasks; record it.

    Raises MigrationRefused with the reason when the move is not safe.
    """
    session.refresh(instance, with_for_update=True)
    reason = check(session, instance, new_version)
    if reason is not None:
        raise MigrationRefused(reason.msgid, **reason.params)
    with runtime.one_writer():
        workflow = _moved(instance, new_version.content["spec"])
        if isinstance(workflow, Message):
            raise MigrationRefused(workflow.msgid, **workflow.params)
        before = instance.version.number
        instance.version = new_version
        _update_open_tasks(instance, new_version)
        runtime.save(session, instance, workflow)
        instance.updated_at = utcnow()
        audit.record(session, "instance.migrated", "instance", instance.id, user.id,
                     flow=new_version.definition.key, version=before, to=new_version.number,
                     by=user.display_name)
        session.flush()


def waiting_at(session: Session, flow_key: str, version: int,
               step_id: str) -> list[FlowInstance]:
    """Return the running instances of a flow's version that wait at one step (a Waiting group)."""
    return [instance for instance in _instances(session, flow_key)
            if instance.version.number == version
            and step_id in (step for step, _ in _waiting_steps(instance))]


def _instances(session: Session, flow_key: str) -> list[FlowInstance]:
    """Return the running and suspended instances of a flow, oldest first."""
    query = (select(FlowInstance).join(catalog.DefinitionVersion)
             .join(catalog.Definition)
             .where(catalog.Definition.kind == "flow", catalog.Definition.key == flow_key,
                    FlowInstance.status.in_(ACTIVE))
             .order_by(FlowInstance.id))
    return list(session.scalars(query))


def _waiting_steps(instance: FlowInstance) -> list[tuple[str, str]]:
    """Return (step id, name) of where an instance waits: its open tasks, else engine tasks."""
    steps = [(task.step_id, task.step_name) for task in instance.tasks if task.state == "open"]
    if steps:
        return list(dict.fromkeys(steps))
    workflow = runtime.engine.restore(instance.version.content["spec"], instance.state)
    return list(dict.fromkeys(
        (task.task_spec.bpmn_id, task.task_spec.bpmn_name or task.task_spec.bpmn_id)
        for task in workflow.get_tasks(state=WAITING_STATES) if task.task_spec.bpmn_id))


def _refusal(instance: FlowInstance, new_spec: str) -> Message | None:
    """Return why the instance cannot move onto the new spec, or None."""
    if instance.status not in ACTIVE:
        return Message(N_("Only running or suspended instances can move to a new version"))
    moved = _moved(instance, new_spec)
    return moved if isinstance(moved, Message) else None


def _specs(spec_json: str) -> tuple[Any, dict[str, Any]]:
    """Deserialize a version's stored spec and subprocess specs."""
    dct = json.loads(spec_json)
    return (SERIALIZER.from_dict(dct["spec"]),
            {name: SERIALIZER.from_dict(sub) for name, sub in dct["subprocess_specs"].items()})


def _moved(instance: FlowInstance, new_spec: str) -> BpmnWorkflow | Message:
    """Rebuild the instance's workflow on the new spec, or say why that is not safe."""
    engine = runtime.engine
    workflow = engine.restore(instance.version.content["spec"], instance.state)
    spec, subprocesses = _specs(new_spec)
    reason = _unsafe_waits(workflow, spec)
    if reason is not None:
        return reason
    diff, _ = diff_workflow(SERIALIZER.registry, workflow, spec, subprocesses)
    gone = sorted({task.task_spec.bpmn_name or task.task_spec.name for task in diff.removed
                   if not task.state & PREDICTED})
    if gone:
        return Message(N_("Steps this instance went through are not in the new version: "
                          "%(steps)s"), {"steps": ", ".join(gone)})
    before = sorted((str(t.id), t.task_spec.name)
                    for t in workflow.get_tasks(state=TaskState.READY, manual=True))
    migrate_workflow(diff, workflow, spec)
    workflow.subprocess_specs = subprocesses
    try:
        moved = engine.restore(new_spec, engine.dump(workflow))
    except Exception as error:  # the engine's own errors; the instance stays as it was
        return Message(N_("The engine could not rebuild the instance on the new version: "
                          "%(error)s"), {"error": str(error).splitlines()[0][:200]})
    after = sorted((str(t.id), t.task_spec.name)
                   for t in moved.get_tasks(state=TaskState.READY, manual=True))
    if after != before:
        return Message(N_("On the new version the instance would not wait at the same steps"))
    return moved


def _unsafe_waits(workflow: BpmnWorkflow, spec: Any) -> Message | None:
    """Refuse waits the move cannot carry: subprocesses, timers, messages, loops, services."""
    if workflow.subprocesses:
        return Message(N_("The instance waits inside a subprocess or a called process"))
    for task in workflow.get_tasks(state=WAITING_STATES):
        step = task.task_spec
        name = step.bpmn_name or step.bpmn_id or step.name
        if isinstance(step, LoopTask) or isinstance(task.parent.task_spec, LoopTask):
            return Message(N_("The instance waits at the multi-instance step %(step)s"),
                           {"step": name})
        if task.state != TaskState.READY or not step.manual:
            return _why_not(step, name)
        new = spec.task_specs.get(step.name)
        if new is None:
            return Message(N_("The step %(step)s where the instance waits is not in the new "
                              "version"), {"step": name})
        if type(new) is not type(step):
            return Message(N_("The step %(step)s where the instance waits has another type in "
                              "the new version"), {"step": name})
    return None


def _why_not(step: Any, name: str) -> Message:
    """Say why a wait that is not a ready human task cannot be carried to a new version."""
    if isinstance(step, Join):
        return Message(N_("A parallel branch has finished and waits at %(step)s for the "
                          "others; moving it could lose that branch"), {"step": name})
    if getattr(step, "event_definition", None) is not None:
        return Message(N_("The instance waits at %(step)s for a timer or a message, which "
                          "would start again on the new version"), {"step": name})
    if isinstance(step, ServiceTask):
        return Message(N_("The service step %(step)s is running; move the instance when it "
                          "has finished"), {"step": name})
    return Message(N_("The instance waits at %(step)s, which a move cannot carry"),
                   {"step": name})


def _update_open_tasks(instance: FlowInstance, version: catalog.DefinitionVersion) -> None:
    """Give the open task rows their step's name, title and form pin from the new version."""
    content = version.content
    steps = {step["id"]: step for step in content.get("steps", [])}
    for task in instance.tasks:
        step = steps.get(task.step_id)
        if task.state != "open" or step is None:
            continue
        props = step.get("properties") or {}
        name = step.get("name") or task.step_id
        task.step_name = name[:300]
        task.step_title = {"en": name, "zh-CN": props.get("name_zh") or name}
        task.form_key = props.get("form")
        task.form_version_id = content["forms"].get(props["form"]) if props.get("form") \
            else None
