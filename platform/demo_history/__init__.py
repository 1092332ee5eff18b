"""The demo's history: people in four regions, client projects over months, and their stories.

``seed`` creates the people and the projects (records of the ``project`` form),
then calls every solution's story in ``SOLUTIONS``, each with its own seeded
random generator, and finally runs the worker's work that fell due by ``until``.
Everything goes through the runtime's own functions with the clock frozen at
historical moments, so reports compute from the same events a real year makes.
A story is a module with::

    def seed(session, people, projects, rng, until) -> int

returning how many instances it started. ``projects`` are those started by
``until``, oldest first; the projects still to start are not passed. The same
seed and ``until`` give the same history; a database that has it is left alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import clock
from andon.demo_history import (
    change_requests,
    delivery,
    people,
    projects,
    receivables,
    retrospectives,
    systemic_problems,
)
from andon.demo_history.worker import catch_up
from andon.forms.models import Record
from andon.identity.models import User
from andon.notifications.center import mark_read

Story = Callable[[Session, Mapping[str, User], Sequence[Record], random.Random, datetime], int]

#: every solution's story, in the order they run (the lead adds one line per solution)
SOLUTIONS: list[Story] = [delivery.seed, change_requests.seed, retrospectives.seed,
                          receivables.seed, systemic_problems.seed]


@dataclass(frozen=True)
class Size:
    """How much history to make: projects over the months before now, from a seed."""

    projects: int = 40
    months: int = 18
    seed: int = 2026


@dataclass
class Summary:
    """What ``seed`` made."""

    people: int = 0
    projects: int = 0
    instances: dict[str, int] = field(default_factory=dict)
    work_items: int = 0


def seed(session: Session, size: Size = Size(), until: datetime | None = None,
         password: str | None = None) -> Summary:
    """Create the history up to ``until`` (now) unless its first project exists already."""
    until = until or clock.now()
    rng = random.Random(size.seed)
    plans = projects.plan(rng, size.projects, size.months, until)
    if not plans or _seeded(session, plans[0].data["code"]):
        return Summary()
    everyone = people.ensure_people(session, password)
    projects.create(session, plans, everyone, rng, until)
    summary = Summary(people=len(everyone), projects=len(plans))
    records = [plan.record for plan in plans if plan.record is not None and plan.start <= until]
    for story in SOLUTIONS:
        name = story.__module__.rsplit(".", 1)[-1]
        summary.instances[name] = story(session, everyone, records,
                                        random.Random(f"{size.seed}:{name}"), until)
    summary.work_items = catch_up(session, until)
    for user in everyone.values():  # the past has been read; what comes next is news
        mark_read(session, user.id, until)
    session.flush()
    return summary


def _seeded(session: Session, code: str) -> bool:
    """Tell whether a project with this code exists (the history is there already)."""
    found = session.scalars(select(Record.data).where(Record.form_key == "project"))
    return any(data.get("code") == code for data in found)
