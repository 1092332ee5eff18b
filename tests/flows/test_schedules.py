"""Scheduled starts: a timer cycle on the main process starts one instance per occurrence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from andon import catalog, clock
from andon.audit import history
from andon.errors import InvalidDefinition
from andon.flows import runtime, schedules
from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance
from andon.forms.store import deploy_form
from andon.jobs import WorkItem

DATA = Path(__file__).parent.parent / "data" / "schedules"
CYCLE = '"R/2026-01-05T10:00:00+08:00/P2W"'
PUBLISHED = datetime(2026, 1, 1, tzinfo=UTC)
FIRST = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
SECOND = FIRST + timedelta(weeks=2)


def retro(old: str = "", new: str = "") -> bytes:
    """Return the retrospective flow, with one piece of text replaced."""
    text = (DATA / "retro.bpmn").read_text()
    assert old in text
    return text.replace(old, new).encode() if old else text.encode()


def publish(session, moment: datetime, xml: bytes | None = None) -> catalog.DefinitionVersion:
    """Publish the retrospective flow (and its form) at a moment and commit."""
    with clock.frozen(moment):
        deploy_form(session, (DATA / "retro_review.json").read_text(), "retro_review.json")
        version, _ = deploy_flow(session, xml or retro(), "retro.bpmn")
    session.commit()
    return version


def planned(session) -> list[tuple[str, datetime, int]]:
    """Return the retrospective's scheduled starts: (state, due time, version id)."""
    session.expire_all()
    items = session.scalars(select(WorkItem).where(  # the shipped flows plan their own
        WorkItem.kind == schedules.KIND, WorkItem.payload["flow"].as_string() == "retro")
        .order_by(WorkItem.id))
    return [(item.state, item.due_at, item.payload["version"]) for item in items]


def instances(session) -> list[FlowInstance]:
    """Return the retrospective's instances, oldest first (shipped flows have schedules too)."""
    session.expire_all()
    return list(session.scalars(
        select(FlowInstance).join(catalog.DefinitionVersion).join(catalog.Definition)
        .where(catalog.Definition.key == "retro").order_by(FlowInstance.id)))


def test_publishing_plans_the_first_occurrence(session, people):
    version = publish(session, PUBLISHED)
    assert planned(session) == [("pending", FIRST, version.id)]
    assert version.content["schedule"] == {"cycle": CYCLE.strip('"'), "step": "every_two_weeks",
                                           "starter": "user:pm"}


def test_publishing_late_plans_the_next_occurrence_from_now(session, people):
    version = publish(session, datetime(2026, 2, 1, tzinfo=UTC))
    assert planned(session) == [("pending", datetime(2026, 2, 2, 2, 0, tzinfo=UTC),
                                 version.id)]


def test_the_worker_starts_an_instance_as_the_starter_and_plans_the_next(session, people,
                                                                          worker):
    version = publish(session, PUBLISHED)
    worker(FIRST - timedelta(seconds=1))
    assert instances(session) == []
    worker(FIRST)
    [instance] = instances(session)
    assert instance.started_by.username == "pm" and instance.version_id == version.id
    assert instance.title == "Biweekly retrospective 2026-01-05"
    assert instance.data["team"] == "Delivery East" and instance.data["period_weeks"] == 2
    [hold] = [t for t in instance.tasks if t.state == "open"]
    assert hold.step_id == "hold_review" and hold.assignee_id == people["pm"].id
    [event] = [e for e in history(session, "instance", instance.id)
               if e.kind == "instance.scheduled"]
    assert event.detail["occurrence"] == FIRST.isoformat()
    assert planned(session) == [("done", FIRST, version.id), ("pending", SECOND, version.id)]


def test_a_role_starter_starts_as_the_longest_standing_holder_of_the_role(session, people,
                                                                          worker):
    publish(session, PUBLISHED, retro('value="user:pm"', 'value="role:leader"'))
    worker(FIRST)
    [instance] = instances(session)
    assert instance.started_by.username == "leader"


def test_an_occurrence_starts_one_instance_however_often_it_is_planned(session, people,
                                                                         worker):
    version = publish(session, PUBLISHED)
    with clock.frozen(PUBLISHED):
        schedules.plan_next(session, version, PUBLISHED)  # a second planner, same key
        schedules.plan_next(session, version, PUBLISHED)
    session.commit()
    worker(FIRST)
    worker(FIRST + timedelta(minutes=1))
    assert len(instances(session)) == 1
    worker(SECOND)
    assert len(instances(session)) == 2


def test_occurrences_missed_while_no_worker_ran_are_skipped(session, people, worker):
    version = publish(session, PUBLISHED)
    worker(datetime(2026, 2, 3, tzinfo=UTC))
    assert len(instances(session)) == 1
    assert planned(session)[-1] == ("pending", datetime(2026, 2, 16, 2, 0, tzinfo=UTC),
                                    version.id)


def test_a_new_version_takes_the_schedule_over(session, people, worker):
    first = publish(session, PUBLISHED)
    weekly = publish(session, datetime(2026, 1, 2, tzinfo=UTC),
                     retro("P2W", "P1W").replace(b"Biweekly", b"Weekly"))
    assert planned(session) == [("cancelled", FIRST, first.id), ("pending", FIRST, weekly.id)]
    worker(FIRST)
    worker(FIRST + timedelta(weeks=1))
    assert [i.version_id for i in instances(session)] == [weekly.id, weekly.id]


def test_a_version_without_the_timer_ends_the_schedule(session, people, worker):
    publish(session, PUBLISHED)
    plain = retro(f"<bpmn:timeCycle>{CYCLE}</bpmn:timeCycle>", "")
    plain = plain.replace(b"<bpmn:timerEventDefinition>", b"").replace(
        b"</bpmn:timerEventDefinition>", b"")
    publish(session, datetime(2026, 1, 2, tzinfo=UTC), plain)
    assert [state for state, _, _ in planned(session)] == ["cancelled"]
    worker(SECOND)
    assert instances(session) == []


def test_a_retired_flow_stops(session, people, worker):
    version = publish(session, PUBLISHED)
    version.status = "retired"
    session.commit()
    worker(FIRST)
    assert instances(session) == []
    assert [state for state, _, _ in planned(session)] == ["done"]  # and nothing next


def test_a_person_can_still_start_it_and_it_does_not_wait_for_the_cycle(session, people):
    publish(session, PUBLISHED)
    with clock.frozen(PUBLISHED):
        instance = runtime.start_instance(session, "retro", people["pm"],
                                          {"team": "Ops", "period_weeks": "1"})
    assert instance.wake_at is None
    assert [t.step_id for t in instance.tasks if t.state == "open"] == ["hold_review"]


def test_a_counted_cycle_ends():
    cycle = "R2/2026-01-05T10:00:00+08:00/P2W"
    assert schedules.next_occurrence(cycle, PUBLISHED, PUBLISHED) == FIRST
    assert schedules.next_occurrence(cycle, PUBLISHED, FIRST) == SECOND
    assert schedules.next_occurrence(cycle, PUBLISHED, SECOND) is None


def test_a_monthly_cycle_follows_the_calendar():
    cycle = "R/2026-01-05T10:00:00+08:00/P1M"
    assert schedules.next_occurrence(cycle, PUBLISHED, datetime(2026, 2, 6, tzinfo=UTC)) == \
        datetime(2026, 3, 5, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(("old", "new", "complaint"), [
    ('value="user:pm"', 'value="user:nobody"', "no user named 'nobody'"),
    ('value="user:pm"', 'value="group:engineers"', "user:<username> or role:<role>"),
    (f"<bpmn:timeCycle>{CYCLE}</bpmn:timeCycle>",
     '<bpmn:timeDuration>"P1D"</bpmn:timeDuration>', "needs a timeCycle"),
    (CYCLE, "next_monday", "quoted cycle"),
    (CYCLE, '"R/2026-01-05T10:00:00+08:00/P2X"', "not a valid ISO 8601 timeCycle"),
])
def test_a_bad_schedule_is_refused_at_deploy(session, people, old, new, complaint):
    deploy_form(session, (DATA / "retro_review.json").read_text(), "retro_review.json")
    with pytest.raises(InvalidDefinition) as refused:
        deploy_flow(session, retro(old, new), "retro.bpmn")
    assert any(where.endswith("every_two_weeks") and complaint in what
               for where, what in refused.value.problems), refused.value.problems


def test_a_start_form_without_defaults_is_refused_at_deploy(session, people):
    deploy_form(session, (DATA / "retro_review.json").read_text().replace(
        '"default": "Delivery East"', '"maxLength": 100'), "retro_review.json")
    with pytest.raises(InvalidDefinition) as refused:
        deploy_flow(session, retro(), "retro.bpmn")
    [(where, what)] = refused.value.problems
    assert where == "retro.bpmn: every_two_weeks" and "no valid default for 'team'" in what


def test_a_start_that_fails_shows_why_and_the_schedule_goes_on(session, people, worker):
    publish(session, PUBLISHED)
    people["pm"].active = False
    session.commit()
    worker(FIRST)
    assert instances(session) == []
    first, second = session.scalars(select(WorkItem).where(
        WorkItem.kind == schedules.KIND, WorkItem.payload["flow"].as_string() == "retro")
        .order_by(WorkItem.id))
    assert "names no active user: user:pm" in first.last_error
    assert first.state == "pending" and first.due_at == FIRST + timedelta(minutes=2)  # a retry
    assert (second.state, second.due_at) == ("pending", SECOND)
