"""Deadlines on human steps: due times in working time, reminders, escalation chains.

A step's timing lives in its ``spiff:properties`` (parsed when the flow loads,
so mistakes name the element):

- ``deadline``: the time the step may take, ISO 8601 (``P2D``, ``PT4H``);
- ``deadline_at`` (instead of ``deadline``): an expression over the instance
  data giving the due date or date-time, e.g. ``date(acceptance_date) -
  duration("P2D")``. A date means the end of that day: in working time the end
  of its last working period, or of the last working day before it when it is a
  day off; in calendar time 23:59:59 in the calendar's time zone. ``today()``
  reads that zone too. If the expression fails when the task opens (a field is
  empty, say) the task opens without a due time and the timeline says why;
- ``deadline_time``: ``working`` (default, in the flow's business calendar) or
  ``calendar`` (on the clock);
- ``remind_before``: remind the owners this long before the due time, counted in
  the deadline's own time (``PT4H, PT1H``); reminders before the task began are dropped;
- ``escalation``: levels after the due time, each with its delay, e.g.
  ``PT0S notify manager:assignee; P1D reassign manager:assignee;
  P2D complete decision=reject``.

Escalation actions: ``notify <rule>`` tells the people a rule names;
``reassign <rule>`` gives the task to them; ``complete k=v, …`` completes it
with that data (e.g. sends it back); ``start <flow key>`` starts that flow for
the late task, which stays open (see ``follow_ups``). Reminders and levels are work items keyed
by task and level, so each fires once.

While an instance is suspended its items hold (see ``escalations``); on resume
:func:`shift` gives each open task the suspended time back (the working time
that passed, in working time) and moves its pending items, not the done ones.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import audit, catalog, expressions, jobs, temporal
from andon.errors import AndonError
from andon.flows import owners
from andon.flows.calendars import SEARCH_DAYS, Calendar, Duration, load_calendar, parse_duration
from andon.flows.models import Task
from andon.i18n import N_, Message, in_every_locale

ACTIONS = ("notify", "reassign", "complete", "start")
FLOW_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
DEFAULT_CALENDAR = Calendar(key="default", name={"en": "Monday to Friday", "zh-CN": "周一至周五"},
                            timezone="Asia/Shanghai",
                            hours=((time(9), time(12)), (time(13), time(18))))


@dataclass(frozen=True)
class Level:
    """One escalation level: after ``delay`` past the due time, do ``action``."""

    delay: Duration
    action: str
    target: str


@dataclass(frozen=True)
class Timing:
    """A step's deadline, reminders and escalation chain."""

    deadline: Duration | None = None
    working: bool = True
    reminders: tuple[Duration, ...] = ()
    escalation: tuple[Level, ...] = ()
    deadline_at: str | None = None


def parse_timing(props: dict[str, str]) -> Timing:
    """Read a step's timing properties; raise ValueError saying what is wrong."""
    kind = props.get("deadline_time", "working").strip()
    if kind not in ("working", "calendar"):
        raise ValueError(f"deadline_time must be working or calendar, not {kind!r}")
    deadline = parse_duration(props["deadline"]) if props.get("deadline") else None
    deadline_at = _deadline_at(props.get("deadline_at"))
    if deadline is not None and deadline_at is not None:
        raise ValueError("give either deadline (a duration) or deadline_at (an expression), "
                         "not both")
    reminders = tuple(parse_duration(part) for part in _parts(props.get("remind_before"), ","))
    levels = tuple(_level(part) for part in _parts(props.get("escalation"), ";"))
    delays = [(level.delay.days, level.delay.seconds) for level in levels]
    if delays != sorted(delays):
        raise ValueError("escalation levels must come in the order of their delays")
    if (reminders or levels) and deadline is None and deadline_at is None:
        raise ValueError("reminders and escalation need a deadline or deadline_at")
    return Timing(deadline, kind == "working", reminders, levels, deadline_at)


def _deadline_at(text: str | None) -> str | None:
    """Check a deadline_at expression's syntax; return it, or None when there is none."""
    if not (text or "").strip():
        return None
    assert text is not None
    try:
        expressions.check(text.strip())
    except expressions.ExpressionError as err:
        raise ValueError(f"deadline_at: {err}") from None
    return text.strip()


def _parts(text: str | None, separator: str) -> list[str]:
    """Split a property into its non-empty parts."""
    return [part.strip() for part in (text or "").split(separator) if part.strip()]


def _level(text: str) -> Level:
    """Parse one escalation level: '<delay> <action> <target>'."""
    words = text.split(None, 2)
    if len(words) < 3 or words[1] not in ACTIONS:
        raise ValueError(f"escalation level {text!r} is not '<delay> notify|reassign|complete|"
                         "start <who, data or flow>'")
    delay = parse_duration(words[0]) if words[0] not in ("0", "PT0S") else Duration(0, 0)
    if words[1] == "complete":
        completion_data(words[2])
    elif words[1] == "start":
        if not FLOW_KEY.match(words[2]):
            raise ValueError(f"start needs the key of a flow, not {words[2]!r}")
    else:
        rule = owners.parse(words[2], None)
        if words[1] == "reassign" and rule.kind in ("group", "role", "orgunit"):
            raise ValueError(f"reassign needs one person (user:, field:, manager:, starter), "
                             f"not {words[2]!r}")
    return Level(delay, words[1], words[2])


def completion_data(text: str) -> dict[str, str]:
    """Parse 'field=value, field=value' into the data an automatic completion submits."""
    pairs = [part.split("=", 1) for part in _parts(text, ",")]
    if not pairs or any(len(pair) != 2 or not pair[0].strip() for pair in pairs):
        raise ValueError(f"complete needs field=value pairs, not {text!r}")
    return {name.strip(): value.strip() for name, value in pairs}


def calendar_of(session: Session, flow: catalog.DefinitionVersion) -> Calendar:
    """Return the business calendar a flow version pinned, or the default one."""
    pinned = flow.content.get("calendar")
    version = session.get(catalog.DefinitionVersion, pinned) if pinned else None
    return _calendar(version.compiled) if version else DEFAULT_CALENDAR


@lru_cache(maxsize=32)
def _calendar(compiled: str) -> Calendar:
    """Build a calendar from a stored version once; versions never change."""
    return load_calendar(json.loads(compiled), "calendar")


def plan(session: Session, task: Task, timing: Timing, calendar: Calendar,
         now: datetime) -> None:
    """Set a new task's due time and queue its reminders and escalation levels."""
    if timing.deadline is not None:
        task.due_at = calendar.add(now, timing.deadline, working=timing.working)
    elif timing.deadline_at is not None:
        task.due_at = _due_at(session, task, timing, calendar, now)
    if task.due_at is not None:
        queue(session, task, timing, calendar, now)


def _due_at(session: Session, task: Task, timing: Timing, calendar: Calendar,
            now: datetime) -> datetime | None:
    """Evaluate deadline_at over the instance data; on failure record why and return None."""
    assert timing.deadline_at is not None
    try:
        value = expressions.evaluate(timing.deadline_at, task.instance.data or {},
                                     zone=calendar.timezone)
        return due_of(value, calendar, timing.working)
    except (expressions.ExpressionError, ValueError, TypeError, OverflowError) as err:
        reason = in_every_locale(err.message) if isinstance(err, AndonError) else str(err)
        record(session, task, "task.deadline_unset", now, expression=timing.deadline_at,
               reason=reason)
        return None


def due_of(value: Any, calendar: Calendar, working: bool) -> datetime:
    """Turn what deadline_at gave into a UTC due time; a date means the end of that day."""
    if isinstance(value, str):
        text = value.strip()
        value = temporal.to_date(text) if len(text) == 10 else temporal.to_datetime(text)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if not isinstance(value, date):
        raise TypeError(f"deadline_at gave {type(value).__name__} {value!r}, not a date or "
                        "date-time")
    if not working:
        return datetime.combine(value, time(23, 59, 59), tzinfo=calendar.zone).astimezone(UTC)
    day = value
    for _ in range(SEARCH_DAYS):  # a day off means: done by the end of the working day before
        if calendar.is_working_day(day):
            return datetime.combine(day, calendar.hours[-1][1],
                                    tzinfo=calendar.zone).astimezone(UTC)
        day -= timedelta(days=1)
    raise ValueError(f"the calendar {calendar.key} has no working day near {value}")


def queue(session: Session, task: Task, timing: Timing, calendar: Calendar,
          now: datetime, moving: bool = False) -> None:
    """Queue a task's reminders and escalation levels for its due time.

    Items are keyed by task and level. ``moving`` plans again (after a
    suspension): pending items move to their new times, done and cancelled ones
    stay as they are, and a reminder that was never queued stays unqueued.
    """
    assert task.due_at is not None
    put = _move if moving else _schedule
    for index, before in enumerate(timing.reminders):
        at = reminder_time(calendar, task.due_at, before, timing.working)
        if at > now or moving:  # a reminder due before the task existed would only be noise
            put(session, task, "remind", f"remind:{task.id}:{index}", at, {"index": index})
    for level, step in enumerate(timing.escalation):
        at = calendar.add(task.due_at, step.delay, working=timing.working) \
            if step.delay.days or step.delay.seconds else task.due_at
        put(session, task, "escalate", f"escalate:{task.id}:{level}", at,
            {"level": level, "action": step.action, "target": step.target})


def _schedule(session: Session, task: Task, kind: str, key: str, at: datetime,
              payload: dict[str, Any]) -> None:
    """Schedule one item of a task."""
    jobs.schedule(session, kind, key, at, payload, instance_id=task.instance_id,
                  task_id=task.id)


def _move(session: Session, task: Task, kind: str, key: str, at: datetime,
          payload: dict[str, Any]) -> None:
    """Move one item of a task to ``at`` if it is still pending."""
    item = session.scalar(select(jobs.WorkItem).where(jobs.WorkItem.key == key))
    if item is not None and item.state == "pending":
        item.due_at = at


def shift(session: Session, task: Task, timing: Timing, calendar: Calendar,
          since: datetime, until: datetime) -> None:
    """Give an open task back the time its instance was suspended, and move its items.

    In working time the working time between ``since`` and ``until`` is added
    (a suspension over a weekend moves nothing); in calendar time the clock time.
    """
    if task.due_at is None or task.state != "open":
        return
    before = task.due_at
    if timing.working:
        lost = int(calendar.working_time_between(since, until).total_seconds())
        task.due_at = calendar.add(before, Duration(0, lost)) if lost > 0 else before
    else:
        task.due_at = before + (until - since)
    queue(session, task, timing, calendar, until, moving=True)  # also undoes the worker's holds
    if task.due_at != before:
        record(session, task, "task.deadline_moved", until, before=before.isoformat(),
               after=task.due_at.isoformat(), suspended_from=since.isoformat(),
               working=timing.working)


def reminder_time(calendar: Calendar, due: datetime, before: Duration,
                  working: bool) -> datetime:
    """Return the latest moment from which ``before`` (working) time still fits before ``due``."""
    clock_time = timedelta(days=before.days, seconds=before.seconds)
    if not working:
        return due - clock_time
    early = due - clock_time * 7 - timedelta(days=40)  # wide enough for weekends and holidays
    late = due
    while late - early > timedelta(seconds=1):  # calendar.add is monotonic in its start
        middle = early + (late - early) / 2
        if calendar.add(middle, before, working=True) <= due:
            early = middle
        else:
            late = middle
    whole = late.replace(microsecond=0)  # the boundary, to the second, if it still fits
    return whole if calendar.add(whole, before, working=True) <= due else early


def status(task: Task, now: datetime) -> str | None:
    """Say whether an open task is on track, at risk (last quarter of its time) or overdue."""
    if task.due_at is None or task.state != "open":
        return None
    if now >= task.due_at:
        return "overdue"
    at_risk_from = task.due_at - (task.due_at - task.created_at) / 4
    return "at_risk" if now >= at_risk_from else "on_track"


def reminder_message(task: Task) -> Message:
    """Return the reminder's text."""
    return Message(N_("Reminder: “%(step)s” of “%(title)s” is due soon"), _about(task))


def escalation_message(task: Task) -> Message:
    """Return the text that tells someone a task is overdue."""
    return Message(N_("Overdue: “%(step)s” of “%(title)s” is past its due time"), _about(task))


def _about(task: Task) -> dict[str, Any]:
    """Return the parameters messages about a task share."""
    return {"step": task.step_title, "title": task.instance.title}


def record(session: Session, task: Task, kind: str, now: datetime, **detail: Any) -> None:
    """Record a reminder or escalation on the instance's timeline."""
    audit.record(session, kind, "instance", task.instance_id, None, at=now, task=task.id,
                 step=task.step_id, step_title=task.step_title, **detail)
