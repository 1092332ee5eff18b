"""A daily digest for managers: how many of their team's tasks are overdue.

Each day's digest is a work item keyed by day and manager, due at 09:00 in
the installation's time zone, so however often the worker plans it, it is
sent once.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from andon import jobs
from andon.flows import queries
from andon.i18n import N_, Message
from andon.identity.models import OrgUnit, User
from andon.notifications.center import notify

HOUR = time(9)


def plan(session: Session, now: datetime, timezone: str) -> None:
    """Queue today's digest for every manager of an org unit (once per day and manager)."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    due = datetime.combine(today, HOUR, ZoneInfo(timezone))
    managers = session.scalars(select(OrgUnit.manager_id).where(OrgUnit.manager_id.is_not(None))
                               .distinct())
    keys = {f"digest:{today.isoformat()}:{manager_id}": manager_id for manager_id in managers}
    queued = set(session.scalars(select(jobs.WorkItem.key)
                                 .where(jobs.WorkItem.key.in_(list(keys)))))
    for key, manager_id in keys.items():
        if key not in queued:
            jobs.schedule(session, "digest", key, due,
                          {"manager": manager_id, "day": today.isoformat()})


def send(session: Session, item: jobs.WorkItem, now: datetime) -> None:
    """Tell a manager how many of their team's tasks are overdue, if any are."""
    manager = session.get(User, item.payload["manager"])
    if manager is None or not manager.active:
        return
    units = queries.managed_units(session, manager)
    overdue = queries.team_overdue(units, now).subquery()
    count = session.scalar(select(func.count()).select_from(overdue)) or 0
    if count:
        notify(session, manager, "digest",
               Message(N_("Daily digest: %(count)s of your team's tasks are overdue"),
                       {"count": count}), item.key, now=now)
