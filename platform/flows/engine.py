"""Run BPMN flow instances with SpiffWorkflow and a safe script engine.

The engine knows no web framework and no database: it turns a stored spec
into a workflow, runs it until a person must act, and turns its state into
JSON and back. The spec is stored once per definition version; the state of
an instance is stored without it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask as SpiffServiceTask
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from andon import expressions
from andon.errors import Conflict
from andon.flows import timers
from andon.i18n import N_

SPEC_KEYS = ("spec", "subprocess_specs")


class TaskNotReady(Conflict):
    """The task does not exist or is not waiting for a person."""


@dataclass(frozen=True)
class ReadyTask:
    """A human task waiting for someone to complete it."""

    id: str
    step_id: str
    step_name: str
    lane: str | None
    kind: str
    properties: dict[str, str] = field(default_factory=dict)
    #: the task's own data, e.g. the item a multi-instance task loops over
    data: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


class ExpressionEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluate conditions and run scripts with andon.expressions, never eval/exec."""

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        """Evaluate an expression over task data (and data objects)."""
        return expressions.evaluate(expression, {**(external_context or {}), **context})

    def execute(self, script: str, context: dict[str, Any],
                external_context: Mapping[str, Any] | None = None) -> bool:
        """Run an assignments-only script and merge its results into task data."""
        context.update(expressions.run_assignments(script, {**(external_context or {}),
                                                            **context}))
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        """Refuse service calls: service tasks wait for the worker's connectors instead."""
        raise expressions.ExpressionError(N_("Service calls are not supported"))


class SafeScriptEngine(PythonScriptEngine):
    """A script engine that lets ExpressionError through, tagged with the step id."""

    def __init__(self) -> None:
        super().__init__(environment=ExpressionEnvironment())

    def validate(self, expression: str) -> None:
        """Check an expression without evaluating it; a syntax error is Python's, as DMN expects."""
        try:
            expressions.check(expression)
        except expressions.ExpressionError as err:
            if err.message.msgid.startswith("Syntax error"):
                raise SyntaxError(str(err)) from None
            raise

    def evaluate(self, task: Task, expression: str,
                 external_context: Mapping[str, Any] | None = None) -> Any:
        """Evaluate ``expression`` over the data of ``task``."""
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except expressions.ExpressionError as err:
            raise _tagged(err, task) from None

    def execute(self, task: Task, script: str,
                external_context: Mapping[str, Any] | None = None) -> bool:
        """Run ``script`` over the data of ``task``."""
        try:
            return bool(self.environment.execute(script, task.data, external_context))
        except expressions.ExpressionError as err:
            raise _tagged(err, task) from None


class ServiceTask(SpiffServiceTask):  # type: ignore[misc]
    """A service task that waits for the worker to run its connector; it never calls out.

    It keeps Spiff's class name, so stored specs name ``ServiceTask``; the
    serializer below restores this class in place of Spiff's.
    """

    def _execute(self, task: Task) -> None:
        """Wait (STARTED) until the worker finishes the task with the connector's result."""
        return None


@dataclass(frozen=True)
class WaitingService:
    """A service step waiting for the worker: its connector and parameter expressions."""

    id: str
    step_id: str
    step_name: str
    connector: str
    result_variable: str
    params: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)


def _tagged(err: expressions.ExpressionError, task: Task) -> expressions.ExpressionError:
    """Record on ``err`` which step raised it."""
    err.step = task.task_spec.bpmn_id  # type: ignore[attr-defined]
    err.add_note(f"in step {task.task_spec.bpmn_id}")
    return err


SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(
    {**timers.SERIALIZER_CONFIG, ServiceTask: ServiceTaskConverter}))


def spec_to_json(spec: Any, subprocess_specs: Mapping[str, Any]) -> str:
    """Serialize a process spec and its subprocess specs, to store once per version."""
    return json.dumps({
        SERIALIZER.VERSION_KEY: SERIALIZER.VERSION,
        "spec": SERIALIZER.to_dict(spec),
        "subprocess_specs": {name: SERIALIZER.to_dict(sub)
                             for name, sub in subprocess_specs.items()},
    })


def _step(spec: TaskSpec) -> tuple[str, str, str | None, str, dict[str, str]]:
    """Return id, name, lane, kind (the BPMN tag, e.g. ``userTask``) and properties."""
    extensions = getattr(spec, "extensions", None) or {}
    kind = type(spec).__name__
    return (spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, spec.lane, kind[0].lower() + kind[1:],
            dict(extensions.get("properties", {})))


def _service(task: Task) -> WaitingService:
    """Describe a waiting service task."""
    spec = task.task_spec
    step_id, name, _, _, props = _step(spec)
    params = {key: str(param.get("value", "")) for key, param in spec.operation_params.items()}
    return WaitingService(str(task.id), step_id, name, spec.operation_name, spec.result_variable,
                          params, props)


def gateway_timers(workflow: BpmnWorkflow) -> list[datetime | None]:
    """Return the due times of timer branches of waiting event-based gateways.

    SpiffWorkflow reports a waiting gateway without a time: its timer branch
    keeps the due time in the gateway task's data.
    """
    return [timers.due(definition.details(task).value)
            for task in workflow.event_manager.tasks.values()
            if isinstance(task.task_spec.event_definition, MultipleEventDefinition)
            for definition in task.task_spec.event_definition.event_definitions
            if type(definition).__name__ in timers.EVENT_TYPES]


def detach_start_timer(spec: Any) -> str | None:
    """Make a process's timer start event a plain start; return its timer expression.

    Andon starts scheduled instances itself (see :mod:`andon.flows.schedules`),
    so the running instance must not wait for the cycle again.
    """
    for start in spec.start.outputs:
        definition = getattr(start, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            start.event_definition = NoneEventDefinition()
            return str(definition.expression)
    return None


def _item(task: Task) -> dict[str, Any]:
    """Return the item a multi-instance task loops over, by its input item name; else {}."""
    loop = task.parent.task_spec if task.parent is not None else None
    name = getattr(getattr(loop, "input_item", None), "bpmn_id", None)
    return {name: copy.deepcopy(task.data[name])} if name and name in task.data else {}


class Engine:
    """Start, run, save and restore flow instances."""

    def __init__(self, serializer: BpmnWorkflowSerializer = SERIALIZER) -> None:
        self.serializer = serializer
        self.script_engine = SafeScriptEngine()

    def start(self, spec_json: str) -> BpmnWorkflow:
        """Create a new instance of a stored spec and run it to the first human task."""
        dct = json.loads(spec_json)
        spec = self.serializer.from_dict(dct["spec"])
        subprocesses = {name: self.serializer.from_dict(sub)
                        for name, sub in dct.get("subprocess_specs", {}).items()}
        workflow = BpmnWorkflow(spec, subprocesses, script_engine=self.script_engine)
        self.run(workflow)
        return workflow

    def restore(self, spec_json: str, state_json: str) -> BpmnWorkflow:
        """Rebuild an instance from its version's spec and its saved state."""
        dct = json.loads(state_json)
        dct.update(json.loads(spec_json))
        self.serializer.migrate(dct)
        workflow = self.serializer.from_dict(dct)
        workflow.script_engine = self.script_engine
        return workflow

    def dump(self, workflow: BpmnWorkflow) -> str:
        """Return the instance state as JSON, without the spec."""
        dct = json.loads(self.serializer.serialize_json(workflow))
        for key in SPEC_KEYS:
            dct.pop(key, None)
        return json.dumps(dct)

    def run(self, workflow: BpmnWorkflow) -> None:
        """Fire due timers and run engine steps until a person must act."""
        workflow.refresh_timers()
        workflow.do_engine_steps()

    def next_timer(self, workflow: BpmnWorkflow) -> datetime | None:
        """Return when the earliest pending timer (boundary, catch or cycle) is due, in UTC."""
        due = [timers.due(event.value) for event in workflow.waiting_events()
               if event.event_type in timers.EVENT_TYPES]
        return min(filter(None, due + gateway_timers(workflow)), default=None)

    def ready_tasks(self, workflow: BpmnWorkflow) -> list[ReadyTask]:
        """List the human tasks waiting to be completed."""
        return [ReadyTask(str(task.id), *_step(task.task_spec), data=_item(task))
                for task in workflow.get_tasks(state=TaskState.READY, manual=True)]

    def waiting_services(self, workflow: BpmnWorkflow) -> list[WaitingService]:
        """List the service steps waiting for the worker to run their connector."""
        return [_service(task) for task in workflow.get_tasks(state=TaskState.STARTED)
                if isinstance(task.task_spec, ServiceTask)]

    def service_inputs(self, workflow: BpmnWorkflow,
                       task_id: str) -> tuple[WaitingService, dict[str, Any]]:
        """Return a waiting service step and a copy of its data, or raise TaskNotReady."""
        task = self._waiting_service(workflow, task_id)
        return _service(task), copy.deepcopy(dict(task.data))

    def finish_service(self, workflow: BpmnWorkflow, task_id: str, result: Any) -> None:
        """Store a connector's result under the step's result variable, complete it, run on."""
        task = self._waiting_service(workflow, task_id)
        task.data[task.task_spec.result_variable] = copy.deepcopy(result)
        task.complete()
        self.run(workflow)

    def _waiting_service(self, workflow: BpmnWorkflow, task_id: str) -> Task:
        """Return the waiting service task ``task_id`` or raise TaskNotReady."""
        try:
            task = workflow.get_task_from_id(UUID(task_id))
        except (ValueError, TaskNotFoundException):
            task = None
        if task is None or task.state != TaskState.STARTED or not isinstance(task.task_spec,
                                                                              ServiceTask):
            raise TaskNotReady(N_("Task %(task)s is not waiting to be completed"), task=task_id)
        return task

    def reached_ends(self, workflow: BpmnWorkflow) -> list[ReadyTask]:
        """List the main process's end events the instance has reached, last reached last."""
        done = sorted(workflow.get_tasks(state=TaskState.COMPLETED),
                      key=lambda task: task.last_state_change)
        return [ReadyTask(str(task.id), *_step(task.task_spec)) for task in done
                if task.workflow is workflow and _step(task.task_spec)[3] == "endEvent"
                and task.task_spec.bpmn_id]

    def complete(self, workflow: BpmnWorkflow, task_id: str, data: Mapping[str, Any]) -> None:
        """Merge ``data`` into a ready human task, complete it and run on."""
        task = self._ready_task(workflow, task_id)
        task.data.update(copy.deepcopy(dict(data)))
        task.run()
        self.run(workflow)

    def _ready_task(self, workflow: BpmnWorkflow, task_id: str) -> Task:
        """Return the ready human task ``task_id`` or raise TaskNotReady."""
        try:
            task = workflow.get_task_from_id(UUID(task_id))
        except (ValueError, TaskNotFoundException):
            task = None
        ready = task is not None and task.state == TaskState.READY and task.task_spec.manual
        if not ready:
            raise TaskNotReady(N_("Task %(task)s is not waiting to be completed"), task=task_id)
        return task

    def completed_before(self, workflow: BpmnWorkflow, task_id: str) -> list[str]:
        """Return the ids of the completed human tasks on the path to a task, latest first."""
        task = self._ready_task(workflow, task_id)
        path = []
        while task.parent is not None:
            task = task.parent
            if task.task_spec.manual and task.state == TaskState.COMPLETED:
                path.append(str(task.id))
        return path

    def reset_to(self, workflow: BpmnWorkflow, task_id: str) -> None:
        """Go back to a completed human task: it is ready again, what followed is undone."""
        workflow.reset_from_task_id(UUID(task_id))
        self.run(workflow)

    def is_done(self, workflow: BpmnWorkflow) -> bool:
        """Tell whether the instance has finished."""
        return bool(workflow.is_completed())

    def data(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        """Return the instance data: the final data when done, else the open tasks' data."""
        if workflow.is_completed():
            return copy.deepcopy(dict(workflow.data))
        merged: dict[str, Any] = {}
        if workflow.last_task is not None:
            merged.update(workflow.last_task.data)
        for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
            merged.update(task.data)
        return copy.deepcopy(merged)
