"""The background worker: wake instances whose timers are due.

Several workers may run against one PostgreSQL: each claims its instances with
``FOR UPDATE SKIP LOCKED``, and the instance's version column stops a second
writer, so nothing fires twice.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from andon import audit
from andon.database import utcnow
from andon.flows import runtime
from andon.flows.models import FlowInstance

log = logging.getLogger(__name__)


def run_due(session: Session, now: datetime | None = None, limit: int = 50) -> int:
    """Wake the running instances whose next timer is due; return how many."""
    query = (select(FlowInstance)
             .where(FlowInstance.status == "running", FlowInstance.wake_at <= (now or utcnow()))
             .order_by(FlowInstance.wake_at).limit(limit)
             .with_for_update(skip_locked=True))
    instances = list(session.scalars(query))
    for instance in instances:
        _wake_one(session, instance)
    return len(instances)


def _wake_one(session: Session, instance: FlowInstance) -> None:
    """Wake one instance; if the engine fails, mark it failed and record why."""
    savepoint = session.begin_nested()
    try:
        runtime.wake(session, instance)
        savepoint.commit()
    except Exception as error:  # the engine may raise anything on a bad model
        savepoint.rollback()
        log.exception("instance %s failed", instance.id)
        instance.status, instance.wake_at = "failed", None
        audit.record(session, "instance.failed", "instance", instance.id, None,
                     error=f"{type(error).__name__}: {error}"[:500])


def run_forever(sessions: sessionmaker[Session], interval: float,
                stop: threading.Event | None = None) -> None:
    """Run due work every ``interval`` seconds until ``stop`` is set."""
    stop = stop or threading.Event()
    while not stop.is_set():
        with sessions() as session:
            try:
                done = run_due(session)
                session.commit()
            except Exception:  # a bad instance must not stop the worker
                log.exception("worker run failed")
                session.rollback()
            else:
                if done:
                    log.info("woke %s instance(s)", done)
        stop.wait(interval)
