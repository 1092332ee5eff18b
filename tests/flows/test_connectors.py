"""Service tasks: connectors run by the worker once, retried with backoff, incidents retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from andon import clock, jobs
from andon.audit import history
from andon.errors import Forbidden, InvalidDefinition
from andon.flows import actions, queries, runtime, services
from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance
from andon.forms import records
from andon.forms.models import Record
from andon.forms.store import deploy_form
from andon.notifications.models import Notification

DATA = Path(__file__).parent.parent / "data" / "connectors"
RECORDS = DATA.parent / "records"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
REQUEST = {"title": "Export", "project": "ok", "reason": "R", "effort_days": "3",
           "customer_contact": "C"}


class Hooks:
    """The loopback's answers by path: /ok echoes the body; /busy is 503 and /gone 404
    until a test says otherwise. ``calls`` lists (path, body, X-Andon header) received."""

    busy, gone = 503, 404
    loopback: Any = None

    @classmethod
    def answer(cls, path: str, body: Any) -> tuple[int, Any]:
        return {"/busy": cls.busy, "/gone": cls.gone}.get(path, 200), {"ticket": 42,
                                                                      "echo": body}

    @classmethod
    def calls(cls) -> list[tuple[str, Any, str | None]]:
        return [(path, body, headers.get("X-Andon")) for path, headers, body in
                cls.loopback.received]

    @classmethod
    def keys(cls) -> list[str | None]:
        return [headers.get("Idempotency-Key") for _, headers, _ in cls.loopback.received]


@pytest.fixture
def server(loopback) -> str:
    """Run a real HTTP server on loopback; return its base address."""
    Hooks.busy, Hooks.gone = 503, 404
    Hooks.loopback = loopback(Hooks.answer)
    return Hooks.loopback.url


def deploy(session, name: str, server: str = "http://hooks.test") -> None:
    """Deploy a test flow, pointing its webhook at the loopback server."""
    xml = (DATA / name).read_text().replace("http://hooks.test", server).encode()
    with clock.frozen(T0):
        deploy_flow(session, xml, name)
    session.commit()


def start(session, people, flow: str, **changes) -> FlowInstance:
    """Start a flow at T0 as engineer1 and commit."""
    with clock.frozen(T0):
        instance = runtime.start_instance(session, flow, people["engineer1"],
                                          {**REQUEST, **changes})
    session.commit()
    return instance


def steps(session, instance: FlowInstance) -> dict[str, str]:
    """Map each step of an instance to the state of its latest task row."""
    session.expire_all()
    return {task.step_id: task.state for task in instance.tasks}


def items(session, instance: FlowInstance) -> list[jobs.WorkItem]:
    """Return the instance's service work items."""
    return list(session.scalars(select(jobs.WorkItem).where(
        jobs.WorkItem.instance_id == instance.id, jobs.WorkItem.kind == "service")
        .order_by(jobs.WorkItem.id)))


def test_a_service_step_waits_for_the_worker_outside_every_inbox(session, people, server):
    deploy(session, "webhook.bpmn", server)
    instance = start(session, people, "webhook_call")
    assert steps(session, instance) == {"submit": "completed"}
    assert Hooks.calls() == []  # nothing was called while the person submitted
    (item,) = items(session, instance)
    assert item.state == "pending" and item.payload["step"] == "call"
    assert list(session.scalars(queries.inbox(people["engineer1"]))) == []


def test_the_worker_calls_the_webhook_once_and_stores_the_answer(session, people, server,
                                                                 worker):
    deploy(session, "webhook.bpmn", server)
    instance = start(session, people, "webhook_call")
    worker(T0)
    worker(T0 + timedelta(minutes=10))
    assert [item.state for item in items(session, instance)] == ["done"]
    assert Hooks.calls() == [("/ok", {"title": "Export", "days": 3}, "yes")]
    session.expire_all()
    assert steps(session, instance) == {"submit": "completed", "review": "open"}
    assert instance.data["answer"] == {"status": 200,
                                       "body": {"ticket": 42, "echo": {"title": "Export",
                                                                       "days": 3}}}
    assert "service.completed" in [e.kind for e in history(session, "instance", instance.id)]


def test_a_busy_server_is_retried_with_backoff_until_it_answers(session, people, server,
                                                                worker):
    deploy(session, "webhook.bpmn", server)
    instance = start(session, people, "webhook_call", project="busy")
    worker(T0)
    (item,) = items(session, instance)
    assert item.state == "pending" and item.due_at == T0 + timedelta(minutes=2)
    worker(T0 + timedelta(minutes=1))
    assert len(Hooks.calls()) == 1  # not due yet
    worker(T0 + timedelta(minutes=2))
    assert len(Hooks.calls()) == 2
    session.expire_all()
    assert item.due_at == T0 + timedelta(minutes=2 + 4)  # the wait doubles
    Hooks.busy = 200
    worker(T0 + timedelta(minutes=6))
    assert steps(session, instance)["review"] == "open" and instance.status == "running"
    assert len(Hooks.keys()) == 3 and len(set(Hooks.keys())) == 1 and Hooks.keys()[0] == item.key
    assert services.incidents(session, instance) == []


def test_a_busy_server_after_the_last_attempt_is_an_incident(session, people, server, worker):
    deploy(session, "webhook.bpmn", server)
    instance = start(session, people, "webhook_call", project="busy")
    moment = T0
    for _ in range(jobs.MAX_ATTEMPTS):
        worker(moment)
        moment += timedelta(hours=1)
    assert len(Hooks.calls()) == jobs.MAX_ATTEMPTS
    session.expire_all()
    assert instance.status == "failed"
    (incident,) = services.incidents(session, instance)
    assert incident.attempts == jobs.MAX_ATTEMPTS and "503" in incident.error.render()


def test_a_missing_page_is_an_incident_at_once_and_a_retry_clears_it(session, people, server,
                                                                    worker):
    deploy(session, "webhook.bpmn", server)
    instance = start(session, people, "webhook_call", project="gone")
    worker(T0)
    session.expire_all()
    assert instance.status == "failed" and "review" not in steps(session, instance)
    (incident,) = services.incidents(session, instance)
    assert incident.step_id == "call" and incident.title["en"] == "Tell the tracker"
    assert incident.attempts == 1 and incident.last_try == T0
    assert incident.error.msgid == "%(url)s answered %(status)s"
    assert incident.error.params["status"] == 404
    failed = [e for e in history(session, "instance", instance.id) if e.kind == "service.failed"]
    assert failed[0].detail["step"] == "call" and "404" in failed[0].detail["error"]
    with pytest.raises(Forbidden):
        actions.retry(session, instance, people["engineer1"])
    session.rollback()
    Hooks.gone = 200  # the receiving side was fixed
    with clock.frozen(T0 + timedelta(hours=1)):
        actions.retry(session, instance, people["admin"])
    session.commit()
    assert instance.status == "running" and services.incidents(session, instance) == []
    worker(T0 + timedelta(hours=1))
    assert steps(session, instance)["review"] == "open"
    kinds = [e.kind for e in history(session, "instance", instance.id)]
    assert kinds.count("service.failed") == 1 and "instance.retried" in kinds


def test_a_retry_that_fails_again_shows_the_incident_again(session, people, server, worker):
    deploy(session, "webhook.bpmn", server)
    instance = start(session, people, "webhook_call", project="gone")
    worker(T0)
    with clock.frozen(T0 + timedelta(minutes=1)):
        actions.retry(session, instance, people["admin"])
    session.commit()
    worker(T0 + timedelta(minutes=1))
    session.expire_all()
    (incident,) = services.incidents(session, instance)
    assert instance.status == "failed" and incident.attempts == 1 and len(Hooks.calls()) == 2


def test_each_action_item_starts_a_tracked_flow_and_the_managers_are_told(session, people,
                                                                          worker):
    deploy(session, "action_items.bpmn")
    retro = start(session, people, "retro_actions", project="Apollo")
    worker(T0)  # one item per action item
    worker(T0)  # then the notification step
    worker(T0 + timedelta(hours=1))
    assert [item.payload["step"] for item in items(session, retro)] == ["track", "track", "tell"]
    assert {item.state for item in items(session, retro)} == {"done"}
    session.expire_all()
    children = list(session.scalars(select(FlowInstance).where(FlowInstance.parent_id == retro.id)
                                    .order_by(FlowInstance.id)))
    assert sorted((c.title, c.started_by.username) for c in children) == [
        ("Add a smoke test", "engineer2"), ("Fix the deploy script", "engineer1")]
    assert all(c.status == "running" and c.data["project"] == "Apollo" for c in children)
    assert all(c.parent.id == retro.id for c in children)
    assert steps(session, retro)["review"] == "open"
    managers = sorted(u.username for u in people["pm"].groups[0].members)
    notes = list(session.scalars(select(Notification).where(Notification.instance_id == retro.id,
                                                            Notification.kind == "flow")))
    assert sorted(session.get(type(people["pm"]), n.user_id).username for n in notes) == managers
    assert {n.params["text"] for n in notes} == {"2 action items are tracked"}
    assert retro.data["told"] == {"notified": managers}
    (told,) = session.scalars(select(Notification).where(Notification.instance_id == retro.id,
                                                          Notification.kind == "assigned"))
    assert told.user_id == people["engineer1"].id  # the review opened after the worker's step


def test_start_flow_with_invalid_data_is_an_incident_naming_the_field(session, people, worker):
    xml = (DATA / "action_items.bpmn").read_text().replace("'effort_days': 1", "'effort_days': 'x'")
    with clock.frozen(T0):
        deploy_flow(session, xml.encode(), "action_items.bpmn")
    session.commit()
    retro = start(session, people, "retro_actions")
    worker(T0)
    session.expire_all()
    incidents = services.incidents(session, retro)
    assert retro.status == "failed" and len(incidents) >= 1
    assert "effort_days" in incidents[0].error.render()
    assert session.scalars(select(FlowInstance).where(FlowInstance.parent_id == retro.id)).all() \
        == []


def test_deploy_names_each_bad_service_task(session, people):
    with pytest.raises(InvalidDefinition) as refused:
        deploy_flow(session, (DATA / "bad_services.bpmn").read_bytes(), "bad_services.bpmn")
    found = "\n".join(f"{where}: {what}" for where, what in refused.value.problems)
    assert "no_operator: A service task needs a spiff:serviceTaskOperator" in found
    assert "unknown: unknown connector 'fax'" in found
    assert "wrong_params: connector webhook has no parameter 'adress'" in found
    assert "wrong_params: connector webhook needs the parameter 'url'" in found
    assert "wrong_params: parameter 'method': method 'FETCH'" in found
    assert "bad_expression: parameter 'to': owner 'boss:everyone'" in found
    assert "bad_expression: parameter 'message': attribute access" in found


def test_a_suspended_flow_holds_its_service_steps_until_it_resumes(session, people, worker):
    deploy(session, "action_items.bpmn")
    retro = start(session, people, "retro_actions")
    actions.suspend(session, retro, people["admin"], "Waiting for the audit")
    session.commit()
    worker(T0)
    held = items(session, retro)
    assert [(i.state, i.attempts, i.due_at) for i in held] == [
        ("pending", 0, T0 + services.HOLD)] * 2
    assert session.scalars(select(FlowInstance).where(FlowInstance.parent_id == retro.id)).all() \
        == []
    actions.resume(session, retro, people["admin"])
    session.commit()
    worker(T0 + services.HOLD)
    session.expire_all()
    assert len(session.scalars(select(FlowInstance).where(
        FlowInstance.parent_id == retro.id)).all()) == 2


def test_the_record_connector_creates_a_record_and_then_updates_the_fields_given(
        session, people, worker):
    deploy_form(session, (RECORDS / "issue.json").read_text(), "issue.json")
    deploy(session, "record.bpmn")
    instance = start(session, people, "log_issue", project="low", effort_days="8")
    worker(T0)
    worker(T0 + timedelta(minutes=1))
    session.expire_all()
    assert instance.status == "completed"
    record = session.get(Record, instance.data["logged"]["record"])
    assert record.data == {"title": "Export", "severity": "low", "loss": 8000,
                           "recurring": True}
    assert record.created_by_id == people["engineer1"].id
    changes = list(session.scalars(records.history(record.id)))
    assert changes[0].changes == {"severity": ["high", "low"],
                                                         "recurring": [None, True]}


def test_record_data_the_form_refuses_is_an_incident_naming_the_field(session, people, worker):
    deploy_form(session, (RECORDS / "issue.json").read_text(), "issue.json")
    deploy(session, "record.bpmn")
    instance = start(session, people, "log_issue", project="urgent")
    worker(T0)
    worker(T0 + timedelta(minutes=1))
    session.expire_all()
    assert instance.status == "failed"
    [failed] = [e for e in history(session, "instance", instance.id) if e.kind == "service.failed"]
    assert "The data for issue is not valid: severity" in str(failed.detail["error"])


def test_find_records_lists_the_matching_records_oldest_first_with_the_fields_asked(
        session, people, worker):
    deploy_form(session, (RECORDS / "issue.json").read_text(), "issue.json")
    deploy(session, "find.bpmn")
    older = [records.create_record(session, "issue", {"title": title, "severity": severity,
                                                      "loss": 10}, people["pm"])
             for title, severity in (("Slow", "high"), ("Typo", "low"), ("Crash", "high"))]
    session.commit()
    instance = start(session, people, "find_issues")
    worker(T0)
    worker(T0 + timedelta(minutes=1))
    session.expire_all()
    assert instance.status == "completed"
    logged = session.get(Record, instance.data["logged"]["record"])
    assert logged.data == {"title": "Export", "severity": "high"}  # empty names not copied
    assert instance.data["found"] == {"count": 3, "records": [
        {"id": older[0].id, "title": "Slow", "loss": 10},
        {"id": older[2].id, "title": "Crash", "loss": 10}]}
