"""Scheduled starts: a flow whose main process starts with a timer cycle.

A timer start event on the main process (``"R/2026-01-05T10:00:00+08:00/P2W"``,
a biweekly retrospective) names a ``starter``: ``user:<username>``, or
``role:<role>`` for the longest-standing active holder of that role at each start
(so the flow loads before anyone holds it). Publishing such a version plans its
next occurrence as a work item keyed by the flow, the version and the occurrence
time, so however many workers run, or however often
one restarts, each occurrence starts one instance. When the worker fires it,
the current published version starts as the starter with the start form's
defaults, and the next occurrence is planned (the worker's loop also plans
it, so a start that failed for good does not end the schedule). Occurrences
missed while no worker ran are skipped, not caught up. A newer version takes
the schedule over (the older version's pending occurrence is cancelled); once
a flow has no published version, its schedule stops.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from andon import audit, catalog, expressions, jobs
from andon.database import utcnow
from andon.errors import AndonError, NotFound
from andon.flows import owners, runtime, timers
from andon.flows.bpmn import ParsedFlow
from andon.forms.schema import FormSpec
from andon.forms.store import form_spec_at
from andon.forms.validation import validate_submission
from andon.i18n import N_
from andon.identity.models import User, UserRole

KIND = "scheduled_start"
MAX_STEPS = 100_000


def describe(parsed: ParsedFlow) -> dict[str, Any] | None:
    """Return what a version stores about its scheduled start: cycle, starter, step."""
    if parsed.start_cycle is None:
        return None
    start = next(step for step in parsed.steps if step.kind == "startEvent")
    return {"cycle": expressions.evaluate(parsed.start_cycle, {}), "step": start.id,
            "starter": start.properties.get("starter", "")}


def problems(session: Session, parsed: ParsedFlow, forms: dict[str, int],
             start_form: str | None) -> list[tuple[str, str]]:
    """Say, by step id, what is wrong with a schedule's starter or its start form's defaults."""
    schedule = describe(parsed)
    if schedule is None:
        return []
    where = schedule["step"]
    gap = owners.missing(session, owners.parse(schedule["starter"], None))
    found = [(where, gap)] if gap else []
    if start_form and not found:
        _, errors = validate_submission(form_spec_at(session, forms[start_form]),
                                        defaults(form_spec_at(session, forms[start_form])))
        found += [(where, f"the start form {start_form!r} has no valid default for "
                   f"{name!r}, so a scheduled start would fail") for name in sorted(errors)]
    return found


def defaults(spec: FormSpec) -> dict[str, str]:
    """Return the start form's default values, as a person would submit them."""
    values = {}
    for name, prop in spec.properties.items():
        value = prop.get("default")
        if isinstance(value, bool):
            values[name] = "true" if value else ""
        elif isinstance(value, str | int | float):
            values[name] = str(value)
    return values


def next_occurrence(cycle: str, anchor: datetime, after: datetime) -> datetime | None:
    """Return the cycle's first occurrence later than ``after``, or None once it is over."""
    count, moment, _ = timers.parse_cycle(cycle, anchor)
    period = cycle.strip().split("/")[-1]
    for index in range(MAX_STEPS):
        if count >= 0 and index >= count:
            return None
        if moment > after:
            return moment
        moment = timers.after(period, moment)
    return None


def take_over(session: Session, version: catalog.DefinitionVersion) -> jobs.WorkItem | None:
    """Cancel the flow's planned starts and plan the new version's next one, if it has one."""
    key = version.definition.key
    session.execute(update(jobs.WorkItem)
                    .where(jobs.WorkItem.kind == KIND, jobs.WorkItem.state == "pending",
                           jobs.WorkItem.key.startswith(f"{KIND}:{key}:", autoescape=True))
                    .values(state="cancelled"))
    return plan_next(session, version, utcnow())


def plan_next(session: Session, version: catalog.DefinitionVersion,
              after: datetime) -> jobs.WorkItem | None:
    """Queue the version's next scheduled start after a moment (once per occurrence)."""
    schedule = version.content.get("schedule")
    if not schedule:
        return None
    at = next_occurrence(schedule["cycle"], version.created_at, after)
    if at is None:
        return None
    key = version.definition.key
    return jobs.schedule(session, KIND, f"{KIND}:{key}:{version.id}:{at.isoformat()}", at,
                         {"flow": key, "version": version.id, "at": at.isoformat()})


def plan_all(session: Session, now: datetime) -> None:
    """Make sure every published scheduled flow has its next start planned (the worker's loop).

    Publishing plans the first start and each start plans the next; this keeps a
    schedule going after a start failed for good (say, its starter left).
    """
    for version in catalog.published(session, "flow"):
        if version.content.get("schedule"):
            plan_next(session, version, now)


def _starter(session: Session, text: str) -> User | None:
    """Return the active user a schedule's ``user:`` or ``role:`` starter names now."""
    if text.startswith("role:"):
        return session.scalar(select(User).join(UserRole, UserRole.user_id == User.id)
                              .where(UserRole.role == text.removeprefix("role:"), User.active)
                              .order_by(User.id).limit(1))
    return session.scalar(select(User).where(User.username == text.removeprefix("user:"),
                                             User.active))


def start(session: Session, item: jobs.WorkItem, now: datetime) -> None:
    """Start one scheduled instance as the configured starter, then plan the next start."""
    key, at = item.payload["flow"], datetime.fromisoformat(item.payload["at"])
    try:
        version = catalog.current(session, "flow", key)
    except NotFound:
        return  # the flow was retired: its schedule stops
    if version.id != item.payload["version"] or not version.content.get("schedule"):
        return  # a newer version took the schedule over
    schedule = version.content["schedule"]
    starter = _starter(session, schedule["starter"])
    if starter is None:
        raise AndonError(N_("The scheduled start of %(flow)s names no active user: %(rule)s."),
                         flow=key, rule=schedule["starter"])
    form = defaults(runtime.start_form(session, key))
    instance = runtime.start_instance(session, key, starter, form)
    if "title" not in form:
        instance.title = f"{version.label('en')} {at.date().isoformat()}"[:300]
    audit.record(session, "instance.scheduled", "instance", instance.id, None, flow=key,
                 occurrence=at.isoformat())
    plan_next(session, version, max(now, at))
