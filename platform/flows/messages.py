"""Deliver BPMN messages to the instances waiting for them.

A message has a name, a payload (a JSON object, stored in the catching event's
``spiff:messageVariable``) and correlation values. It reaches every running
instance whose ``message_wait`` row has the same name and exactly the same
correlation values (compared as text). Messages come from outside (the web
API) or from another instance's throw or end event, through a work item the
worker runs (:func:`send`), never recursively inside the request that threw it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import audit, jobs
from andon.errors import AndonError, NotFound
from andon.flows import runtime, waits
from andon.flows.models import FlowInstance, MessageWait
from andon.i18n import N_

MAX_NAME = 200
SCALARS = (str, int, float, bool)


class InvalidMessage(AndonError):
    """A message's name, correlation or payload is not acceptable."""


def check(name: str, correlation: Any, payload: Any) -> None:
    """Refuse a message without a name, with nested correlation values or a non-object payload."""
    if not name or len(name) > MAX_NAME:
        raise InvalidMessage(N_("A message needs a name of at most %(limit)s characters."),
                             limit=MAX_NAME)
    if not isinstance(correlation, Mapping) or not all(
            isinstance(value, SCALARS) for value in correlation.values()):
        raise InvalidMessage(N_("The correlation must be an object of names and plain values."))
    if not isinstance(payload, Mapping):
        raise InvalidMessage(N_("The payload must be an object."))


def waiting_instances(session: Session, name: str, correlation: Mapping[str, Any],
                      exclude: int | None = None) -> list[int]:
    """Return the ids of running instances waiting for this message with this correlation."""
    query = (select(MessageWait.instance_id).join(FlowInstance)
             .where(MessageWait.name == name,
                    MessageWait.match_key == waits.match_key(correlation),
                    FlowInstance.status == "running")
             .distinct().order_by(MessageWait.instance_id))
    if exclude is not None:
        query = query.where(MessageWait.instance_id != exclude)
    return list(session.scalars(query))


def deliver(session: Session, name: str, payload: Mapping[str, Any],
            correlation: Mapping[str, Any], actor_id: int | None = None,
            exclude: int | None = None) -> list[int]:
    """Hand a message to each waiting instance, run it on and save it; return their ids.

    Raises NotFound naming the message when no running instance waits for it.
    """
    check(name, correlation, payload)
    delivered = [instance_id for instance_id in
                 waiting_instances(session, name, correlation, exclude)
                 if _deliver_one(session, instance_id, name, payload, correlation, actor_id)]
    if not delivered:
        raise NotFound(N_("No running flow is waiting for the message %(name)s with this "
                          "correlation."), name=name)
    return delivered


def _deliver_one(session: Session, instance_id: int, name: str, payload: Mapping[str, Any],
                 correlation: Mapping[str, Any], actor_id: int | None) -> bool:
    """Catch the message in one instance under its row lock and version; tell if it caught."""
    instance = session.get(FlowInstance, instance_id)
    if instance is None:
        return False
    session.refresh(instance, with_for_update=True)
    with runtime.one_writer():
        workflow = runtime.engine.restore(instance.version.content["spec"], instance.state)
        runtime.engine.run(workflow)  # a timer due first (an event-based gateway) wins
        caught = waits.catch(workflow, name, payload)
        runtime.engine.run(workflow)
        if caught:
            audit.record(session, "message.received", "instance", instance.id, actor_id,
                         message=name, correlation=dict(correlation), payload=dict(payload))
        runtime.save(session, instance, workflow)
    return bool(caught)


def send(session: Session, item: jobs.WorkItem, now: datetime) -> None:
    """Deliver a message another instance threw (the worker's handler for ``message``).

    When nobody waits for it yet the item fails and is retried with backoff,
    which gives a receiver that is not there yet some minutes to arrive.
    """
    message = item.payload
    deliver(session, message["name"], message.get("payload") or {},
            message.get("correlation") or {}, exclude=message.get("from_instance"))
