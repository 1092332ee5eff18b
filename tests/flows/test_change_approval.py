"""The shipped change approval: small, large, rejected and late changes to a project."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import catalog, clock, files, jobs
from andon.audit import history
from andon.errors import InvalidSubmission
from andon.flows import connectors, lint, owners, runtime
from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance, Task
from andon.forms import file_fields, records
from andon.forms.models import Record
from andon.forms.schema import FormSpec
from andon.identity.models import User
from andon.notifications.models import Notification

ROOT = Path(__file__).resolve().parent.parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
PROJECT = {"name": "华东电网调度平台 Grid dispatch platform", "code": "PRJ-2026-031",
           "client": "华东电网 East China Grid", "region": "华东 East", "status": "active",
           "project_manager": "pm", "delivery_director": "director",
           "start_date": "2026-01-05", "end_date": "2026-06-30",
           "contract_value": 2400000, "budget_amount": 1500000, "cost_to_date": 300000,
           "effort": [{"role": "Developer", "budget_days": 400, "actual_days": 80}]}
Worker = Callable[[datetime], int]


def at(text: str) -> datetime:
    """Return a Shanghai wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def project(session: Session, people: dict[str, User]) -> Record:
    """Create the project record, as an administrator."""
    record = records.create_record(session, "project", PROJECT, people["admin"])
    session.commit()
    return record


def request(record: Record, development: str, deployment: str, **changes: Any) -> dict[str, Any]:
    """Return a change request form against the project."""
    return {"title": "双活数据中心 Active-active data centre", "project": str(record.id),
            "reason": "客户要求 The customer asked for a second site",
            "scope": "Replicate the database and the message bus",
            "development_days": development, "deployment_days": deployment,
            "cost_impact": "48000", "schedule_impact_days": "14",
            "requester": "刘洋 Liu Yang", **changes}


def start(session: Session, people: dict[str, User], form: dict[str, Any],
          moment: datetime) -> FlowInstance:
    """Start a change as engineer1 at a moment."""
    with clock.frozen(moment):
        instance = runtime.start_instance(session, "change_approval", people["engineer1"], form)
        session.commit()
    return instance


def waiting(instance: FlowInstance) -> Task:
    """Return the instance's one open task."""
    (task,) = [t for t in instance.tasks if t.state == "open"]
    return task


def finish(session: Session, instance: FlowInstance, moment: datetime,
           form: dict[str, Any]) -> Task:
    """Complete the open task as its assignee at a moment; return it."""
    task = waiting(instance)
    with clock.frozen(moment):
        runtime.complete_task(session, task.id, task.assignee, form)
        session.commit()
    return task


def confirmation(session: Session, people: dict[str, User], tmp_path: Path,
                 development: str, deployment: str) -> dict[str, Any]:
    """Upload the customer's signed sheet as the project manager; return the form."""
    spec = FormSpec(**catalog.current(session, "form", "change_confirmation").content)
    kept = file_fields.receive(session, files.UploadSettings(folder=tmp_path), spec, "evidence",
                               io.BytesIO(b"%PDF-1.4 signed"), "change-sheet.pdf", people["pm"])
    return {"customer_result": "confirmed", "confirmed_development_days": development,
            "confirmed_deployment_days": deployment, "signed_by": "刘洋 Liu Yang",
            "signed_on": "2026-03-05", "evidence": [str(kept.id)]}


def settle(session: Session, worker: Worker, moment: datetime) -> None:
    """Let the worker run the service steps that wait (each queues the next)."""
    for _ in range(4):
        worker(moment)
    session.expire_all()


def changes_of(session: Session, record: Record) -> list[Record]:
    """Return the project_change records of a project."""
    return [r for r in session.scalars(select(Record).where(Record.form_key == "project_change"))
            if r.data["project"] == record.id]


def test_the_definitions_load_and_the_flow_has_no_findings(session, people):
    source = (ROOT / "definitions" / "flows" / "change_approval.bpmn").read_bytes()
    assert lint.findings(session, source, "change_approval.bpmn") == []
    content = catalog.current(session, "flow", "change_approval").content
    assert set(content["forms"]) == {"change_start", "change_decision", "change_confirmation"}
    assert content["start_form"] == "change_start"


def test_a_small_change_needs_the_project_manager_and_the_customer_only(
        session, people, tmp_path, worker):
    record = project(session, people)
    instance = start(session, people, request(record, "6", "2"), at("2026-03-02T10:00"))
    assert instance.project == str(record.id)
    review = waiting(instance)
    assert (review.step_id, review.assignee.username) == ("pm_review", "pm")
    assert review.due_at.astimezone(SHANGHAI) == at("2026-03-04T10:00")  # 2 working days
    finish(session, instance, at("2026-03-02T15:00"), {"decision": "approve",
                                                       "comment": "Fits the plan"})
    confirm = waiting(instance)  # 8 man-days: no director
    assert (confirm.step_id, confirm.assignee.username) == ("customer_confirmation", "pm")
    finish(session, instance, at("2026-03-05T10:00"),
           confirmation(session, people, tmp_path, "5", "2"))
    settle(session, worker, at("2026-03-05T10:05"))
    assert instance.status == "completed" and instance.outcome["en"] == "Change approved"
    session.refresh(record)
    assert record.data["budget_amount"] == 1548000
    assert record.data["end_date"] == "2026-07-14"
    assert [row["budget_days"] for row in record.data["effort"]] == [400, 5, 2]
    assert record.data["changes"] == [{
        "title": "双活数据中心 Active-active data centre", "status": "approved", "days": 7,
        "cost": 48000, "schedule_days": 14, "decided_on": "2026-03-05"}]
    (change,) = changes_of(session, record)
    assert (change.data["status"], change.data["requested_days"],
            change.data["approved_days"], change.data["project_code"]) == (
        "approved", 8, 7, "PRJ-2026-031")
    assert [row["step"] for row in change.data["trail"]] == ["Project manager review",
                                                              "Customer confirmation"]


def test_a_large_change_goes_to_the_director_and_updates_the_project_on_confirmation(
        session, people, tmp_path, worker):
    record = project(session, people)
    instance = start(session, people, request(record, "30", "10.5"), at("2026-03-02T10:00"))
    finish(session, instance, at("2026-03-03T10:00"), {"decision": "approve",
                                                       "comment": "Needed for go-live"})
    approval = waiting(instance)
    assert (approval.step_id, approval.assignee.username) == ("director_approval", "director")
    assert approval.due_at.astimezone(SHANGHAI) == at("2026-03-06T10:00")  # 3 working days
    finish(session, instance, at("2026-03-04T10:00"), {"decision": "approve",
                                                       "comment": "Within the margin"})
    assert session.get(Record, record.id).data.get("changes") is None  # not before the customer
    finish(session, instance, at("2026-03-05T10:00"),
           confirmation(session, people, tmp_path, "28", "10"))
    settle(session, worker, at("2026-03-05T10:05"))
    session.refresh(record)
    assert record.data["budget_amount"] == 1548000
    assert record.data["effort"][1:] == [
        {"role": "变更 Change: 双活数据中心 Active-active data centre - 开发 development",
         "budget_days": 28},
        {"role": "变更 Change: 双活数据中心 Active-active data centre - 部署 deployment",
         "budget_days": 10}]
    (latest, *_) = session.scalars(records.history(record.id))
    assert latest.by_id == people["engineer1"].id  # the requester, on whose behalf
    assert latest.at.astimezone(SHANGHAI) == at("2026-03-05T10:05")
    assert set(latest.changes) == {"budget_amount", "cost_consumed", "end_date", "effort",
                                   "changes"}  # the consumed share is computed again
    kinds = [e.kind for e in history(session, "record", record.id)]
    assert "record.updated_by_flow" in kinds
    (change,) = changes_of(session, record)
    assert (change.data["requested_days"], change.data["approved_days"]) == (40.5, 38)
    assert len(change.data["trail"]) == 3


def test_a_rejected_change_keeps_its_record_and_leaves_the_budget(
        session, people, worker):
    record = project(session, people)
    instance = start(session, people, request(record, "40", "0"), at("2026-03-02T10:00"))
    finish(session, instance, at("2026-03-02T11:00"), {"decision": "approve",
                                                       "comment": "Worth it"})
    finish(session, instance, at("2026-03-02T12:00"), {"decision": "reject",
                                                       "comment": "Not in this contract"})
    settle(session, worker, at("2026-03-02T12:05"))
    assert instance.outcome["en"] == "Change rejected"
    session.refresh(record)
    assert (record.data["budget_amount"], record.data["end_date"]) == (1500000, "2026-06-30")
    assert len(record.data["effort"]) == 1
    assert [c["status"] for c in record.data["changes"]] == ["rejected"]
    (change,) = changes_of(session, record)
    assert (change.data["status"], change.data["requested_days"],
            change.data["approved_days"]) == ("rejected", 40, 0)
    assert change.data["trail"][-1] == {"step": "Delivery director approval",
                                        "decision": "reject",
                                        "comment": "Not in this contract"}


def test_the_confirmation_needs_the_customers_written_evidence(session, people, tmp_path):
    record = project(session, people)
    instance = start(session, people, request(record, "2", "1"), at("2026-03-02T10:00"))
    finish(session, instance, at("2026-03-02T11:00"), {"decision": "approve", "comment": "OK"})
    form = confirmation(session, people, tmp_path, "2", "1")
    form.pop("evidence")
    with pytest.raises(InvalidSubmission) as refused:
        finish(session, instance, at("2026-03-02T12:00"), form)
    assert list(refused.value.errors) == ["evidence"]
    session.rollback()
    assert waiting(instance).step_id == "customer_confirmation"


def test_a_late_review_escalates_to_the_requester_the_director_then_all_directors(
        session, people, worker):
    record = project(session, people)
    instance = start(session, people, request(record, "3", "1"), at("2026-03-02T10:00"))
    review = waiting(instance)
    planned = session.scalars(select(jobs.WorkItem).where(
        jobs.WorkItem.task_id == review.id, jobs.WorkItem.kind == "escalate")
        .order_by(jobs.WorkItem.due_at))
    assert [(i.payload["target"], i.due_at.astimezone(SHANGHAI)) for i in planned] == [
        ("starter", at("2026-03-04T10:00")),
        ("record:project.delivery_director", at("2026-03-05T10:00")),
        ("group:delivery-directors", at("2026-03-09T10:00"))]  # over the weekend

    def told(username: str) -> int:
        session.expire_all()
        return len(session.scalars(
            select(Notification).join(User, Notification.user_id == User.id)
            .where(User.username == username, Notification.kind == "escalation")).all())

    worker(at("2026-03-04T10:00"))
    assert (told("engineer1"), told("director")) == (1, 0)
    worker(at("2026-03-05T10:00"))
    assert told("director") == 1
    finish(session, instance, at("2026-03-06T09:00"), {"decision": "reject",
                                                       "comment": "Sorry, late: no"})
    worker(at("2026-03-09T10:00"))
    assert told("director") == 1  # the review was done before the last level
    kinds = [e.kind for e in history(session, "instance", instance.id)]
    assert kinds.count("task.escalated") == 2


def deploy_update(session: Session, *settings: tuple[str, str]) -> None:
    """Deploy the test flow whose service step sets these project fields."""
    lines = "\n".join(f'<spiff:parameter id="set.{name}" type="any" value="{text}"/>'
                      for name, text in settings)
    source = (ROOT / "tests" / "data" / "record_updates" / "project_update.bpmn").read_text()
    deploy_flow(session, source.replace("SETTINGS", lines).encode(), "project_update.bpmn")
    session.commit()


@pytest.mark.parametrize(("settings", "error"), [
    ((("budget_amount", "12"), ("budgett", "1")), "The form project has no field budgett"),
    ((("budget_amount", "12"), ("end_date", "str(date(record['ending']))")),
     "The new value of the field end_date could not be evaluated: subscript failed: 'ending'"),
    ((("budget_amount", "record['budget_amount'] - 2000000"),),
     "The updated record {id} of form project is not valid: budget_amount"),
])
def test_a_bad_update_fails_naming_the_field_and_changes_nothing(
        session, people, worker, settings, error):
    record = project(session, people)
    deploy_update(session, *settings)
    with clock.frozen(at("2026-03-02T10:00")):
        instance = runtime.start_instance(session, "project_update", people["engineer1"],
                                          request(record, "1", "1"))
        session.commit()
    settle(session, worker, at("2026-03-02T10:00"))
    assert instance.status == "failed"
    [failed] = [e for e in history(session, "instance", instance.id) if e.kind == "service.failed"]
    assert error.format(id=record.id) in str(failed.detail["error"])
    session.refresh(record)
    assert record.data["budget_amount"] == 1500000 and record.lock_version == 1
    assert len(list(session.scalars(records.history(record.id)))) == 1


def test_a_good_update_through_the_test_flow_returns_the_new_values(session, people, worker):
    record = project(session, people)
    deploy_update(session, ("budget_amount", "record['budget_amount'] + cost_impact"),
                  ("notes", "'Changed: ' + title"), ("end_date", "None"))
    with clock.frozen(at("2026-03-02T10:00")):
        instance = runtime.start_instance(session, "project_update", people["engineer1"],
                                          request(record, "1", "1"))
        session.commit()
    settle(session, worker, at("2026-03-02T10:00"))
    assert instance.status == "completed"
    values = instance.data["updated"]["values"]
    assert values["budget_amount"] == 1548000 and "end_date" not in values
    assert values["notes"] == "Changed: 双活数据中心 Active-active data centre"


def test_deploy_refuses_an_update_without_fields_or_with_a_bad_parameter():
    assert connectors.problems("update_record", {"form": "'project'", "record": "1"}) == [
        "connector update_record needs at least one set.<name> parameter"]
    found = connectors.problems("update_record", {"form": "'project'", "record": "1",
                                                  "set.budget_amount": "1 +", "sets": "1"})
    assert found[0] == ("connector update_record has no parameter 'sets'; it takes form, "
                        "record, as, set.<name>")
    assert found[1].startswith("parameter 'set.budget_amount': ")


def test_the_record_owner_rule_names_a_reference_field_and_a_person_field():
    assert owners.parse("record:project.project_manager", None) == owners.Rule(
        "record", "project.project_manager")
    with pytest.raises(ValueError, match="record: is followed by a record reference field"):
        owners.parse("record:project", None)


def test_a_record_rule_naming_no_record_field_is_a_finding(session, people):
    source = (ROOT / "definitions" / "flows" / "change_approval.bpmn").read_text()
    broken = source.replace('"record:project.delivery_director"/>',
                            '"record:projekt.delivery_director"/>')
    found = [str(f.message.render()) for f in lint.findings(session, broken.encode(),
                                                            "change_approval.bpmn")]
    assert found == ["the rule 'record:projekt.delivery_director' names 'projekt', which is no "
                     "record field of this flow's forms"]
