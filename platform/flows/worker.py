"""The background worker: wake instances whose timers are due.

Several workers may run against one PostgreSQL: each claims its instances with
``FOR UPDATE SKIP LOCKED``, and the instance's version column stops a second
writer, so nothing fires twice. The caller (``andon worker``) owns the
transaction: it commits after each run.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from andon import audit
from andon.database import utcnow
from andon.errors import StaleInstance
from andon.flows import runtime
from andon.flows.models import FlowInstance

log = logging.getLogger(__name__)


def run_due(session: Session, now: datetime | None = None, limit: int = 50) -> int:
    """Wake the running instances whose next timer is due; return how many were handled."""
    query = (select(FlowInstance)
             .where(FlowInstance.status == "running", FlowInstance.wake_at <= (now or utcnow()))
             .order_by(FlowInstance.wake_at).limit(limit)
             .with_for_update(skip_locked=True))
    instances = list(session.scalars(query))
    for instance in instances:
        _wake_one(session, instance)
    return len(instances)


def _wake_one(session: Session, instance: FlowInstance) -> None:
    """Wake one instance in a savepoint; a lost race waits for the next run."""
    savepoint = session.begin_nested()
    try:
        runtime.wake(session, instance)
        savepoint.commit()
    except (StaleInstance, OperationalError):
        savepoint.rollback()  # someone acted on it meanwhile, or a lock: try on the next run
    except Exception as error:  # the engine may raise anything on a broken model
        savepoint.rollback()
        log.exception("instance %s failed", instance.id)
        session.refresh(instance)
        instance.status, instance.wake_at = "failed", None
        audit.record(session, "instance.failed", "instance", instance.id, None,
                     error=type(error).__name__)
