"""The background worker: due timers, then due work items, each in its own transaction.

The worker owns the transactions here, as the web layer does for requests:
claiming commits a lease, each item commits with its effects, and a failure
is recorded in a transaction of its own and retried with backoff.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from andon import jobs, sweeps
from andon.config import Config
from andon.database import utcnow
from andon.errors import Undelivered
from andon.flows import digests, escalations, messages, schedules, services, waits
from andon.flows.worker import run_due
from andon.notifications.delivery import chat_handler, email_handler
from andon.reports import digests as dashboard_digests

log = logging.getLogger(__name__)


def handlers(config: Config) -> dict[str, jobs.Handler]:
    """Return what the worker does for each kind of work item."""
    return {"remind": escalations.remind, "escalate": escalations.escalate,
            "digest": digests.send, "email": email_handler(config.smtp, config.base_url),
            services.KIND: services.handler(config.outbound_private),
            waits.KIND: messages.send, schedules.KIND: schedules.start,
            "chat": chat_handler(config.base_url, config.outbound_private),
            sweeps.KIND: sweeps.handler(config.uploads),
            dashboard_digests.KIND: dashboard_digests.handler(config.smtp, config.base_url)}


#: what to do after a failed attempt, by kind: a service step fails its instance at the end
ON_FAILURE = {services.KIND: services.failed}


def run_once(sessions: sessionmaker[Session], work: dict[str, jobs.Handler],
             now: datetime | None = None, timezone: str = "Asia/Shanghai") -> int:
    """Fire due timers, plan digests, scheduled starts and the upload sweep, run due work items.

    Return how many work items ran.
    """
    now = now or utcnow()
    with sessions() as session:
        run_due(session, now)
        digests.plan(session, now, timezone)
        dashboard_digests.plan(session, now)
        schedules.plan_all(session, now)
        sweeps.plan(session, now)
        session.commit()
    owner = uuid.uuid4().hex
    with sessions() as session:
        claimed = jobs.claim(session, now, owner)
        session.commit()
    return sum(_perform(sessions, item_id, work, now, owner) for item_id in claimed)


def _perform(sessions: sessionmaker[Session], item_id: int, work: dict[str, jobs.Handler],
             now: datetime, owner: str) -> bool:
    """Run one item and commit it with its effects; record a failure apart."""
    with sessions() as session:
        try:
            done = jobs.perform(session, item_id, work, now, owner)
            session.commit()
            return done
        except Exception as error:  # any failure is retried, then shown on the item
            session.rollback()
            log.warning("work item %s failed: %s", item_id, error)
            failure = error
    with sessions() as session:
        item = jobs.record_failure(session, item_id, failure, now, owner,
                                   temporary=not isinstance(failure, Undelivered)
                                   or failure.temporary)
        if item is not None and item.kind in ON_FAILURE:
            ON_FAILURE[item.kind](session, item, failure, now)
        session.commit()
    return False
