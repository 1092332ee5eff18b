"""On PostgreSQL: worker processes share due work items, and none is done twice."""

from __future__ import annotations

import multiprocessing
import os
import signal
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from andon import clock, jobs
from andon.database import make_engine, make_session_factory, utcnow
from andon.i18n import Message
from andon.identity.models import User
from andon.notifications.center import notify
from andon.worker import run_once

ITEMS = 400


def effect(session, item, now) -> None:
    """Leave one notification per item: the visible effect a double run would repeat."""
    user = session.scalar(select(User).order_by(User.id).limit(1))
    notify(session, user, "probe", Message("probe"), f"probe:{item.key}", now=now)


def work_until_done(url: str, now_iso: str) -> None:
    """Run the worker loop in a process of its own until nothing is due."""
    from datetime import datetime

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = datetime.fromisoformat(now_iso)
    with clock.frozen(now):  # leases are taken and checked on andon's clock
        while run_once(sessions, {"probe": effect}, now):
            pass
    engine.dispose()


def claim_and_hang(url: str, now_iso: str, ready) -> None:
    """Claim due items, tell the parent, then hang as a worker stuck mid-item would."""
    from datetime import datetime

    sessions = make_session_factory(make_engine(url))
    now = datetime.fromisoformat(now_iso)
    with clock.frozen(now), sessions() as session:
        jobs.claim(session, now, "stuck", limit=20)
        session.commit()
    ready.set()
    signal.pause()


@pytest.fixture
def due_items(session, staff, database_url, engine):
    """Queue many due items; skip on SQLite, whose single writer makes this moot."""
    if engine.dialect.name != "postgresql":
        pytest.skip("several worker processes share work on PostgreSQL")
    now = utcnow()
    for number in range(ITEMS):
        jobs.schedule(session, "probe", f"item-{number}", now - timedelta(seconds=1))
    session.commit()
    return now


def counts(session) -> tuple[int, int, int]:
    """Return (done items, items run more than once, notifications)."""
    session.expire_all()
    done = session.scalar(select(func.count()).where(jobs.WorkItem.state == "done"))
    twice = session.scalar(select(func.count()).where(jobs.WorkItem.attempts > 1))
    notes = session.scalar(select(func.count()).select_from(
        __import__("andon.notifications.models", fromlist=["Notification"]).Notification))
    return done, twice, notes


def test_four_worker_processes_do_every_item_exactly_once(session, database_url, due_items):
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=work_until_done, args=(database_url, due_items.isoformat()))
               for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert counts(session) == (ITEMS, 0, ITEMS)


def test_items_of_a_worker_killed_mid_item_are_done_once_after_the_lease(session, database_url,
                                                                        due_items):
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    stuck = context.Process(target=claim_and_hang,
                            args=(database_url, due_items.isoformat(), ready))
    stuck.start()
    assert ready.wait(timeout=60)
    os.kill(stuck.pid, signal.SIGKILL)
    stuck.join()

    work_until_done(database_url, due_items.isoformat())  # within the lease: the rest
    assert counts(session) == (ITEMS - 20, 0, ITEMS - 20)
    after_lease = due_items + jobs.LEASE + timedelta(seconds=1)
    work_until_done(database_url, after_lease.isoformat())
    assert counts(session) == (ITEMS, 20, ITEMS)


def test_a_key_taken_by_a_concurrent_writer_keeps_the_first_item(session, engine):
    """Two workers plan the same item at once: the loser gets the winner's, and carries on."""
    now = utcnow()
    winner = jobs.schedule(session, "digest", "digest:2026-03-02:1", now)
    session.commit()
    other = make_session_factory(engine)()
    looked = []

    def existing():  # the racing worker's first look saw nothing yet
        looked.append(1)
        if len(looked) == 1:
            return None
        return other.scalar(select(jobs.WorkItem).where(jobs.WorkItem.key == winner.key))

    from andon.database import insert_once

    row, created = insert_once(other, jobs.WorkItem(kind="digest", key=winner.key, due_at=now),
                               existing)
    assert not created and row.id == winner.id
    assert other.scalar(select(func.count()).select_from(jobs.WorkItem)) == 1  # still usable
    other.commit()
    other.close()
