"""Deadlines on human steps: due times in working time, reminders, escalation chains.

A step's timing lives in its ``spiff:properties`` (parsed when the flow loads,
so mistakes name the element):

- ``deadline``: the time the step may take, ISO 8601 (``P2D``, ``PT4H``);
- ``deadline_time``: ``working`` (default, in the flow's business calendar) or
  ``calendar`` (on the clock);
- ``remind_before``: remind the owners this long before the due time, counted in
  the deadline's own time (``PT4H, PT1H``); reminders before the task began are dropped;
- ``escalation``: levels after the due time, each with its delay, e.g.
  ``PT0S notify manager:assignee; P1D reassign manager:assignee;
  P2D complete decision=reject``.

Escalation actions: ``notify <rule>`` tells the people a rule names;
``reassign <rule>`` gives the task to them; ``complete k=v, …`` completes it
with that data (e.g. sends it back). Reminders and levels are work items keyed
by task and level, so each fires once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from andon import audit, catalog, jobs
from andon.flows import owners
from andon.flows.calendars import Calendar, Duration, load_calendar, parse_duration
from andon.flows.models import Task
from andon.i18n import N_, Message

ACTIONS = ("notify", "reassign", "complete")
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


def parse_timing(props: dict[str, str]) -> Timing:
    """Read a step's timing properties; raise ValueError saying what is wrong."""
    kind = props.get("deadline_time", "working").strip()
    if kind not in ("working", "calendar"):
        raise ValueError(f"deadline_time must be working or calendar, not {kind!r}")
    deadline = parse_duration(props["deadline"]) if props.get("deadline") else None
    reminders = tuple(parse_duration(part) for part in _parts(props.get("remind_before"), ","))
    levels = tuple(_level(part) for part in _parts(props.get("escalation"), ";"))
    delays = [(level.delay.days, level.delay.seconds) for level in levels]
    if delays != sorted(delays):
        raise ValueError("escalation levels must come in the order of their delays")
    if (reminders or levels) and deadline is None:
        raise ValueError("reminders and escalation need a deadline")
    return Timing(deadline, kind == "working", reminders, levels)


def _parts(text: str | None, separator: str) -> list[str]:
    """Split a property into its non-empty parts."""
    return [part.strip() for part in (text or "").split(separator) if part.strip()]


def _level(text: str) -> Level:
    """Parse one escalation level: '<delay> <action> <target>'."""
    words = text.split(None, 2)
    if len(words) < 3 or words[1] not in ACTIONS:
        raise ValueError(f"escalation level {text!r} is not '<delay> notify|reassign|complete "
                         "<who or data>'")
    delay = parse_duration(words[0]) if words[0] not in ("0", "PT0S") else Duration(0, 0)
    if words[1] == "complete":
        completion_data(words[2])
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
    if timing.deadline is None:
        return
    task.due_at = calendar.add(now, timing.deadline, working=timing.working)
    for index, before in enumerate(timing.reminders):
        at = reminder_time(calendar, task.due_at, before, timing.working)
        if at > now:  # a reminder due before the task existed would only be noise
            jobs.schedule(session, "remind", f"remind:{task.id}:{index}", at, {"index": index},
                          instance_id=task.instance_id, task_id=task.id)
    for level, step in enumerate(timing.escalation):
        at = calendar.add(task.due_at, step.delay, working=timing.working) \
            if step.delay.days or step.delay.seconds else task.due_at
        jobs.schedule(session, "escalate", f"escalate:{task.id}:{level}", at,
                      {"level": level, "action": step.action, "target": step.target},
                      instance_id=task.instance_id, task_id=task.id)


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
