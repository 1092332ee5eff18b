"""Deadlines, reminders and escalations with a fixed clock, through the worker."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import clock, jobs
from andon.audit import history
from andon.flows import deadlines, queries, runtime
from andon.flows.bpmn import load_bpmn
from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance, Task
from andon.i18n import localize
from andon.identity.models import User
from andon.notifications.models import Notification

SHANGHAI = ZoneInfo("Asia/Shanghai")
FLOW = Path("definitions/flows/change_request.bpmn").read_text()
REQUEST = {"title": "Export", "project": "P", "reason": "R", "effort_days": "20",
           "customer_contact": "C"}


def at(text: str) -> datetime:
    """Return a Shanghai wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def started(session: Session, people, moment: datetime, **changes) -> FlowInstance:
    """Start a change request at a moment and commit."""
    with clock.frozen(moment):
        instance = runtime.start_instance(session, "change_request", people["engineer1"],
                                          {**REQUEST, **changes})
        session.commit()
    return instance


def notes(session: Session, username: str, digests: bool = False) -> list[str]:
    """Return the kinds of notifications a person has, oldest first (digests if asked)."""
    session.expire_all()
    query = (select(Notification.kind).join(User, Notification.user_id == User.id)
             .where(User.username == username).order_by(Notification.id))
    return [kind for kind in session.scalars(query) if digests or kind != "digest"]


def review_of(instance: FlowInstance) -> Task:
    """Return the instance's open task."""
    (task,) = [t for t in instance.tasks if t.state == "open"]
    return task


def test_due_time_counts_working_days_across_the_spring_festival(session, people):
    instance = started(session, people, at("2026-02-13T10:00"))  # Friday before 春节
    review = review_of(instance)
    # Saturday 14 February is a make-up working day; 15–23 February are holidays.
    assert review.due_at.astimezone(SHANGHAI) == at("2026-02-24T10:00")
    assert deadlines.status(review, at("2026-02-14T10:00")) == "on_track"
    assert deadlines.status(review, at("2026-02-23T12:00")) == "at_risk"
    assert deadlines.status(review, at("2026-02-24T10:00")) == "overdue"


def test_reminder_then_escalations_fire_once_each(session, people, worker):
    instance = started(session, people, at("2026-03-02T10:00"))  # Monday
    review = review_of(instance)
    assert review.due_at.astimezone(SHANGHAI) == at("2026-03-04T10:00")

    worker(at("2026-03-03T14:59"))
    assert notes(session, "pm") == ["assigned"]
    worker(at("2026-03-03T15:00"))  # four working hours before: 15:00–18:00 and 09:00–10:00
    assert notes(session, "pm") == ["assigned", "reminder"]
    worker(at("2026-03-03T16:00"))  # runs the reminder's email item, reminds nobody again
    assert notes(session, "pm") == ["assigned", "reminder"]

    worker(at("2026-03-04T10:00"))  # level 1: the starter's manager
    assert notes(session, "pm") == ["assigned", "reminder", "escalation"]
    assert notes(session, "director") == []
    worker(at("2026-03-05T10:00"))  # level 2, one working day later: the directors
    assert notes(session, "director") == ["escalation"]
    session.expire_all()
    assert review_of(instance).escalation_level == 2
    kinds = [e.kind for e in history(session, "instance", instance.id)]
    assert kinds.count("task.reminded") == 1 and kinds.count("task.escalated") == 2


def test_completing_in_time_cancels_what_was_planned(session, people, worker):
    instance = started(session, people, at("2026-03-02T10:00"), effort_days="3")
    with clock.frozen(at("2026-03-02T11:00")):
        runtime.complete_task(session, review_of(instance).id, people["pm"],
                              {"decision": "approve"})
        session.commit()
    worker(at("2026-03-09T09:00"))
    assert notes(session, "pm") == ["assigned"]
    states = set(session.scalars(select(jobs.WorkItem.state)
                                 .where(jobs.WorkItem.task_id.is_not(None))))
    assert states == {"cancelled"}


def test_reassign_gives_the_task_to_the_escalation_target(session, people, worker):
    source = FLOW.replace("P2D notify role:leader", "P2D reassign user:leader")
    with clock.frozen(at("2026-03-01T00:00")):
        deploy_flow(session, source.encode(), "change_request.bpmn")
        session.commit()
    instance = started(session, people, at("2026-03-02T09:30"))
    with clock.frozen(at("2026-03-02T10:00")):
        runtime.complete_task(session, review_of(instance).id, people["pm"],
                              {"decision": "approve"})
        session.commit()
    approval = review_of(instance)  # the director's step: P3D, then P2D reassign role:leader
    assert approval.due_at.astimezone(SHANGHAI) == at("2026-03-05T10:00")
    worker(at("2026-03-09T10:00"))
    session.expire_all()
    assert approval.assignee.username == "leader"
    assert [t.id for t in session.scalars(queries.inbox(people["leader"]))] == [
        approval.id]
    assert notes(session, "leader") == ["assigned"]  # told once that the task is theirs now
    text = session.scalars(select(Notification.message).order_by(Notification.id.desc())).first()
    assert text.startswith("Overdue task now yours")


def test_automatic_completion_sends_the_step_on(session, people, worker):
    source = FLOW.replace("PT0S notify manager:starter; P1D notify group:delivery-directors",
                          "PT0S complete decision=reject, comment=No answer in time")
    with clock.frozen(at("2026-03-01T00:00")):
        deploy_flow(session, source.encode(), "change_request.bpmn")
        session.commit()
    instance = started(session, people, at("2026-03-02T10:00"))
    worker(at("2026-03-04T10:00"))
    session.expire_all()
    assert instance.status == "completed" and instance.data["outcome"] == "rejected"
    done = [t for t in instance.tasks if t.step_id == "pm_review"][0]
    assert done.completed_by_id is None and done.data["comment"] == "No answer in time"


@pytest.mark.parametrize(("escalation", "complaint"), [
    ("P1D shout group:x", "notify|reassign|complete"),
    ("P1D reassign group:engineers", "one person"),
    ("P2D notify starter; P1D notify manager:starter", "order"),
    ("P1D notify manger:starter", "manger"),
    ("P1D complete decision", "field=value"),
    ("P1X notify starter", "P1X"),
])
def test_bad_timing_is_refused_at_load_naming_the_step(escalation, complaint):
    source = FLOW.replace("PT0S notify manager:starter; P1D notify group:delivery-directors",
                          escalation)
    with pytest.raises(Exception) as caught:
        load_bpmn(source.encode(), "cr.bpmn")
    assert any(where == "cr.bpmn: pm_review" and any(c in what for c in complaint.split("|"))
               for where, what in caught.value.problems)


def test_a_work_item_is_leased_to_one_worker_and_retried_with_backoff(session, people):
    now = at("2026-03-02T09:00")
    first = jobs.schedule(session, "remind", "k:1", now)
    assert jobs.schedule(session, "remind", "k:1", now).id == first.id  # one per key
    session.commit()
    with clock.frozen(now):
        assert jobs.claim(session, now, "a") == [first.id]
        session.commit()
    later = now + timedelta(minutes=1)
    with clock.frozen(later):
        assert jobs.claim(session, later, "b") == []  # leased to a
        session.commit()
    expired = now + timedelta(minutes=6)
    with clock.frozen(expired):
        assert jobs.claim(session, expired, "b") == [first.id]  # a's lease ran out
        session.commit()
        ran: list[int] = []
        work = {"remind": lambda _s, item, _n: ran.append(item.id)}
        assert not jobs.perform(session, first.id, work, expired, "a")  # too slow: not a's
        assert ran == []
        assert jobs.record_failure(session, first.id, RuntimeError("x"), expired, "a") is None
        jobs.record_failure(session, first.id, RuntimeError("smtp down"), expired, "b")
        assert first.state == "pending" and first.due_at == expired + timedelta(minutes=4)
    for attempt in range(jobs.MAX_ATTEMPTS - 2):
        moment = first.due_at
        with clock.frozen(moment):
            assert jobs.claim(session, moment, f"w{attempt}") == [first.id]
            jobs.record_failure(session, first.id, RuntimeError("smtp down"), moment,
                                f"w{attempt}")
    assert first.state == "failed" and "smtp down" in first.last_error


def test_managers_get_one_digest_a_day_when_their_team_is_late(session, people, worker):
    from andon.flows import digests  # noqa: F401  (the worker plans digests itself)

    started(session, people, at("2026-03-02T10:00"))
    worker(at("2026-03-03T09:30"))  # nothing overdue yet: no digest
    assert "digest" not in notes(session, "pm", digests=True)
    worker(at("2026-03-05T09:30"))
    worker(at("2026-03-05T16:00"))  # the same day again: still one
    assert notes(session, "pm", digests=True).count("digest") == 1  # pm manages the unit
    worker(at("2026-03-06T09:30"))
    assert notes(session, "pm", digests=True).count("digest") == 2
    assert "digest" not in notes(session, "engineer1", digests=True)
    units = queries.managed_units(session, people["pm"])
    overdue = list(session.scalars(queries.team_overdue(units, at("2026-03-06T09:30"))))
    assert [t.step_id for t in overdue] == ["pm_review"]


def test_people_an_escalation_told_may_open_the_record(session, people, worker):
    instance = started(session, people, at("2026-03-02T10:00"))
    assert not queries.can_view(session, instance, people["director"])
    worker(at("2026-03-05T10:00"))  # level 2 tells the delivery directors
    assert notes(session, "director") == ["escalation"]
    assert queries.can_view(session, instance, people["director"])


@pytest.mark.parametrize(("due", "before", "working", "expected"), [
    ("2026-03-06T10:00", "PT4H", True, "2026-03-05T15:00"),   # Friday: back into Thursday
    ("2026-03-09T10:00", "PT2H", True, "2026-03-06T17:00"),   # Monday: back over the weekend
    ("2026-02-24T10:00", "P1D", True, "2026-02-14T10:00"),    # over 春节 to the make-up Saturday
    ("2026-03-06T10:00", "PT4H", False, "2026-03-06T06:00"),  # calendar time: on the clock
])
def test_reminders_count_back_in_the_deadlines_own_time(due, before, working, expected):
    import json

    from andon.flows.calendars import load_calendar, parse_duration

    calendar = load_calendar(json.loads(Path("definitions/calendars/cn-mainland.json")
                                        .read_text()), "cn")
    moment = deadlines.reminder_time(calendar, at(due), parse_duration(before), working)
    assert moment.astimezone(SHANGHAI) == at(expected)


# Deadlines from an expression over instance data

DATED = Path(__file__).parent.parent / "data" / "deadlines"


def deploy_acceptance(session: Session, **replace: str) -> None:
    """Deploy the acceptance form and flow, with text of the flow replaced."""
    from andon.forms.store import deploy_form

    source = (DATED / "acceptance.bpmn").read_text()
    for old, new in replace.items():
        source = source.replace(old, new)
    with clock.frozen(at("2026-03-01T00:00")):
        deploy_form(session, (DATED / "acceptance.json").read_text(), "acceptance.json")
        deploy_flow(session, source.encode(), "acceptance.bpmn")
        session.commit()


def accepted(session: Session, people, moment: datetime, **form: str) -> FlowInstance:
    """Start an acceptance at a moment and commit."""
    with clock.frozen(moment):
        instance = runtime.start_instance(session, "acceptance", people["engineer1"],
                                          {"title": "Acceptance", **form})
        session.commit()
    return instance


def items_of(session: Session, task: Task) -> dict[str, tuple[datetime, str]]:
    """Map a task's work item keys to their Shanghai due time and state."""
    session.expire_all()
    rows = session.scalars(select(jobs.WorkItem).where(
        jobs.WorkItem.task_id == task.id, jobs.WorkItem.kind.in_(("remind", "escalate"))))
    return {row.key.rsplit(":", 2)[0] + ":" + row.key.rsplit(":", 1)[1]:
            (row.due_at.astimezone(SHANGHAI), row.state) for row in rows}


def test_a_date_field_minus_an_offset_is_due_at_the_end_of_that_working_day(
        session, people, worker):
    deploy_acceptance(session)
    instance = accepted(session, people, at("2026-03-02T10:00"), acceptance_date="2026-03-12")
    prepare = review_of(instance)
    assert prepare.due_at.astimezone(SHANGHAI) == at("2026-03-10T18:00")  # Tuesday evening
    assert items_of(session, prepare) == {"remind:0": (at("2026-03-10T14:00"), "pending"),
                                          "escalate:0": (at("2026-03-10T18:00"), "pending")}
    worker(at("2026-03-10T13:59"))
    assert notes(session, "pm") == ["assigned"]
    worker(at("2026-03-10T14:00"))  # four working hours before: 14:00–18:00
    assert notes(session, "pm") == ["assigned", "reminder"]
    worker(at("2026-03-10T18:00"))
    assert notes(session, "pm") == ["assigned", "reminder", "escalation"]


@pytest.mark.parametrize(("acceptance", "time", "due"), [
    ("2026-05-06", "working", "2026-04-30T18:00"),  # 4 May is in the 劳动节 holiday
    ("2026-03-16", "working", "2026-03-13T18:00"),  # Saturday 14 March: Friday evening
    ("2026-05-06", "calendar", "2026-05-04T23:59:59"),  # calendar time: the day itself
])
def test_a_due_date_on_a_day_off_means_the_working_day_before(session, people, acceptance,
                                                              time, due):
    reminder = '<spiff:property name="remind_before" value="PT4H"/>'
    deploy_acceptance(session, **{
        reminder: f'<spiff:property name="deadline_time" value="{time}"/>{reminder}'})
    instance = accepted(session, people, at("2026-03-02T10:00"), acceptance_date=acceptance)
    assert review_of(instance).due_at.astimezone(SHANGHAI) == at(due)


def test_a_date_time_expression_is_the_due_time_itself(session, people):
    deploy_acceptance(session, **{
        'date(acceptance_date) - duration(&quot;P2D&quot;)':
            'datetime(date(acceptance_date)) + duration(&quot;PT10H&quot;)'})
    instance = accepted(session, people, at("2026-03-02T10:00"), acceptance_date="2026-03-12")
    # datetime() of a date is midnight in the flow calendar's time zone
    assert review_of(instance).due_at.astimezone(SHANGHAI) == at("2026-03-12T10:00")


@pytest.mark.parametrize(("expression", "form", "reason"), [
    ("date(acceptance_date) - duration(&quot;P2D&quot;)", {}, "Unknown name 'acceptance_date'"),
    ("date(title)", {"acceptance_date": "2026-03-12"}, "YYYY-MM-DD"),
    ("len(title)", {}, "not a date or date-time"),
])
def test_a_failing_deadline_expression_opens_the_task_without_a_due_time(
        session, people, worker, expression, form, reason):
    deploy_acceptance(session, **{'date(acceptance_date) - duration(&quot;P2D&quot;)': expression})
    instance = accepted(session, people, at("2026-03-02T10:00"), **form)
    prepare = review_of(instance)
    assert instance.status == "running" and prepare.due_at is None
    assert items_of(session, prepare) == {}
    [event] = [e for e in history(session, "instance", instance.id)
               if e.kind == "task.deadline_unset"]
    assert event.detail["step"] == "prepare" and reason in localize(event.detail["reason"], "en")
    worker(at("2026-04-02T10:00"))  # nothing to chase, nothing breaks
    assert notes(session, "pm") == ["assigned"]


@pytest.mark.parametrize(("props", "complaint"), [
    ('<spiff:property name="deadline" value="P2D"/>', "either deadline"),
    ("", None),
])
def test_deadline_and_deadline_at_exclude_each_other(props, complaint):
    source = (DATED / "acceptance.bpmn").read_text().replace(
        '<spiff:property name="remind_before"', props + '<spiff:property name="remind_before"')
    if complaint is None:
        load_bpmn(source.encode(), "acceptance.bpmn")
        return
    with pytest.raises(Exception) as caught:
        load_bpmn(source.encode(), "acceptance.bpmn")
    assert any(where == "acceptance.bpmn: prepare" and complaint in what
               for where, what in caught.value.problems)


@pytest.mark.parametrize(("expression", "complaint"), [
    ("date(acceptance_date", "Syntax error"),
    ("date(acceptance_date).year", "attribute access"),
    ("__import__(&quot;os&quot;)", "__import__"),
])
def test_a_bad_deadline_expression_is_refused_at_load_naming_the_step(expression, complaint):
    source = (DATED / "acceptance.bpmn").read_text().replace(
        "date(acceptance_date) - duration(&quot;P2D&quot;)", expression)
    with pytest.raises(Exception) as caught:
        load_bpmn(source.encode(), "acceptance.bpmn")
    assert any(where == "acceptance.bpmn: prepare" and "deadline_at" in what
               and complaint in what for where, what in caught.value.problems)


# A suspension gives the time back

def suspended(session: Session, people, instance: FlowInstance, since: datetime,
              until: datetime, worker=None, during: tuple[datetime, ...] = ()) -> None:
    """Suspend an instance at ``since``, run the worker at ``during``, resume at ``until``."""
    from andon.flows import actions

    with clock.frozen(since):
        actions.suspend(session, instance, people["admin"], "Waiting for the customer")
        session.commit()
    for moment in during:
        worker(moment)
    with clock.frozen(until):
        actions.resume(session, instance, people["admin"])
        session.commit()


def test_a_suspension_over_a_weekend_moves_the_working_deadline_by_the_working_time_lost(
        session, people, worker):
    instance = started(session, people, at("2026-03-05T10:00"))  # Thursday
    review = review_of(instance)
    assert review.due_at.astimezone(SHANGHAI) == at("2026-03-09T10:00")
    assert items_of(session, review)["remind:0"][0] == at("2026-03-06T15:00")
    # Suspended Friday 14:00 to Monday 11:00: 4 working hours on Friday, 2 on Monday.
    suspended(session, people, instance, at("2026-03-06T14:00"), at("2026-03-09T11:00"), worker,
              during=(at("2026-03-06T15:00"), at("2026-03-09T10:00")))
    assert notes(session, "pm") == ["assigned"]  # neither the reminder nor the escalation fired
    review = review_of(instance)
    assert review.due_at.astimezone(SHANGHAI) == at("2026-03-09T17:30")
    assert items_of(session, review) == {
        "remind:0": (at("2026-03-09T13:30"), "pending"),
        "escalate:0": (at("2026-03-09T17:30"), "pending"),
        "escalate:1": (at("2026-03-10T17:30"), "pending")}
    [moved] = [e for e in history(session, "instance", instance.id)
               if e.kind == "task.deadline_moved"]
    assert datetime.fromisoformat(moved.detail["before"]) == at("2026-03-09T10:00")
    assert datetime.fromisoformat(moved.detail["after"]) == at("2026-03-09T17:30")
    worker(at("2026-03-09T13:29"))
    assert notes(session, "pm") == ["assigned"]
    worker(at("2026-03-09T13:30"))
    worker(at("2026-03-09T17:30"))
    assert notes(session, "pm") == ["assigned", "reminder", "escalation"]


def test_a_suspension_that_only_covers_time_off_moves_nothing(session, people, worker):
    instance = started(session, people, at("2026-03-05T10:00"))
    # Friday evening to Monday morning, and then over 清明 (Saturday 4 to Monday 6 April).
    suspended(session, people, instance, at("2026-03-06T18:30"), at("2026-03-09T08:30"), worker,
              during=(at("2026-03-07T12:00"),))
    review = review_of(instance)
    assert review.due_at.astimezone(SHANGHAI) == at("2026-03-09T10:00")
    assert items_of(session, review)["escalate:0"] == (at("2026-03-09T10:00"), "pending")
    kinds = [e.kind for e in history(session, "instance", instance.id)]
    assert "task.deadline_moved" not in kinds and "instance.resumed" in kinds


def test_a_suspension_over_a_holiday_gives_back_working_time_only(session, people, worker):
    instance = started(session, people, at("2026-04-02T10:00"))  # Thursday before 清明
    review = review_of(instance)
    assert review.due_at.astimezone(SHANGHAI) == at("2026-04-07T10:00")  # Fri, (4–6 off), Tue
    # Suspended Friday 17:00 to Tuesday 10:00: one hour on Friday, one on Tuesday.
    suspended(session, people, instance, at("2026-04-03T17:00"), at("2026-04-07T10:00"), worker,
              during=(at("2026-04-07T09:59"),))
    assert review_of(instance).due_at.astimezone(SHANGHAI) == at("2026-04-07T12:00")


def test_what_fired_before_a_suspension_does_not_fire_again(session, people, worker):
    instance = started(session, people, at("2026-03-02T10:00"))  # due Wednesday 10:00
    worker(at("2026-03-03T15:00"))
    assert notes(session, "pm") == ["assigned", "reminder"]
    # Tuesday 16:00 to Wednesday 09:30: two and a half working hours back.
    suspended(session, people, instance, at("2026-03-03T16:00"), at("2026-03-04T09:30"))
    review = review_of(instance)
    assert review.due_at.astimezone(SHANGHAI) == at("2026-03-04T14:00")
    assert items_of(session, review)["remind:0"] == (at("2026-03-03T15:00"), "done")
    worker(at("2026-03-04T10:00"))
    assert notes(session, "pm") == ["assigned", "reminder"]
    worker(at("2026-03-04T14:00"))
    assert notes(session, "pm") == ["assigned", "reminder", "escalation"]
    assert set(items_of(session, review)) == {"remind:0", "escalate:0", "escalate:1"}


def test_a_calendar_time_deadline_moves_by_the_clock_time_suspended(session, people):
    source = FLOW.replace('<spiff:property name="deadline" value="P2D"/>',
                          '<spiff:property name="deadline" value="P2D"/>'
                          '<spiff:property name="deadline_time" value="calendar"/>')
    with clock.frozen(at("2026-03-01T00:00")):
        deploy_flow(session, source.encode(), "change_request.bpmn")
        session.commit()
    instance = started(session, people, at("2026-03-06T10:00"))  # Friday
    assert review_of(instance).due_at.astimezone(SHANGHAI) == at("2026-03-08T10:00")
    suspended(session, people, instance, at("2026-03-06T12:00"), at("2026-03-07T15:30"))
    review = review_of(instance)
    assert review.due_at.astimezone(SHANGHAI) == at("2026-03-09T13:30")
    assert items_of(session, review)["remind:0"] == (at("2026-03-09T09:30"), "pending")
