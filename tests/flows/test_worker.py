"""The background worker wakes due instances once, and survives a broken one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from andon.audit import history
from andon.database import make_session_factory, utcnow
from andon.flows import runtime
from andon.flows.models import FlowInstance
from andon.flows.worker import run_due

REQUEST = {"title": "T", "project": "P", "reason": "R", "effort_days": "3",
           "customer_contact": "C"}


def due_instance(session, people) -> FlowInstance:
    """Start an instance and make it due now."""
    instance = runtime.start_instance(session, "change_request", people["engineer1"], REQUEST)
    instance.wake_at = utcnow() - timedelta(minutes=1)
    session.commit()
    return instance


def test_a_due_instance_is_woken_and_not_again(session, people):
    instance = due_instance(session, people)
    assert run_due(session) == 1
    session.commit()
    assert instance.status == "running" and instance.wake_at is None  # no timers wait
    assert run_due(session) == 0


def test_a_broken_instance_is_marked_failed_and_others_still_run(session, people):
    broken = due_instance(session, people)
    healthy = due_instance(session, people)
    broken.state = '{"not": "an engine state"}'
    session.commit()
    assert run_due(session) == 2
    session.commit()
    assert broken.status == "failed" and healthy.status == "running"
    (event,) = [e for e in history(session, "instance", broken.id) if e.kind == "instance.failed"]
    assert event.detail["error"]


def test_a_second_worker_skips_what_the_first_has_claimed(session, people, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks with SKIP LOCKED are PostgreSQL's; SQLite has one writer")
    due_instance(session, people)
    first = make_session_factory(engine)()
    claimed = first.query(FlowInstance).with_for_update().all()
    assert len(claimed) == 1
    second = make_session_factory(engine)()
    assert run_due(second) == 0
    second.rollback()
    first.rollback()
    assert run_due(second) == 1
    second.rollback()
    first.close()
    second.close()


def test_a_lost_race_is_retried_later_not_failed(session, people, engine, monkeypatch):
    """Someone completes the task while the worker holds the instance: the worker lets go."""
    if engine.dialect.name != "sqlite":
        pytest.skip("on PostgreSQL the worker's row lock makes the person wait instead")
    from andon.flows.models import Task
    from andon.identity.models import User

    instance = due_instance(session, people)
    other = make_session_factory(engine)()
    real_run = runtime.engine.run

    def run_while_someone_acts(workflow):
        monkeypatch.setattr(runtime.engine, "run", real_run)  # interfere once
        task = other.query(Task).filter_by(instance_id=instance.id, state="open").one()
        runtime.complete_task(other, task.id, other.get(User, people["pm"].id),
                              {"decision": "approve"})
        other.commit()
        real_run(workflow)

    monkeypatch.setattr(runtime.engine, "run", run_while_someone_acts)
    assert run_due(session) == 1
    session.commit()
    other.close()
    session.expire_all()
    assert instance.status == "completed" and instance.data["outcome"] == "approved"
