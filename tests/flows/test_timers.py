"""Timers fire on Andon's clock: boundary timers through the worker, waits and cycles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import pytest

from andon import clock
from andon.flows import runtime, timers
from andon.flows.bpmn import load_bpmn
from andon.flows.deploy import deploy_flow
from andon.flows.engine import Engine
from andon.flows.worker import run_due

DATA = Path(__file__).parent.parent / "data" / "timers"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
REQUEST = {"title": "T", "project": "P", "reason": "R", "effort_days": "3",
           "customer_contact": "C"}


def tasks_by_step(instance) -> dict[str, list[str]]:
    """Map each step of an instance to the states of its task rows."""
    rows: dict[str, list[str]] = {}
    for task in sorted(instance.tasks, key=lambda t: t.id):
        rows.setdefault(task.step_id, []).append(task.state)
    return rows


@pytest.fixture
def timed(session, people):
    """Deploy the boundary-timer flow and start it at T0; review is open."""
    with clock.frozen(T0):
        deploy_flow(session, (DATA / "boundary.bpmn").read_bytes(), "boundary.bpmn")
        instance = runtime.start_instance(session, "timed_review", people["engineer1"], REQUEST)
    session.commit()
    return instance


def wake_at(session, moment: datetime) -> int:
    """Run the worker with the clock frozen at ``moment``."""
    with clock.frozen(moment):
        woken = run_due(session, moment)
    session.commit()
    return woken


def test_the_first_boundary_timer_sets_when_the_worker_wakes(timed):
    assert timed.wake_at == T0 + timedelta(minutes=30)
    assert tasks_by_step(timed) == {"submit": ["completed"], "review": ["open"]}


def test_nothing_fires_before_the_time(session, timed):
    assert wake_at(session, T0 + timedelta(minutes=29)) == 0
    assert tasks_by_step(timed)["review"] == ["open"]


def test_non_interrupting_timer_opens_a_parallel_step(session, timed, people):
    assert wake_at(session, T0 + timedelta(minutes=30, seconds=1)) == 1
    session.refresh(timed)
    assert tasks_by_step(timed) == {"submit": ["completed"], "review": ["open"],
                                    "chase": ["open"]}
    [chase] = [t for t in timed.tasks if t.step_id == "chase"]
    assert chase.candidate_group_id is not None  # the lane names the group
    assert timed.wake_at == T0 + timedelta(hours=1)
    assert timed.status == "running"


def test_interrupting_timer_cancels_the_task_and_opens_the_next(session, timed, people):
    wake_at(session, T0 + timedelta(minutes=31))
    assert wake_at(session, T0 + timedelta(hours=1, seconds=1)) == 1
    session.refresh(timed)
    assert tasks_by_step(timed) == {"submit": ["completed"], "review": ["cancelled"],
                                    "chase": ["open"], "escalated": ["open"]}
    [escalated] = [t for t in timed.tasks if t.step_id == "escalated"]
    assert escalated.assignee_id == people["director"].id
    assert timed.wake_at is None


def test_late_worker_fires_both_timers_at_once(session, timed):
    wake_at(session, T0 + timedelta(hours=5))
    session.refresh(timed)
    assert tasks_by_step(timed)["review"] == ["cancelled"]
    assert {"chase", "escalated"} <= set(tasks_by_step(timed))


def test_completing_the_review_in_time_stops_the_timers(session, timed, people):
    [review] = [t for t in timed.tasks if t.step_id == "review"]
    with clock.frozen(T0 + timedelta(minutes=10)):
        runtime.complete_task(session, review.id, people["leader"], {"decision": "approve"})
    session.commit()
    assert timed.wake_at is None
    assert wake_at(session, T0 + timedelta(hours=2)) == 0
    assert timed.status == "completed" and timed.outcome["en"] == "Reviewed"


@pytest.fixture
def flow_engine():
    return Engine()


def spec_of(name: str) -> str:
    """Load one of the timer flows."""
    return load_bpmn((DATA / name).read_bytes(), name).spec_json


def advance(engine, spec_json, workflow, moment):
    """Save and restore the instance and run it at ``moment``, as the worker does."""
    workflow = engine.restore(spec_json, engine.dump(workflow))
    with clock.frozen(moment):
        engine.run(workflow)
    return workflow


def complete(engine, workflow, step, data=None):
    """Complete the first ready task of ``step``."""
    task = next(t for t in engine.ready_tasks(workflow) if t.step_id == step)
    engine.complete(workflow, task.id, data or {})


def ready(engine, workflow) -> list[str]:
    """Return the step ids of the ready tasks."""
    return sorted(t.step_id for t in engine.ready_tasks(workflow))


def test_intermediate_duration_then_date(flow_engine):
    engine = flow_engine
    spec_json = spec_of("waits.bpmn")
    with clock.frozen(T0):
        workflow = engine.start(spec_json)
        complete(engine, workflow, "submit", {"window_opens": "2025-03-08T22:00:00+08:00"})
    assert engine.next_timer(workflow) == T0 + timedelta(days=1)
    workflow = advance(engine, spec_json, workflow, T0 + timedelta(hours=23))
    assert ready(engine, workflow) == []
    workflow = advance(engine, spec_json, workflow, T0 + timedelta(days=1))
    assert engine.next_timer(workflow) == datetime(2025, 3, 8, 14, 0, tzinfo=UTC)
    assert ready(engine, workflow) == []
    workflow = advance(engine, spec_json, workflow, datetime(2025, 3, 8, 14, 0, tzinfo=UTC))
    assert ready(engine, workflow) == ["apply"] and engine.next_timer(workflow) is None


def test_cycle_start_in_a_subprocess_runs_once_per_cycle(flow_engine):
    engine = flow_engine
    spec_json = spec_of("cycle.bpmn")
    with clock.frozen(T0):
        workflow = engine.start(spec_json)
        complete(engine, workflow, "submit")
    assert engine.next_timer(workflow) == T0 + timedelta(hours=1)
    workflow = advance(engine, spec_json, workflow, T0 + timedelta(hours=1))
    assert ready(engine, workflow) == ["check"]
    assert engine.next_timer(workflow) == T0 + timedelta(hours=2)
    complete(engine, workflow, "check")
    workflow = advance(engine, spec_json, workflow, T0 + timedelta(hours=2))
    assert ready(engine, workflow) == ["check"] and engine.next_timer(workflow) is None
    with clock.frozen(T0 + timedelta(hours=2)):
        complete(engine, workflow, "check")
    assert ready(engine, workflow) == ["review"]


def test_cycle_boundary_reminds_until_the_task_is_done(flow_engine):
    engine = flow_engine
    spec_json = spec_of("cycle.bpmn")
    with clock.frozen(T0):
        workflow = engine.start(spec_json)
        complete(engine, workflow, "submit")
    workflow = advance(engine, spec_json, workflow, T0 + timedelta(hours=1))
    complete(engine, workflow, "check")
    workflow = advance(engine, spec_json, workflow, T0 + timedelta(hours=2))
    with clock.frozen(T0 + timedelta(hours=2)):
        complete(engine, workflow, "check")
    assert engine.next_timer(workflow) == T0 + timedelta(hours=6)
    for hours, calls in ((6, 1), (9, 1), (10, 2)):
        workflow = advance(engine, spec_json, workflow, T0 + timedelta(hours=hours))
        assert ready(engine, workflow) == ["call_reviewer"] * calls + ["review"]
    with clock.frozen(T0 + timedelta(hours=11)):
        complete(engine, workflow, "review")
    assert engine.next_timer(workflow) is None
    assert ready(engine, workflow) == []  # a cycle's branches end with the task it guards
    assert engine.is_done(workflow)


def test_naive_dates_are_utc_and_cycles_parse():
    assert timers.parse_date("2025-03-03T09:00:00") == T0
    assert timers.parse_cycle("R3/PT1H", T0) == (3, T0 + timedelta(hours=1), timedelta(hours=1))
    assert timers.parse_cycle("R/2025-03-03T09:00:00Z/P1D", T0) == (-1, T0, timedelta(days=1))
    with pytest.raises(ValueError):
        timers.parse_cycle("PT1H", T0)


@pytest.mark.parametrize(("expression", "due"), [
    # a date field read in the change window's own zone: 22:00 in Shanghai is 14:00 UTC
    ('datetime(window_opens, "Asia/Shanghai") + duration("PT22H")',
     datetime(2025, 3, 8, 14, 0, tzinfo=UTC)),
    ('datetime(window_opens + "T22:00+08:00")', datetime(2025, 3, 8, 14, 0, tzinfo=UTC)),
])
def test_a_timer_may_wait_for_a_date_computed_from_a_date_field(flow_engine, expression, due):
    engine = flow_engine
    quoted = escape(expression, quote=True)
    source = (DATA / "waits.bpmn").read_text().replace(
        "<bpmn:timeDate>window_opens</bpmn:timeDate>", f"<bpmn:timeDate>{quoted}</bpmn:timeDate>")
    spec_json = load_bpmn(source.encode(), "waits.bpmn").spec_json
    with clock.frozen(T0):
        workflow = engine.start(spec_json)
        complete(engine, workflow, "submit", {"window_opens": "2025-03-08"})
    workflow = advance(engine, spec_json, workflow, T0 + timedelta(days=1))
    assert engine.next_timer(workflow) == due
    workflow = advance(engine, spec_json, workflow, due - timedelta(seconds=1))
    assert ready(engine, workflow) == []
    workflow = advance(engine, spec_json, workflow, due)
    assert ready(engine, workflow) == ["apply"]


def test_a_timer_may_wait_for_a_duration_of_the_expression_language(flow_engine):
    engine = flow_engine
    source = (DATA / "waits.bpmn").read_text().replace(
        '<bpmn:timeDuration>"P1D"</bpmn:timeDuration>',
        "<bpmn:timeDuration>duration(&quot;P1D&quot;) * 2</bpmn:timeDuration>")
    spec_json = load_bpmn(source.encode(), "waits.bpmn").spec_json
    with clock.frozen(T0):
        workflow = engine.start(spec_json)
        complete(engine, workflow, "submit", {"window_opens": "2025-03-08T22:00:00+08:00"})
    assert engine.next_timer(workflow) == T0 + timedelta(days=2)


@pytest.mark.parametrize(("kind", "text", "naive"), [
    ("timeDate", "2025-03-10T08:00:00", "2025-03-10T08:00:00"),
    ("timeDate", "2025-03-10", "2025-03-10"),
    ("timeDate", "2025-W11-1T08:00", "2025-W11-1T08:00"),
    ("timeDate", "2025-03-10T08:00:00+08:00", None),
    ("timeDate", "2025-03-10T00:00:00Z", None),
    ("timeCycle", "R3/2025-03-10T08:00/PT1H", "2025-03-10T08:00"),
    ("timeCycle", "R3/2025-03-10T08:00+08:00/PT1H", None),
    ("timeCycle", "R3/PT1H", None),
    ("timeDuration", "PT1H", None),
])
def test_dates_without_an_offset_are_found(kind, text, naive):
    assert timers.missing_offset(kind, text) == naive
