"""What a running instance waits for and what it throws: BPMN messages.

A message catch event (intermediate, boundary, or a branch of an event-based
gateway) names the message it waits for; its ``correlation`` property says
which values a message must carry to reach this instance, each an expression
over the instance data: ``project_id=project, customer=customer_code``. A
message throw or end event computes its correlation the same way, over the
data of the instance throwing it.

After every engine run :func:`after_run` rewrites the instance's rows in
``message_wait`` (so delivery queries one indexed table) and queues each
message the instance threw as a work item keyed by the throwing step, which
the worker delivers once to the other instances (see :mod:`andon.flows.messages`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from andon import audit, expressions, jobs
from andon.database import utcnow
from andon.flows.models import FlowInstance, MessageWait
from andon.i18n import N_

PAIR = re.compile(r"^\s*(?P<name>[A-Za-z_][\w.-]{0,63})\s*=\s*(?P<expression>.+?)\s*$")
KIND = "message"


@dataclass(frozen=True)
class Waiting:
    """A message one step of an instance waits for, with the correlation it expects."""

    name: str
    step_id: str
    correlation: dict[str, str]


@dataclass(frozen=True)
class Thrown:
    """A message a completed throw or end event sent."""

    task_id: str
    step_id: str
    name: str
    payload: Any
    correlation: dict[str, str]


def parse_correlation(text: str | None) -> list[tuple[str, str]]:
    """Split ``name=expression, …`` into pairs; raise ValueError naming a bad part."""
    pairs = []
    for part in filter(str.strip, (text or "").split(",")):
        match = PAIR.match(part)
        if match is None:
            raise ValueError(f"correlation part {part.strip()!r} is not name=expression")
        expressions.check(match["expression"])
        pairs.append((match["name"], match["expression"]))
    return pairs


def correlate(text: str | None, data: Mapping[str, Any]) -> dict[str, str]:
    """Evaluate a correlation property over instance data; values compare as text."""
    return {name: _text(expressions.evaluate(expression, data))
            for name, expression in parse_correlation(text)}


def match_key(correlation: Mapping[str, Any]) -> str:
    """Return the text that equal correlations share, whatever the order or value type."""
    key = json.dumps({str(k): _text(v) for k, v in correlation.items()}, sort_keys=True,
                     ensure_ascii=False)
    return key if len(key) <= 400 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _text(value: Any) -> str:
    """Return a correlation value as text (``3`` and ``"3"`` match)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _properties(spec: TaskSpec) -> dict[str, str]:
    """Return a task spec's spiff:properties."""
    return dict((getattr(spec, "extensions", None) or {}).get("properties", {}))


def _alternatives(spec: TaskSpec, definition: Any) -> Iterator[tuple[TaskSpec, Any]]:
    """Yield (step, event definition) for a waiting task; a gateway waits for each branch."""
    if isinstance(definition, MultipleEventDefinition):
        yield from zip(spec.outputs, definition.event_definitions, strict=False)
    else:
        yield spec, definition


def waiting(workflow: BpmnWorkflow) -> list[Waiting]:
    """List the messages the instance waits for, each with its correlation values."""
    found = []
    for task in workflow.event_manager.tasks.values():
        for step, definition in _alternatives(task.task_spec, task.task_spec.event_definition):
            if isinstance(definition, MessageEventDefinition):
                found.append(Waiting(definition.name, step.bpmn_id, _expected(step, task.data)))
    return found


def _expected(step: TaskSpec, data: Mapping[str, Any]) -> dict[str, str]:
    """Evaluate a catching step's correlation, naming the step if the data lacks a value."""
    try:
        return correlate(_properties(step).get("correlation"), data)
    except expressions.ExpressionError as error:
        raise expressions.ExpressionError(
            N_("Step %(step)s cannot wait for its message: its correlation failed: %(error)s"),
            step=step.bpmn_id, error=str(error)) from None


def catch(workflow: BpmnWorkflow, name: str, payload: Mapping[str, Any]) -> int:
    """Hand a message to every step of the instance waiting for it; return how many caught it."""
    for task in list(workflow.event_manager.tasks.values()):
        for _, definition in _alternatives(task.task_spec, task.task_spec.event_definition):
            if isinstance(definition, MessageEventDefinition) and definition.name == name:
                event = BpmnEvent(definition, payload=copy.deepcopy(dict(payload)),
                                  correlations=dict(task.workflow.correlations))
                return int(workflow.event_manager.catch(event, internal=False))
    return 0


def _throws(workflow: BpmnWorkflow) -> bool:
    """Tell whether any step of the instance's specs throws a message."""
    specs = [workflow.spec, *workflow.subprocess_specs.values()]
    return any(isinstance(step, ThrowingEvent)
               and isinstance(step.event_definition, MessageEventDefinition)
               for spec in specs for step in spec.task_specs.values())


def throwing_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """Return the instance's completed message throw and end events."""
    if not _throws(workflow):
        return []
    return [task for task in workflow.get_tasks(state=TaskState.COMPLETED)
            if isinstance(task.task_spec, ThrowingEvent)
            and isinstance(task.task_spec.event_definition, MessageEventDefinition)]


def thrown(workflow: BpmnWorkflow, task: Any) -> Thrown:
    """Describe the message a completed throw or end event sent: payload and correlation."""
    step = task.task_spec
    expression = getattr(step.event_definition, "expression", None)
    payload = workflow.script_engine.evaluate(task, expression) if expression else {}
    payload = payload if isinstance(payload, dict) else {"value": payload}
    return Thrown(str(task.id), step.bpmn_id, step.event_definition.name,
                  json.loads(json.dumps(payload, default=str)),
                  correlate(_properties(step).get("correlation"), task.data))


def after_run(session: Session, instance: FlowInstance, workflow: BpmnWorkflow) -> None:
    """Rewrite what the instance waits for and queue the messages it threw, once each."""
    workflow.get_events()  # Spiff's list of uncaught events: Andon delivers through work items
    session.execute(delete(MessageWait).where(MessageWait.instance_id == instance.id))
    for wait in waiting(workflow):
        session.add(MessageWait(instance_id=instance.id, name=wait.name,
                                step_id=wait.step_id, correlation=wait.correlation,
                                match_key=match_key(wait.correlation)))
    _queue(session, instance, workflow)


def _queue(session: Session, instance: FlowInstance, workflow: BpmnWorkflow) -> None:
    """Schedule delivery of each newly thrown message, keyed by the step that threw it."""
    tasks = throwing_tasks(workflow)
    if not tasks:
        return
    queued = set(session.scalars(select(jobs.WorkItem.key).where(
        jobs.WorkItem.instance_id == instance.id, jobs.WorkItem.kind == KIND)))
    for task in tasks:
        key = f"{KIND}:{instance.id}:{task.id}"
        if key in queued:
            continue
        message = thrown(workflow, task)
        jobs.schedule(session, KIND, key, utcnow(),
                      {"name": message.name, "payload": message.payload,
                       "correlation": message.correlation, "from_instance": instance.id},
                      instance_id=instance.id)
        audit.record(session, "message.sent", "instance", instance.id, None,
                     message=message.name, correlation=message.correlation,
                     step=message.step_id)

