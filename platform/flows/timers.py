"""BPMN timers that read Andon's clock instead of the machine's.

SpiffWorkflow 3.2 calls ``datetime.now(timezone.utc)`` inside its timer event
definitions and has no hook to replace it. These subclasses redo the three
time-reading methods with :func:`andon.clock.now`, so a frozen clock in tests
(and one clock for deadlines and timers in production) decides when a timer
fires. They keep Spiff's class names, so stored specs and states still name
``DurationTimerEventDefinition`` and friends; :data:`SERIALIZER_CONFIG` makes
the serializer restore these classes in place of Spiff's.

A literal date without a UTC offset is refused when the flow is deployed
(:func:`missing_offset`); one that comes from instance data when the timer
starts is read as UTC (Spiff would read it in the server's local time zone).
A timer expression may also give a date-time or duration of the expression
language (``datetime(window_opens, "Asia/Shanghai")``); it is stored as ISO text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.util import PendingBpmnEvent
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
from SpiffWorkflow.task import Task

from andon import clock, temporal

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
KINDS = ("timeDate", "timeDuration", "timeCycle")
EVENT_TYPES = frozenset({"TimeDateEventDefinition", "DurationTimerEventDefinition",
                         "CycleTimerEventDefinition"})


def _parse(text: str) -> datetime:
    """Parse an ISO 8601 date-time or week date as written, naive if it has no offset."""
    return datetime.fromisoformat(text.strip().upper())


def parse_date(text: str) -> datetime:
    """Parse an ISO 8601 date-time (or week date); naive means UTC."""
    moment = _parse(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def missing_offset(kind: str, text: str) -> str | None:
    """Return the date of a timeDate or timeCycle literal that has no UTC offset, if any."""
    parts = text.strip().split("/")
    if kind == "timeDate":
        written = text.strip()
    elif kind == "timeCycle" and len(parts) == 3:
        written = parts[1]
    else:
        return None
    return written if _parse(written).tzinfo is None else None


def as_text(value: Any) -> Any:
    """Return a timer expression's value as ISO text when it is a date, date-time or duration."""
    return temporal.to_json(value) if isinstance(value, temporal.TEMPORAL) else value


def after(duration: str, start: datetime) -> datetime:
    """Return ``start`` plus an ISO 8601 duration (months counted on the calendar)."""
    parsed = spiff_timer.TimerEventDefinition.parse_iso_duration(duration)
    return start + spiff_timer.TimerEventDefinition.get_timedelta_from_start(parsed, start)


def parse_cycle(text: str, now: datetime) -> tuple[int, datetime, timedelta]:
    """Parse ``R<n>/<duration>`` or ``R<n>/<start>/<duration>``: cycles, first time, period.

    ``R/PT1H`` (no count) repeats forever; a bare duration starts one period from now.
    """
    parts = text.upper().strip().split("/")
    if len(parts) not in (2, 3) or not parts[0].startswith("R"):
        raise ValueError(f"{text!r} is not a cycle like R3/PT1H")
    cycles = int(parts[0][1:]) if parts[0][1:] else -1
    if len(parts) == 3:
        first = parse_date(parts[1])
        return cycles, first, after(parts[2], first) - first
    first = after(parts[1], now)
    return cycles, first, first - now


def due(value: Any) -> datetime | None:
    """Turn the value a pending timer reports into an aware UTC due time."""
    if not isinstance(value, str) or value.upper().startswith("P"):
        return None
    return parse_date(value)


class TimeDateEventDefinition(spiff_timer.TimeDateEventDefinition):  # type: ignore[misc]
    """A timer at a date, fired by Andon's clock."""

    def has_fired(self, my_task: Task) -> bool:
        """Tell whether the date has passed, evaluating the expression once."""
        value = my_task._get_internal_data("event_value")
        if value is None:
            value = as_text(my_task.workflow.script_engine.evaluate(my_task, self.expression))
            my_task._set_internal_data(event_value=value)
        if parse_date(value) <= clock.now():
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class DurationTimerEventDefinition(spiff_timer.DurationTimerEventDefinition):  # type: ignore[misc]
    """A timer after a duration from when it started waiting, fired by Andon's clock."""

    def has_fired(self, my_task: Task) -> bool:
        """Tell whether the duration has passed, fixing the due time on first look."""
        value = my_task._get_internal_data("event_value")
        if value is None:
            expression = as_text(my_task.workflow.script_engine.evaluate(my_task, self.expression))
            value = after(expression, clock.now()).isoformat()
            my_task._set_internal_data(event_value=value)
        if parse_date(value) <= clock.now():
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class CycleTimerEventDefinition(spiff_timer.CycleTimerEventDefinition):  # type: ignore[misc]
    """A repeating timer, fired by Andon's clock; each due cycle starts one branch."""

    def cycle_complete(self, my_task: Task) -> bool:
        """Tell whether the next cycle is due, and count it off."""
        value = my_task._get_internal_data("event_value")
        if value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            cycles, first, period = parse_cycle(expression, clock.now())
            value = {"cycles": cycles, "next": first.isoformat(),
                     "duration": period.total_seconds()}
        ready = False
        if value["cycles"] != 0:
            upcoming = datetime.fromisoformat(value["next"])
            if upcoming <= clock.now():
                value["next"] = (upcoming + timedelta(seconds=value["duration"])).isoformat()
                value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=value)
        return ready

    def details(self, my_task: Task) -> PendingBpmnEvent:
        """Report the next due time while cycles remain."""
        value = my_task._get_internal_data("event_value")
        if isinstance(value, dict):
            value = value["next"] if value["cycles"] != 0 else None
        return PendingBpmnEvent(self.name, self.__class__.__name__, value)


SERIALIZER_CONFIG: dict[Any, Any] = {
    **DEFAULT_CONFIG,
    TimeDateEventDefinition: TimerConditionalEventDefinitionConverter,
    DurationTimerEventDefinition: TimerConditionalEventDefinitionConverter,
    CycleTimerEventDefinition: TimerConditionalEventDefinitionConverter,
}
