"""Service steps run by the worker, and the incidents they leave when they fail.

A service step waits in the engine; saving the instance queues one ``service``
work item per waiting step, keyed by instance and task, so it runs once. The
worker evaluates the parameters and runs the connector outside any engine step
and before it locks the instance; then it locks the instance, stores the result
under the step's result variable and runs the instance on, under its version
column. A temporary failure is retried with backoff; after the last attempt, or
at once on a permanent failure, the instance fails with an incident naming the
step and the error, which ``actions.retry`` queues again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import audit, jobs
from andon.errors import AndonError
from andon.flows import connectors, runtime
from andon.flows.engine import TaskNotReady
from andon.flows.models import FlowInstance
from andon.i18n import N_, Message
from andon.jobs import Postpone, WorkItem

KIND = "service"
HOLD = timedelta(hours=1)


@dataclass(frozen=True)
class Incident:
    """A service step that failed for good: which, why, how often and when last."""

    item_id: int
    step_id: str
    title: dict[str, str]
    error: Message
    attempts: int
    last_try: datetime | None


def handler(allow_private: bool = False) -> jobs.Handler:
    """Return the worker's handler for service items; webhooks may reach private hosts if set."""
    def run(session: Session, item: WorkItem, now: datetime) -> None:
        perform(session, item, now, allow_private)
    return run


def perform(session: Session, item: WorkItem, now: datetime, allow_private: bool) -> None:
    """Run a waiting service step's connector, then complete the step and run on."""
    instance = session.get(FlowInstance, item.instance_id)
    if instance is None or not _may_run(instance, item, now):
        return
    spiff_id = item.payload["task"]
    try:
        workflow = runtime.engine.restore(instance.version.content["spec"], instance.state)
        step, data = runtime.engine.service_inputs(workflow, spiff_id)
    except TaskNotReady:
        return  # the step was withdrawn or finished meanwhile
    connector = connectors.connector(step.connector)
    values = connectors.evaluate(connector, step.params, data)
    savepoint = session.begin_nested()  # undone with what the connector wrote, if need be
    result = connectors.run(connector, connectors.Call(session, instance, step.step_id, spiff_id,
                                                       values, now, allow_private, item.key,
                                                       step.params, data))
    session.refresh(instance, with_for_update=True)
    if instance.status != "running":  # suspended or withdrawn while the connector ran
        savepoint.rollback()
        _may_run(instance, item, now)
        return
    with runtime.one_writer():
        workflow = runtime.engine.restore(instance.version.content["spec"], instance.state)
        runtime.engine.finish_service(workflow, spiff_id, result)
        audit.record(session, "service.completed", "instance", instance.id, None,
                     step=step.step_id, step_title=item.payload.get("title"),
                     connector=step.connector)
        runtime.save(session, instance, workflow)
    savepoint.commit()


def _may_run(instance: FlowInstance, item: WorkItem, now: datetime) -> bool:
    """Tell whether the instance runs; hold the item (not an attempt) while it cannot."""
    if instance.status in ("suspended", "failed"):
        item.attempts = max(0, item.attempts - 1)
        raise Postpone(now + HOLD)
    return instance.status == "running"


def failed(session: Session, item: WorkItem, error: BaseException, now: datetime) -> None:
    """Note a failed attempt on the item; when it gave up, fail the instance with an incident."""
    message = error.message if isinstance(error, AndonError) else Message(
        N_("Unexpected error: %(error)s"), {"error": f"{type(error).__name__}: {error}"[:500]})
    item.payload = {**item.payload, "error": {"msgid": message.msgid,
                                              "params": dict(message.params)},
                    "last_try": now.isoformat()}
    instance = session.get(FlowInstance, item.instance_id)
    if item.state != "failed" or instance is None:
        return
    session.refresh(instance, with_for_update=True)
    audit.record(session, "service.failed", "instance", instance.id, None,
                 step=item.payload.get("step"), step_title=item.payload.get("title"),
                 error=message.render(), attempts=item.attempts,
                 message={"msgid": message.msgid, "params": dict(message.params)})
    if instance.status == "running":
        instance.status, instance.wake_at = "failed", None
    session.flush()


def incidents(session: Session, instance: FlowInstance) -> list[Incident]:
    """Return the failed instance's service steps that failed for good, oldest first."""
    if instance.status != "failed":
        return []  # withdrawn meanwhile, or retried
    items = session.scalars(select(WorkItem).where(
        WorkItem.instance_id == instance.id, WorkItem.kind == KIND, WorkItem.state == "failed")
        .order_by(WorkItem.id))
    return [_incident(item) for item in items]


def _incident(item: WorkItem) -> Incident:
    """Describe one failed item."""
    error: dict[str, Any] = item.payload.get("error") or {}
    last = item.payload.get("last_try")
    return Incident(item.id, item.payload.get("step", ""), item.payload.get("title") or {},
                    Message(error.get("msgid") or (item.last_error or ""),
                            error.get("params") or {}),
                    item.attempts, datetime.fromisoformat(last) if last else None)


def requeue(session: Session, instance: FlowInstance, now: datetime) -> list[str]:
    """Queue the instance's failed and held service items to run now; return their steps."""
    items = list(session.scalars(select(WorkItem).where(
        WorkItem.instance_id == instance.id, WorkItem.kind == KIND,
        WorkItem.state.in_(("failed", "pending")))))
    for item in items:
        item.state, item.due_at, item.attempts = "pending", now, 0
        item.lease_until = item.lease_owner = None
    session.flush()
    return [str(item.payload.get("step", "")) for item in items]
