"""Why a task was late: a code of the cause taxonomy on the task, set through the runtime."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from andon import clock
from andon.audit import AuditEvent
from andon.errors import InvalidSubmission
from andon.flows import causes, runtime
from andon.flows.models import Task

REQUEST = {"title": "T", "project": "P", "reason": "R", "effort_days": "20",
           "customer_contact": "C"}
START = datetime.fromisoformat("2026-03-02T01:00:00+00:00")
LEAF = "external.system.contract_terms"


def review(session, people) -> Task:
    """Start a change request at START; return its project manager review (due in a day)."""
    with clock.frozen(START):
        instance = runtime.start_instance(session, "change_request", people["engineer1"],
                                          REQUEST)
    task = next(t for t in instance.tasks if t.state == "open")
    assert task.due_at is not None
    return task


def late(task: Task) -> datetime:
    """Return a moment a day after the task's due time."""
    due = task.due_at if task.due_at.tzinfo else task.due_at.replace(tzinfo=START.tzinfo)
    return due + timedelta(days=1)


def test_a_late_task_completed_with_its_cause_keeps_it_and_says_so(session, people):
    task = review(session, people)
    with clock.frozen(late(task)):
        runtime.complete_task(session, task.id, people["pm"], {"decision": "approve"},
                              cause=LEAF, cause_note="Scope unclear")
    session.commit()
    assert (task.state, task.cause, task.cause_note) == ("completed", LEAF, "Scope unclear")
    said = session.query(AuditEvent).filter_by(kind="task.cause").one()
    assert said.detail["cause"] == LEAF and said.detail["reason"] == "Scope unclear"
    assert causes.label(session, LEAF, "en") == (
        "External › System › Contract scope or acceptance criteria not clearly agreed")


def test_the_runtime_keeps_the_cause_optional(session, people):
    task = review(session, people)
    with clock.frozen(late(task)):
        runtime.complete_task(session, task.id, people["pm"], {"decision": "approve"})
    assert task.state == "completed" and task.cause is None


def test_a_cause_can_be_recorded_before_completing(session, people):
    task = review(session, people)
    with clock.frozen(late(task)):
        causes.record_cause(session, task.id, people["pm"], "internal.people.overload")
    assert (task.state, task.cause) == ("open", "internal.people.overload")


@pytest.mark.parametrize(("code", "message"), [
    ("", "Choose why this task is late (Cause)."),
    ("external.system", "Choose a more specific entry under"),
    ("weather", "weather is not in the list"),
])
def test_a_bad_cause_is_refused_naming_the_field(session, people, code, message):
    task = review(session, people)
    with clock.frozen(late(task)), pytest.raises(InvalidSubmission) as refused:
        causes.record_cause(session, task.id, people["pm"], code, "note")
    assert list(refused.value.errors) == ["cause"]
    assert message in refused.value.errors["cause"].render()
    assert task.cause is None


def test_a_task_on_time_takes_no_cause(session, people):
    task = review(session, people)
    with clock.frozen(START), pytest.raises(InvalidSubmission) as refused:
        runtime.complete_task(session, task.id, people["pm"], {"decision": "approve"},
                              cause=LEAF)
    assert "not past its due time" in refused.value.errors["cause"].render()


def test_the_cause_taxonomy_is_a_setting(session, people):
    task = review(session, people)
    causes.use_taxonomy("no_such_taxonomy")
    try:
        with clock.frozen(late(task)), pytest.raises(InvalidSubmission) as refused:
            causes.record_cause(session, task.id, people["pm"], LEAF)
        assert "no_such_taxonomy" in refused.value.errors["cause"].render()
    finally:
        causes.use_taxonomy(causes.DEFAULT_TAXONOMY)
